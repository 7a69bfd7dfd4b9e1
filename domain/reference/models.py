"""Reference codes: GB/T 2260 regions and GB/T 4754-2017 industries."""

from __future__ import annotations

from sqlmodel import Field, SQLModel

__all__ = ["Industry", "Region"]


class Region(SQLModel, table=True):
    """行政区划 (GB/T 2260)."""

    __tablename__ = "region"

    code: str = Field(primary_key=True, max_length=6)
    name: str = Field(max_length=64)
    level: str = Field(max_length=16)  # province / prefecture / county
    parent_code: str | None = Field(default=None, max_length=6, index=True)


class Industry(SQLModel, table=True):
    """行业 (GB/T 4754-2017): a section letter A–T or a two-digit division."""

    __tablename__ = "industry"

    code: str = Field(primary_key=True, max_length=4)
    name: str = Field(max_length=64)
    level: str = Field(max_length=16)  # section / division
    parent_code: str | None = Field(default=None, max_length=4, index=True)
