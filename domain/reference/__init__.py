"""Static reference data: GB/T 2260 administrative divisions and GB/T 4754-2017 industry classification.

The CSV files live in ``domain/reference/data``.  Loaders read them once (cached) and hand out fresh
copies of the rows, so callers may mutate what they get.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

__all__ = [
    "DATA_DIR",
    "get_industry",
    "get_region",
    "load_industries",
    "load_regions",
    "province_code_of",
]

DATA_DIR = Path(__file__).resolve().parent / "data"

_FIELDS = ("code", "name", "level", "parent_code")


@cache
def _read_csv(filename: str) -> tuple[dict[str, str | None], ...]:
    with (DATA_DIR / filename).open(encoding="utf-8", newline="") as f:
        rows = []
        for row in csv.DictReader(f):
            rows.append({key: (row[key] or None) if key == "parent_code" else row[key] for key in _FIELDS})
    return tuple(rows)


@cache
def _index(filename: str) -> dict[str, dict[str, str | None]]:
    return {row["code"]: row for row in _read_csv(filename)}  # type: ignore[misc]


def load_regions() -> list[dict]:
    """All regions as dicts ``{code, name, level, parent_code}`` (``parent_code`` is ``None`` for provinces).

    ``level`` is one of ``province``, ``prefecture``, ``county``.
    """
    return [dict(row) for row in _read_csv("regions.csv")]


def load_industries() -> list[dict]:
    """GB/T 4754-2017 sections (level ``section``, codes A-T) and divisions (``division``, codes 01-97)."""
    return [dict(row) for row in _read_csv("industries.csv")]


def get_region(code: str) -> dict | None:
    """The region with this exact 6-digit code, or ``None``."""
    row = _index("regions.csv").get(code)
    return dict(row) if row is not None else None


def get_industry(code: str) -> dict | None:
    """The industry section (letter) or division (two digits) with this code, or ``None``."""
    row = _index("industries.csv").get(code)
    return dict(row) if row is not None else None


def province_code_of(region_code: str) -> str:
    """The province-level code (``XX0000``) of any 6-digit region code."""
    return region_code[:2] + "0000"
