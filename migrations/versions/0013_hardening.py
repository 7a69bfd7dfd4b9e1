"""Hardening (issue 8), if any schema change is needed

Revision ID: 0013
Revises: 0012

Placeholder revision (no schema change yet); the owning feature fills it in.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
