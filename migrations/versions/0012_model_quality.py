"""Risk model quality and the risk home: backtest summary etc. (issues 10, 12)

Revision ID: 0012
Revises: 0011

Placeholder revision (no schema change yet); the owning feature fills it in.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
