"""Alembic environment: every table from domain.tables, batch mode on SQLite, type comparison on."""

from __future__ import annotations

from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context

from domain.db import sync_url
from domain.tables import metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = metadata


def _url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        from domain.settings import get_settings

        url = get_settings().database_url
    return sync_url(url)


def render_item(type_: str, obj, autogen_context):
    """Render our own column types (the revision template imports domain.types)."""
    if type_ == "type" and obj.__class__.__module__ == "domain.types":
        return f"domain.types.{obj.__class__.__name__}()"
    return False


def _configure(connection: sa.Connection | None = None, url: str | None = None) -> None:
    is_sqlite = (connection.dialect.name if connection is not None else (url or "")).startswith("sqlite")
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=is_sqlite,
        render_item=render_item,
        literal_binds=connection is None,
    )


def run_migrations_offline() -> None:
    _configure(url=_url())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if isinstance(connection, sa.Engine):  # pytest-alembic hands over an engine
        with connection.begin() as conn:
            _configure(connection=conn)
            context.run_migrations()
        return
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = sa.create_engine(_url(), poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        _configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
