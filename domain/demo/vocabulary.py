"""Vocabulary for the deterministic Suzhou demo dataset (files in ``domain/demo/data``).

Loaders are cached; they return fresh copies so callers may mutate the result.
"""

from __future__ import annotations

import copy
import csv
import json
from functools import cache
from pathlib import Path
from typing import Any

from domain.supervision.models import ITEM_KINDS  # the one definition of the item kinds

__all__ = [
    "DATA_DIR",
    "ITEM_KINDS",
    "load_departments",
    "load_name_parts",
    "load_supervision_items",
]

DATA_DIR = Path(__file__).resolve().parent / "data"



@cache
def _read_csv(filename: str) -> tuple[dict[str, str | None], ...]:
    with (DATA_DIR / filename).open(encoding="utf-8", newline="") as f:
        return tuple({k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(f))


@cache
def _read_json(filename: str) -> Any:
    with (DATA_DIR / filename).open(encoding="utf-8") as f:
        return json.load(f)


def load_departments() -> list[dict]:
    """Departments ``{code, name, level, region_code, parent_code}``; ``level`` is ``city`` or ``district``.

    City departments have ``parent_code`` ``None``; district branches point at their city department.
    """
    return [dict(row) for row in _read_csv("departments.csv")]


def load_supervision_items() -> list[dict]:
    """Supervision catalogue items ``{code, name, department_code, kind, legal_basis}``.

    ``kind`` is one of :data:`ITEM_KINDS`.
    """
    return [dict(row) for row in _read_csv("supervision_items.csv")]


def load_name_parts() -> dict[str, Any]:
    """Word lists for company, shop and officer names, complaint categories and channels."""
    return copy.deepcopy(_read_json("name_parts.json"))
