"""A synthetic city for risk tests and the benchmark: entities with a hidden risk that drives penalties,
failed inspections and complaints, bulk-inserted (executemany) so it scales to a million entities."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import sqlalchemy as sa

from domain.types import utcnow

__all__ = ["ensure_source", "synthetic_city"]

SECTIONS = np.array(list("CEFGHIKLMR"))
REGIONS = np.array(["320505", "320506", "320507", "320508", "320509", "320571", "320581", "320582", "320583",
                    "320585"])


def ensure_source(conn: sa.Connection) -> tuple[int, int]:
    """A department and a data source to hang records on; (department_id, source_id)."""
    dep = conn.execute(sa.text("SELECT id FROM department WHERE code = 'SYN'")).scalar()
    if dep is None:
        conn.execute(sa.text("INSERT INTO department (code, name, level, region_code, active, created_at) "
                             "VALUES ('SYN', '合成数据部门', 'city', '320500', :t, :c)"), {"t": True, "c": utcnow()})
        dep = conn.execute(sa.text("SELECT id FROM department WHERE code = 'SYN'")).scalar()
    src = conn.execute(sa.text("SELECT id FROM data_source WHERE code = 'SYN'")).scalar()
    if src is None:
        conn.execute(sa.text("INSERT INTO data_source (code, name, kind, expected_feeds, active, created_at) "
                             "VALUES ('SYN', '合成数据', 'manual', '[]', :t, :c)"), {"t": True, "c": utcnow()})
        src = conn.execute(sa.text("SELECT id FROM data_source WHERE code = 'SYN'")).scalar()
    return int(dep), int(src)


def _executemany(conn: sa.Connection, sql: str, rows: list[tuple]) -> None:
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        sql = sql.replace("?", "%s")
    cur = raw.cursor()
    try:
        for start in range(0, len(rows), 100_000):
            cur.executemany(sql, rows[start:start + 100_000])
    finally:
        cur.close()


def synthetic_city(conn: sa.Connection, n: int, *, seed: int = 7, end: date = date(2025, 12, 31),
                   years: float = 3.0) -> dict[str, int]:
    """Insert `n` entities and their history up to `end`; returns row counts."""
    rng = np.random.default_rng(seed)
    dep, src = ensure_source(conn)
    first_id = int(conn.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM entity")).scalar()) + 1
    ids = np.arange(first_id, first_id + n)
    section = rng.choice(SECTIONS, n)
    region = rng.choice(REGIONS, n)
    capital = np.round(np.exp(rng.normal(4, 1.5, n)), 2)
    age_days = rng.integers(30, 20 * 365, n)
    founded = [end - timedelta(days=int(d)) for d in age_days]
    # Hidden risk: a latent trait, worse in some industries and for young firms (non-linear on purpose).
    latent = rng.normal(0, 1, n) + np.where(np.isin(section, ["F", "H", "C"]), 0.6, 0.0) \
        + np.where(age_days < 2 * 365, 0.5, 0.0)
    now = utcnow()
    _executemany(conn, "INSERT INTO entity (id, uscc, name, entity_type, industry_code, region_code, "
                 "registered_capital, founded_on, status, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 [(int(i), f"SYN{int(i):015d}", f"合成企业{int(i)}", "company", str(s), str(r), float(c), f, "active",
                   now) for i, s, r, c, f in zip(ids, section, region, capital, founded, strict=True)])
    span = int(years * 365)
    start = end - timedelta(days=span)
    counts = {"entities": n}
    action_rows: list[tuple] = []
    ext = 0

    def events(rate_per_year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = rng.poisson(rate_per_year * years)
        who = np.repeat(ids, k)
        when = rng.integers(0, span, len(who))
        return who, when

    risk = 1 / (1 + np.exp(-(latent - 1.5)))
    who, when = events(0.6 + 0.8 * risk)
    fail = rng.random(len(who)) < (0.05 + 0.6 * risk)[np.searchsorted(ids, who)]
    for w, d, f in zip(who.tolist(), when.tolist(), fail.tolist(), strict=True):
        ext += 1
        day = start + timedelta(days=d)
        action_rows.append((src, f"A{ext}", "inspection", dep, w, day, day + timedelta(days=3),
                            "fail" if f else "pass", None, now))
    counts["inspections"] = len(who)
    who, when = events(0.02 + 0.9 * risk ** 2)
    amount = np.round(rng.lognormal(8, 1, len(who)), 2)
    for w, d, a in zip(who.tolist(), when.tolist(), amount.tolist(), strict=True):
        ext += 1
        day = start + timedelta(days=d)
        action_rows.append((src, f"A{ext}", "penalty", dep, w, day, day + timedelta(days=20), None, a, now))
    counts["penalties"] = len(who)
    _executemany(conn, "INSERT INTO supervision_action (source_id, external_id, kind, department_id, entity_id, "
                 "started_on, decided_on, result, penalty_amount, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 action_rows)
    del action_rows
    who, when = events(0.1 + 2.0 * risk)
    _executemany(conn, "INSERT INTO complaint (source_id, external_id, entity_id, received_on, channel, category, "
                 "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 [(src, f"C{j}", w, start + timedelta(days=d), "12345", "质量", now)
                  for j, (w, d) in enumerate(zip(who.tolist(), when.tolist(), strict=True))])
    counts["complaints"] = len(who)
    listed = rng.random(n) < 0.03 + 0.2 * risk
    who = ids[listed]
    when = rng.integers(0, span, len(who))
    _executemany(conn, "INSERT INTO credit_record (source_id, external_id, entity_id, kind, listed_on, updated_at) "
                 "VALUES (?, ?, ?, ?, ?, ?)",
                 [(src, f"R{j}", int(w), "abnormal_operation", start + timedelta(days=int(d)), now)
                  for j, (w, d) in enumerate(zip(who, when, strict=True))])
    counts["credit"] = len(who)
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('entity', 'id'), (SELECT MAX(id) FROM entity))"))
    return counts
