"""The in-process CLI tests run the commands against the test database: `cli_env` points the settings at it."""

import pytest

from domain.settings import reset_settings


@pytest.fixture
def cli_env(monkeypatch, database_url, tmp_path, db):
    monkeypatch.setenv("REGWATCH_DATABASE_URL", database_url)
    monkeypatch.setenv("REGWATCH_VAR_DIR", str(tmp_path))
    reset_settings()
    yield
    reset_settings()
