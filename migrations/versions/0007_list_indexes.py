"""List indexes for keyset pagination (issue 9)

Revision ID: 0007
Revises: 0006

Placeholder revision (no schema change yet); the owning feature fills it in.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
