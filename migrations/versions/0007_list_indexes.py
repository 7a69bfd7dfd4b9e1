"""List indexes: each hot list's filter + order, so the first page (and any keyset page) needs no sort

Revision ID: 0007
Revises: 0006

`domain.pagination.select_page` chooses a window on the base table with ORDER BY ... LIMIT n + 1 and a keyset
predicate `(order columns) < (cursor values)`. An index on (filter column, order columns..., id) serves that as a
bounded index scan (read backwards for DESC orders) instead of sorting every matching row:

- supervision_action: (department_id, started_on, id) replaces (department_id, started_on) — the department's
  actions newest first (SZ-SCJG: 15,000 rows of 129,000 in the 100k demo city); (item_id, started_on, id) replaces
  (item_id) — an item's actions, and the per-item counts of the item list, from the index alone; (started_on, id)
  — the unfiltered list (analysts, the data centre).
- entity: (name, id) replaces (name) — the entity list's order, ties on a name broken by id in the index;
  (region_code, name, id) replaces (region_code) — a district's entities by name (a city's: a range of codes).
- audit_log: (occurred_at, id) replaces (occurred_at) — the audit trail newest first.
- ingestion_error: (batch_id, record_index, id) replaces (batch_id) — a batch's errors in record order.

The replaced indexes' lookups (by department, item, name, time, batch) use the wider ones as their prefix, so
the number of indexes maintained on ingestion grows by one (supervision_action's started_on, id).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table: [(old index, its columns) or None, (new index, its columns)]
_CHANGES: list[tuple[str, tuple[str, list[str]] | None, tuple[str, list[str]]]] = [
    ("supervision_action", ("ix_supervision_action_department_started", ["department_id", "started_on"]),
     ("ix_supervision_action_department_started_id", ["department_id", "started_on", "id"])),
    ("supervision_action", ("ix_supervision_action_item_id", ["item_id"]),
     ("ix_supervision_action_item_started_id", ["item_id", "started_on", "id"])),
    ("supervision_action", None, ("ix_supervision_action_started_id", ["started_on", "id"])),
    ("entity", ("ix_entity_name", ["name"]), ("ix_entity_name_id", ["name", "id"])),
    ("entity", ("ix_entity_region_code", ["region_code"]),
     ("ix_entity_region_name_id", ["region_code", "name", "id"])),
    ("audit_log", ("ix_audit_log_occurred_at", ["occurred_at"]), ("ix_audit_log_occurred_id", ["occurred_at", "id"])),
    ("ingestion_error", ("ix_ingestion_error_batch_id", ["batch_id"]),
     ("ix_ingestion_error_batch_record", ["batch_id", "record_index", "id"])),
]


def upgrade() -> None:
    for table, old, new in _CHANGES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(new[0], new[1], unique=False)
            if old is not None:
                batch_op.drop_index(old[0])


def downgrade() -> None:
    for table, old, new in reversed(_CHANGES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            if old is not None:
                batch_op.create_index(old[0], old[1], unique=False)
            batch_op.drop_index(new[0])
