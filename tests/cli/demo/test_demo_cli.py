"""`regwatch demo` run as a real process into a fresh database, and the first-run step that loads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from domain.db import Database
from tests.support import create_database, drop_database

ROOT = Path(__file__).resolve().parents[3]


def regwatch(*args: str, url: str, var_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REGWATCH_DATABASE_URL": url, "REGWATCH_VAR_DIR": str(var_dir), "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def fresh_url(tmp_path):
    url = create_database(tmp_path, "demo")
    yield url
    drop_database(url)


def counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return {name: conn.exec_driver_sql(f"SELECT COUNT(*) FROM {name}").scalar_one()
                    for name in ("entity", "supervision_action", "complaint", "credit_record", "supervision_item",
                                 "department", "data_source", "ingestion_batch", "ingestion_error")}
    finally:
        db.dispose()


def test_demo_builds_a_city_in_a_fresh_database_and_a_second_run_changes_nothing(tmp_path, fresh_url):
    assert regwatch("migrate", url=fresh_url, var_dir=tmp_path).returncode == 0
    first = regwatch("demo", "--entities", "500", "--seed", "3", "--end-date", "2026-06-30", url=fresh_url,
                     var_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "500/500" in first.stdout and "entities" in first.stdout
    loaded = counts(fresh_url)
    assert loaded["entity"] == 500 and loaded["supervision_item"] == 208 and loaded["department"] == 31
    assert loaded["data_source"] == 9 and loaded["supervision_action"] > 500 and loaded["complaint"] > 100
    assert loaded["credit_record"] > 0 and loaded["ingestion_error"] >= 8

    again = regwatch("demo", "--entities", "500", "--seed", "3", "--end-date", "2026-06-30", url=fresh_url,
                     var_dir=tmp_path)
    assert again.returncode == 0, again.stderr
    after = counts(fresh_url)
    assert {k: v for k, v in after.items() if not k.startswith("ingestion")} == {
        k: v for k, v in loaded.items() if not k.startswith("ingestion")}
    assert after["ingestion_batch"] == 2 * loaded["ingestion_batch"]  # each run is recorded, nothing doubled

    jobs = regwatch("jobs", "list", url=fresh_url, var_dir=tmp_path)
    assert "demo" in jobs.stdout and "succeeded" in jobs.stdout


def test_bad_arguments_are_refused_before_anything_is_written(tmp_path, fresh_url):
    assert regwatch("migrate", url=fresh_url, var_dir=tmp_path).returncode == 0
    bad_date = regwatch("demo", "--entities", "10", "--end-date", "30/06/2026", url=fresh_url, var_dir=tmp_path)
    assert bad_date.returncode == 2 and "--end-date" in bad_date.stderr
    bad_size = regwatch("demo", "--entities", "0", url=fresh_url, var_dir=tmp_path)
    assert bad_size.returncode == 2 and "--entities" in bad_size.stderr
    assert counts(fresh_url)["entity"] == 0


def test_the_setup_step_loads_the_city_only_into_a_database_without_entities(tmp_path, fresh_url, monkeypatch):
    from cli.demo import load_demo_if_empty
    from domain.demo import service
    from domain.settings import reset_settings

    assert regwatch("migrate", url=fresh_url, var_dir=tmp_path).returncode == 0
    monkeypatch.setenv("REGWATCH_DATABASE_URL", fresh_url)
    monkeypatch.setenv("REGWATCH_VAR_DIR", str(tmp_path))
    monkeypatch.setattr(service, "DEFAULT_ENTITIES", 60)  # the real default (20,000) is the same code path
    reset_settings()
    try:
        load_demo_if_empty()
        assert counts(fresh_url)["entity"] == 60
        monkeypatch.setattr(service, "DEFAULT_ENTITIES", 80)
        load_demo_if_empty()
        assert counts(fresh_url)["entity"] == 60
    finally:
        reset_settings()
