"""identity changes NOTIFY regwatch_identity (PostgreSQL): the per-process cache of bearer-token checks

Revision ID: 0020
Revises: 0019

Every request with a bearer token read its token and user first (one statement and a round trip). Each server
process now keeps the checks of tokens that passed (domain.identity.token_cache) while its LISTEN connection is
up, and clears them on any notification on the channel "regwatch_identity". These triggers send one after any
change to what that cache holds: on api_token revoked_at, expires_at, user_id, token_hash (not last_used_at,
refreshed once a minute by every check); on app_user username, roles, department_id, active (not sign-in times
nor session versions); any DELETE; a TRUNCATE. The payload names the row ("api_token:7", "app_user:3"; the table
alone for a TRUNCATE); a listener clears everything whatever it says. NOTIFY is sent at commit, never for a rolled
back change. SQLite: nothing (the cache is never used there); no table or data is touched.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = "regwatch_identity_notify"
# table -> the columns whose change matters (compared as a row: IS DISTINCT FROM handles NULLs); roles is JSON,
# which has no equality operator, so it is compared as jsonb
WATCHED = {
    "api_token": ("id", "user_id", "token_hash", "revoked_at", "expires_at"),
    "app_user": ("id", "username", "roles::jsonb", "department_id", "active"),
}


def _row(prefix: str, columns: Sequence[str]) -> str:
    return "(" + ", ".join(f"{prefix}.{c}" for c in columns) + ")"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_LEVEL = 'STATEMENT' THEN
                PERFORM pg_notify('regwatch_identity', TG_TABLE_NAME);
            ELSE
                PERFORM pg_notify('regwatch_identity', TG_TABLE_NAME || ':' || OLD.id);
            END IF;
            RETURN NULL;
        END
        $$""")
    for table, columns in WATCHED.items():
        op.execute(f"CREATE TRIGGER {table}_identity_update AFTER UPDATE ON {table} FOR EACH ROW "
                   f"WHEN ({_row('OLD', columns)} IS DISTINCT FROM {_row('NEW', columns)}) "
                   f"EXECUTE FUNCTION {FUNCTION}()")
        op.execute(f"CREATE TRIGGER {table}_identity_delete AFTER DELETE ON {table} FOR EACH ROW "
                   f"EXECUTE FUNCTION {FUNCTION}()")
        op.execute(f"CREATE TRIGGER {table}_identity_truncate AFTER TRUNCATE ON {table} FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION {FUNCTION}()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in WATCHED:
        for event in ("update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_identity_{event} ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
