"""Throwaway databases for the benchmarks (the tests use the same helpers from tests/support.py)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support import create_database as _create
from tests.support import drop_database as _drop

__all__ = ["PG_ADMIN_URL", "create_database", "drop_database"]

PG_ADMIN_URL = os.environ.get("REGWATCH_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def create_database(backend: str, workdir: Path, label: str) -> str:
    return _create(workdir, label, backend=backend, admin_url=PG_ADMIN_URL)


def drop_database(url: str) -> None:
    _drop(url, admin_url=PG_ADMIN_URL)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
