"""The operator's commands, run as real processes against a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import create_database, drop_database

ROOT = Path(__file__).resolve().parents[2]


def regwatch(*args: str, url: str, var_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REGWATCH_DATABASE_URL": url, "REGWATCH_VAR_DIR": str(var_dir), "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def fresh_url(tmp_path):
    url = create_database(tmp_path, "cli")
    yield url
    drop_database(url)


def test_help_lists_the_commands(tmp_path, fresh_url):
    result = regwatch("--help", url=fresh_url, var_dir=tmp_path)
    assert result.returncode == 0
    for command in ("serve", "migrate", "setup", "jobs"):
        assert command in result.stdout


def test_migrate_brings_an_empty_database_to_head_and_serve_refuses_before(tmp_path, fresh_url):
    refused = regwatch("serve", "--port", "1", url=fresh_url, var_dir=tmp_path)
    assert refused.returncode == 1 and "run `regwatch migrate`" in refused.stderr.replace("\n", " ")
    migrated = regwatch("migrate", url=fresh_url, var_dir=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert "database at migration" in migrated.stdout
    assert regwatch("check-db", url=fresh_url, var_dir=tmp_path).returncode == 0


def test_a_bad_setting_is_reported_by_name(tmp_path, fresh_url):
    env_result = subprocess.run([sys.executable, "-m", "cli", "check-db"], cwd=ROOT, capture_output=True, text=True,
                                env={**os.environ, "REGWATCH_PORT": "http", "REGWATCH_VAR_DIR": str(tmp_path)})
    assert env_result.returncode == 2 and "REGWATCH_PORT" in env_result.stderr


@pytest.mark.parametrize("command", [("users", "list"), ("jobs", "list"), ("departments", "list")])
def test_commands_on_an_empty_database_say_to_migrate_without_a_traceback(tmp_path, fresh_url, command):
    result = regwatch(*command, url=fresh_url, var_dir=tmp_path)
    assert result.returncode == 1
    text = " ".join((result.stdout + result.stderr).split())
    assert "数据库未迁移到最新版本" in text and "regwatch migrate" in text
    assert "Traceback" not in text and "no such table" not in text and "UndefinedTable" not in text


def test_a_database_one_migration_behind_is_refused_until_migrated(tmp_path, fresh_url):
    assert regwatch("migrate", "0005", url=fresh_url, var_dir=tmp_path).returncode == 0
    behind = regwatch("jobs", "list", url=fresh_url, var_dir=tmp_path)
    assert behind.returncode == 1 and "当前 0005" in " ".join(behind.stderr.split()), behind.stderr
    assert regwatch("check-db", url=fresh_url, var_dir=tmp_path).returncode == 1
    assert regwatch("migrate", url=fresh_url, var_dir=tmp_path).returncode == 0
    listed = regwatch("jobs", "list", url=fresh_url, var_dir=tmp_path)
    assert listed.returncode == 0, listed.stderr
