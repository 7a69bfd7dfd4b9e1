"""Configuration from REGWATCH_* environment variables, validated at start."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

__all__ = ["Settings", "SettingsError", "get_settings", "reset_settings"]

ENVIRONMENTS = ("dev", "prod")


class SettingsError(ValueError):
    """A configuration value is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    env: str = "dev"
    secret_key: str = field(default="", repr=False)
    var_dir: Path = Path("var")
    log_level: str = "INFO"
    session_max_age: int = 8 * 3600
    graphql_max_depth: int = 12
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 5000
    max_page_size: int = 200
    score_daily_at: str | None = "02:00"  # daily scoring run, local time; None = off
    drift_psi_threshold: float = 0.2  # PSI above this flags drift on the model page
    clue_dedup_days: int = 30  # a clue about the same entity and category within this many days is a duplicate
    warning_auto_min_level: str | None = "yellow"  # automatic issue after scoring from this level up; None = off
    overdue_escalate: bool = True  # the overdue sweep raises an overdue warning on the dashboard (issue 14)
    # Hardening limits (README "Limits")
    max_body_bytes: int = 8 * 1024 * 1024  # GraphQL and form bodies
    max_upload_bytes: int = 256 * 1024 * 1024  # file imports (POST /imports)
    graphql_max_cost: int = 50_000  # estimated fields a document may ask for (connections multiply by page size)
    trusted_proxies: tuple[str, ...] = ()  # addresses whose X-Forwarded-For is believed; none by default
    job_heartbeat_seconds: float = 5.0  # a running job refreshes its heartbeat this often
    job_stale_seconds: float = 30.0  # a running job without a heartbeat this long is marked failed

    @property
    def is_prod(self) -> bool:
        return self.env == "prod"

    @property
    def backend(self) -> str:
        return "postgresql" if self.database_url.startswith("postgresql") else "sqlite"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        var_dir = Path(env.get("REGWATCH_VAR_DIR", "var")).resolve()
        mode = env.get("REGWATCH_ENV", "dev").strip().lower()
        if mode not in ENVIRONMENTS:
            raise SettingsError(f"REGWATCH_ENV must be one of {', '.join(ENVIRONMENTS)}, got {mode!r}")

        url = env.get("REGWATCH_DATABASE_URL", "").strip() or f"sqlite:///{var_dir / 'regwatch.db'}"
        if not (url.startswith("sqlite:") or url.startswith("postgresql")):
            raise SettingsError(
                "REGWATCH_DATABASE_URL must be a sqlite:/// or postgresql:// URL, " f"got {url.split(':')[0]!r}"
            )

        port_text = env.get("REGWATCH_PORT", "8000").strip()
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SettingsError(f"REGWATCH_PORT must be a number between 1 and 65535, got {port_text!r}")

        secret = env.get("REGWATCH_SECRET_KEY", "").strip()
        if not secret:
            if mode == "prod":
                raise SettingsError("REGWATCH_SECRET_KEY is required when REGWATCH_ENV=prod")
            secret = _dev_secret(var_dir)
        elif len(secret) < 32:
            raise SettingsError("REGWATCH_SECRET_KEY must be at least 32 characters long")

        def number(name: str, default: int) -> int:
            text = env.get(name, str(default)).strip()
            if not text.isdigit() or int(text) <= 0:
                raise SettingsError(f"{name} must be a positive whole number, got {text!r}")
            return int(text)

        daily = env.get("REGWATCH_SCORE_DAILY_AT", "02:00").strip().lower()
        if daily in ("", "off", "none"):
            score_daily_at = None
        elif re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", daily):
            score_daily_at = daily
        else:
            raise SettingsError(f"REGWATCH_SCORE_DAILY_AT must be HH:MM (24-hour) or off, got {daily!r}")

        psi_text = env.get("REGWATCH_DRIFT_PSI_THRESHOLD", "0.2").strip()
        try:
            drift_psi_threshold = float(psi_text)
        except ValueError:
            drift_psi_threshold = -1.0
        if not 0 < drift_psi_threshold < 10:
            raise SettingsError(f"REGWATCH_DRIFT_PSI_THRESHOLD must be a number above 0 (e.g. 0.2), got {psi_text!r}")

        proxies = tuple(p.strip() for p in env.get("REGWATCH_TRUSTED_PROXIES", "").split(",") if p.strip())
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise SettingsError("REGWATCH_TRUSTED_PROXIES must be a comma-separated list of IP addresses or "
                                    f"networks (e.g. 10.0.0.5,10.1.0.0/16), got {proxy!r}") from None
        heartbeat = number("REGWATCH_JOB_HEARTBEAT_SECONDS", 5)
        stale = number("REGWATCH_JOB_STALE_SECONDS", 30)
        if stale < 3 * heartbeat:
            raise SettingsError("REGWATCH_JOB_STALE_SECONDS must be at least three heartbeats "
                                f"(3 × REGWATCH_JOB_HEARTBEAT_SECONDS = {3 * heartbeat}), got {stale}")

        auto_level = env.get("REGWATCH_WARNING_AUTO_MIN_LEVEL", "yellow").strip().lower()
        if auto_level not in ("red", "orange", "yellow", "blue", "off", "none", ""):
            raise SettingsError("REGWATCH_WARNING_AUTO_MIN_LEVEL must be red, orange, yellow, blue or off, "
                                f"got {auto_level!r}")

        escalate = env.get("REGWATCH_OVERDUE_ESCALATE", "on").strip().lower()
        if escalate not in ("on", "off", "true", "false", "1", "0", "yes", "no"):
            raise SettingsError(f"REGWATCH_OVERDUE_ESCALATE must be on or off, got {escalate!r}")

        return cls(
            overdue_escalate=escalate in ("on", "true", "1", "yes"),
            max_body_bytes=number("REGWATCH_MAX_BODY_BYTES", 8 * 1024 * 1024),
            graphql_max_depth=number("REGWATCH_GRAPHQL_MAX_DEPTH", 12),
            graphql_max_aliases=number("REGWATCH_GRAPHQL_MAX_ALIASES", 30),
            graphql_max_tokens=number("REGWATCH_GRAPHQL_MAX_TOKENS", 5000),
            max_upload_bytes=number("REGWATCH_MAX_UPLOAD_BYTES", 256 * 1024 * 1024),
            graphql_max_cost=number("REGWATCH_GRAPHQL_MAX_COST", 50_000),
            trusted_proxies=proxies,
            job_heartbeat_seconds=float(heartbeat),
            job_stale_seconds=float(stale),
            database_url=url,
            host=env.get("REGWATCH_HOST", "127.0.0.1").strip() or "127.0.0.1",
            port=int(port_text),
            env=mode,
            secret_key=secret,
            var_dir=var_dir,
            log_level=env.get("REGWATCH_LOG_LEVEL", "INFO").upper(),
            session_max_age=number("REGWATCH_SESSION_MAX_AGE", 8 * 3600),
            max_page_size=number("REGWATCH_MAX_PAGE_SIZE", 200),
            score_daily_at=score_daily_at,
            drift_psi_threshold=drift_psi_threshold,
            clue_dedup_days=number("REGWATCH_CLUE_DEDUP_DAYS", 30),
            warning_auto_min_level=None if auto_level in ("off", "none", "") else auto_level,
        )


def _dev_secret(var_dir: Path) -> str:
    """Generate the dev secret once and keep it, so sessions survive restarts and workers agree."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker wrote it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secret)
    return secret


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


def reset_settings() -> None:
    get_settings.cache_clear()
