"""Risk clues, warnings, routing, deadlines, working-day calendar (issue 13)

Revision ID: 0009
Revises: 0008

Placeholder revision (no schema change yet); the owning feature fills it in.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
