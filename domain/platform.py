"""Facts about the running platform."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from sqlmodel import Session

from domain.schema_version import current_revision

__all__ = ["app_version", "server_info"]


def app_version() -> str:
    try:
        return version("regwatch")
    except PackageNotFoundError:
        return "0.0.0+unknown"


def server_info(session: Session) -> dict[str, str | None]:
    connection = session.connection()
    return {
        "version": app_version(),
        "database_backend": connection.dialect.name,
        "migration_head": current_revision(connection),
    }
