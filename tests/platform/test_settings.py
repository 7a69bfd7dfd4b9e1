"""Configuration: defaults, validation with messages that name the variable, the dev secret kept on disk."""

import pytest

from domain.settings import Settings, SettingsError


def test_defaults_use_a_sqlite_file_under_var(tmp_path):
    s = Settings.from_env({"REGWATCH_VAR_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'regwatch.db'}"
    assert (s.host, s.port, s.env, s.backend) == ("127.0.0.1", 8000, "dev", "sqlite")


def test_dev_secret_is_generated_once_and_kept(tmp_path):
    first = Settings.from_env({"REGWATCH_VAR_DIR": str(tmp_path)}).secret_key
    second = Settings.from_env({"REGWATCH_VAR_DIR": str(tmp_path)}).secret_key
    assert len(first) >= 32 and first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"REGWATCH_ENV": "staging"}, "REGWATCH_ENV"),
        ({"REGWATCH_PORT": "eighty"}, "REGWATCH_PORT"),
        ({"REGWATCH_PORT": "70000"}, "REGWATCH_PORT"),
        ({"REGWATCH_DATABASE_URL": "mysql://x"}, "REGWATCH_DATABASE_URL"),
        ({"REGWATCH_ENV": "prod"}, "REGWATCH_SECRET_KEY"),
        ({"REGWATCH_SECRET_KEY": "short"}, "REGWATCH_SECRET_KEY"),
        ({"REGWATCH_MAX_PAGE_SIZE": "0"}, "REGWATCH_MAX_PAGE_SIZE"),
        ({"REGWATCH_DRIFT_PSI_THRESHOLD": "high"}, "REGWATCH_DRIFT_PSI_THRESHOLD"),
        ({"REGWATCH_DRIFT_PSI_THRESHOLD": "0"}, "REGWATCH_DRIFT_PSI_THRESHOLD"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(tmp_path, env, names):
    with pytest.raises(SettingsError, match=names):
        Settings.from_env({"REGWATCH_VAR_DIR": str(tmp_path), **env})


def test_prod_with_a_secret_is_accepted(tmp_path):
    s = Settings.from_env({"REGWATCH_VAR_DIR": str(tmp_path), "REGWATCH_ENV": "prod",
                           "REGWATCH_SECRET_KEY": "k" * 40, "REGWATCH_DATABASE_URL": "postgresql://u@h/db"})
    assert s.is_prod and s.backend == "postgresql" and not (tmp_path / "secret_key").exists()


def test_hardening_limits_have_defaults_and_are_read_from_the_environment(tmp_path):
    defaults = Settings.from_env({"REGWATCH_VAR_DIR": str(tmp_path)})
    assert (defaults.max_body_bytes, defaults.max_upload_bytes) == (8 << 20, 256 << 20)
    assert (defaults.graphql_max_depth, defaults.graphql_max_aliases, defaults.graphql_max_tokens,
            defaults.graphql_max_cost) == (12, 30, 5000, 50_000)
    assert defaults.trusted_proxies == ()
    custom = Settings.from_env({
        "REGWATCH_VAR_DIR": str(tmp_path), "REGWATCH_MAX_BODY_BYTES": "1024", "REGWATCH_MAX_UPLOAD_BYTES": "2048",
        "REGWATCH_GRAPHQL_MAX_DEPTH": "5", "REGWATCH_GRAPHQL_MAX_ALIASES": "3", "REGWATCH_GRAPHQL_MAX_TOKENS": "99",
        "REGWATCH_GRAPHQL_MAX_COST": "77", "REGWATCH_TRUSTED_PROXIES": "10.0.0.5, 10.1.0.0/16"})
    assert (custom.max_body_bytes, custom.max_upload_bytes, custom.graphql_max_depth, custom.graphql_max_aliases,
            custom.graphql_max_tokens, custom.graphql_max_cost) == (1024, 2048, 5, 3, 99, 77)
    assert custom.trusted_proxies == ("10.0.0.5", "10.1.0.0/16")


@pytest.mark.parametrize(("name", "value"), [("REGWATCH_TRUSTED_PROXIES", "proxy.local"),
                                             ("REGWATCH_MAX_BODY_BYTES", "4MB"),
                                             ("REGWATCH_GRAPHQL_MAX_COST", "-1")])
def test_a_bad_limit_stops_the_start_naming_the_variable(tmp_path, name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({"REGWATCH_VAR_DIR": str(tmp_path), name: value})
