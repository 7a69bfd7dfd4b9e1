"""Reference data in the database: loading the shipped GB/T 2260 / GB/T 4754 files, and reading them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from domain.reference import load_industries, load_regions
from domain.reference.models import Industry, Region
from domain.types import table_of

__all__ = ["list_industries", "list_regions", "load_reference_data"]


def load_reference_data(connection: sa.Connection) -> dict[str, int]:
    """Upsert the shipped regions and industries (idempotent); returns how many of each."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    counts = {}
    for model, rows in ((Region, load_regions()), (Industry, load_industries())):
        table = table_of(model)
        stmt = insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=["code"], set_={c: stmt.excluded[c] for c in ("name", "level", "parent_code")})
        connection.execute(stmt, rows)
        counts[table.name] = len(rows)
    return counts


def list_regions(session: Session, *, parent_code: str | None = None, level: str | None = None,
                 search: str | None = None) -> list[Region]:
    """Regions (行政区划), public reference data."""
    stmt = select(Region).order_by(col(Region.code))
    if parent_code:
        stmt = stmt.where(col(Region.parent_code) == parent_code)
    if level:
        stmt = stmt.where(col(Region.level) == level)
    if search:
        stmt = stmt.where(sa.or_(col(Region.name).contains(search), col(Region.code).startswith(search)))
    return list(session.exec(stmt))


def list_industries(session: Session, *, parent_code: str | None = None, level: str | None = None,
                    search: str | None = None) -> list[Industry]:
    """Industries (国民经济行业分类), public reference data."""
    stmt = select(Industry).order_by(col(Industry.level).desc(), col(Industry.code))
    if parent_code:
        stmt = stmt.where(col(Industry.parent_code) == parent_code)
    if level:
        stmt = stmt.where(col(Industry.level) == level)
    if search:
        stmt = stmt.where(sa.or_(col(Industry.name).contains(search), col(Industry.code).startswith(search)))
    return list(session.exec(stmt))
