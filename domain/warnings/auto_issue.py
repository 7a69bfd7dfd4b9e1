"""Automatic issue after a scoring run (预警自动发布), set-based: every entity at or above the minimum level with no
open warning gets one, an open warning at a lower level is raised (an event each), never a second open warning.
A few statements whatever the number of entities; the scoring job calls `issue_after_scoring` after its commit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from domain.audit.service import record_audit
from domain.errors import InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.policy import require
from domain.risk.models import RiskScore, ScoringRun
from domain.supervision.models import Entity
from domain.types import LOCAL_TZ, utcnow
from domain.warnings.deadlines import WorkdayCalendar, deadline_settings, deadlines_for
from domain.warnings.models import LEVELS, OPEN_STATUSES, Warning, WarningEvent, industry_section_sql
from domain.warnings.routing import routing_columns
from domain.warnings.service import SCORE_ROLES, level_rank, reserve_codes

__all__ = ["AutoIssueResult", "auto_issue_warnings", "issue_after_scoring"]

AUTO_ISSUE_SQLITE_CACHE_KIB = 256 * 1024  # SQLite page cache while the automatic issue writes (pages touched only)
# PostgreSQL, for the automatic issue's statements only: JIT compiles for seconds and saves nothing on statements
# like these; the code numbering's and the outbox's sorts of 100,000 rows fit in memory instead of spilling to disk
AUTO_ISSUE_PG_SETTINGS = {"jit": "off", "work_mem": "64MB"}


def _inserted(session: Session, stmt: Any) -> int:
    """Run an INSERT … SELECT and return how many rows it inserted (without fetching them back)."""
    return int(session.execute(stmt.execution_options(preserve_rowcount=True)).rowcount)  # type: ignore[attr-defined]


def _saved_id(value: int | None) -> int:
    if value is None:
        raise RuntimeError("expected a saved row's id")
    return value


def _rank_sql(column: Any) -> Any:
    return sa.case({lvl: i for i, lvl in enumerate(LEVELS)}, value=column, else_=len(LEVELS))


@dataclass(frozen=True)
class AutoIssueResult:
    run_id: int
    min_level: str | None
    issued: int
    raised: int
    unrouted: int
    seconds: float
    # seconds per step (raise, candidates, routes, warnings, issue_events, outbox …), for the benchmarks and logs
    steps: dict[str, float] = field(default_factory=dict)


class _Laps:
    """Seconds per named step, in order."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}
        self._t = time.perf_counter()

    def __call__(self, name: str) -> None:
        t = time.perf_counter()
        self.steps[name] = round(self.steps.get(name, 0.0) + t - self._t, 3)
        self._t = t


def auto_issue_warnings(session: Session, actor: Actor, run_id: int, *, min_level: str | None = "yellow",
                        now: datetime | None = None) -> AutoIssueResult:
    """After a scoring run: every entity at or above `min_level` with no open warning gets one; an open warning at a
    lower level is raised (an event each). A few set-based statements whatever the number of entities (the routing
    rules are evaluated once per district and industry pair, not per entity), plus the code reservation. Entities
    no routing rule covers are left out and counted (configure a default department)."""
    require(actor, "warnings.work")
    started = time.perf_counter()
    run = session.get(ScoringRun, run_id)
    if run is None:
        raise NotFound(f"评分批次 {run_id} 不存在", field="run_id")
    if min_level is None or run.role not in SCORE_ROLES:
        return AutoIssueResult(run_id, min_level, 0, 0, 0, 0.0)
    if min_level not in LEVELS:
        raise InvalidInput(f"自动发布的最低等级“{min_level}”无效", field="min_level", code="unknown_level")
    now = now or utcnow()
    wanted = list(LEVELS[: level_rank(min_level) + 1])
    lap = _Laps()
    with _bulk_write_settings(session):
        lap("settings")
        issued, raised, total, routed = _issue_and_raise(session, actor, run, run_id, wanted, now, lap)
    record_audit(session, actor, "warning.auto_issue", "scoring_run", run_id,
                 {"min_level": min_level, "issued": issued, "raised": raised, "unrouted": total - routed})
    session.flush()
    lap("audit")
    return AutoIssueResult(run_id, min_level, issued, raised, total - routed, round(time.perf_counter() - started, 3),
                           lap.steps)


@contextmanager
def _bulk_write_settings(session: Session) -> Iterator[None]:
    """Per-transaction settings for the automatic issue's large statements, undone afterwards (after a failure
    the transaction's rollback undoes them)."""
    if session.get_bind().dialect.name == "postgresql":
        # the planner must know how many open warnings there are now (a first run finds none, the next 100,000),
        # or it anti-joins the run against a table it believes empty by scanning it per row
        session.execute(sa.text("ANALYZE risk_warning"))
        previous = {name: _set_local(session, name, value) for name, value in AUTO_ISSUE_PG_SETTINGS.items()}
        yield
        for name, value in previous.items():
            _set_local(session, name, value)
        return
    # 100,000 rows into a dozen indexes at random places: with SQLite's default 2 MB page cache most of that is
    # re-reading and re-writing the same pages (24 s instead of 68 s at load 18); the connection's own value after
    before = int(session.execute(sa.text("PRAGMA cache_size")).scalar_one())
    session.execute(sa.text(f"PRAGMA cache_size = {-AUTO_ISSUE_SQLITE_CACHE_KIB}"))
    try:
        yield
    finally:
        session.execute(sa.text(f"PRAGMA cache_size = {before}"))


def _set_local(session: Session, name: str, value: str) -> str:
    """Set a PostgreSQL setting for the rest of the transaction; returns the value it had."""
    before = session.execute(sa.text("SELECT current_setting(:name)"), {"name": name}).scalar_one()
    session.execute(sa.text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value})
    return str(before)


def _issue_and_raise(session: Session, actor: Actor, run: ScoringRun, run_id: int, wanted: list[str],
                     now: datetime, lap: _Laps) -> tuple[int, int, int, int]:
    """The set-based steps: (issued, raised, candidates, routed candidates)."""
    s = RiskScore.__table__  # type: ignore[attr-defined]
    w = Warning.__table__  # type: ignore[attr-defined]
    e = Entity.__table__  # type: ignore[attr-defined]
    ev = WarningEvent.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    json_obj = sa.func.json_build_object if dialect == "postgresql" else sa.func.json_object

    def as_json(column: Any) -> Any:
        return column if dialect == "postgresql" else sa.func.json(sa.func.coalesce(column, "null"))

    open_w = sa.and_(w.c.entity_id == s.c.entity_id, w.c.status.in_(OPEN_STATUSES))
    in_run = sa.and_(s.c.run_id == run_id, s.c.level.in_(wanted))
    events_before = session.execute(sa.select(sa.func.coalesce(sa.func.max(ev.c.id), 0))).scalar_one()

    # 1. raise: open warnings below this run's level for their entity (event first, from the same rows)
    higher = (sa.select(w.c.id.label("warning_id"), w.c.level.label("old"), s.c.level.label("new"),
                        w.c.department_id, s.c.score)
              .join(s, open_w).where(in_run, _rank_sql(s.c.level) < _rank_sql(w.c.level)))
    hi = higher.subquery()
    raised = _inserted(session, sa.insert(ev).from_select(
        ["warning_id", "kind", "actor_id", "actor_name", "department_id", "at", "comment", "payload"],
        sa.select(hi.c.warning_id, sa.literal("raise_level"), sa.null(), sa.literal(actor.username),
                  hi.c.department_id, sa.literal(now, w.c.created_at.type), sa.literal(f"评分批次 {run_id} 将等级提升"),
                  json_obj("from", hi.c.old, "to", hi.c.new, "run_id", run_id, "score", hi.c.score))))
    lap("raise_events")
    if raised:
        new_level = (sa.select(s.c.level).where(s.c.run_id == run_id, s.c.entity_id == w.c.entity_id)
                     .scalar_subquery())
        session.execute(sa.update(w).where(w.c.status.in_(OPEN_STATUSES), sa.exists(
            sa.select(1).select_from(s).where(in_run, s.c.entity_id == w.c.entity_id,
                                              _rank_sql(s.c.level) < _rank_sql(w.c.level))))
            .values(level=new_level, row_version=w.c.row_version + 1, updated_at=now))
        lap("raise_update")

    # 2. issue: the candidates (at or above the level, no open warning) into a temporary table with the entity's
    #    district and industry; their routes once per distinct (industry, district) pair — the routing subqueries
    #    run a few hundred times, not once per entity; then one insert of the routed ones with consecutive codes
    #    and one insert of their events
    #    The run's qualifying scores go into a temporary table of their own first, analyzed: a run that was just
    #    written lies past risk_score's statistics (PostgreSQL then expects a few dozen rows and looks every
    #    candidate's entity up by its key, 100,000 random reads, instead of one pass over the entities), and the
    #    warnings' explanation columns come from there instead of a second lookup per score.
    scores = sa.Table("rw_auto_score", sa.MetaData(), sa.Column("score_id", sa.Integer),
                      sa.Column("entity_id", sa.Integer), sa.Column("level", sa.String(16)),
                      sa.Column("score", sa.Float), sa.Column("model_level", sa.String(16)),
                      sa.Column("rules_matched", s.c.rules_matched.type),
                      sa.Column("contributions", s.c.contributions.type), prefixes=["TEMPORARY"])
    cand = sa.Table("rw_auto_issue", sa.MetaData(), sa.Column("score_id", sa.Integer),
                    sa.Column("entity_id", sa.Integer), sa.Column("level", sa.String(16)), sa.Column("score", sa.Float),
                    sa.Column("region_code", sa.String(6)), sa.Column("industry_code", sa.String(4)),
                    prefixes=["TEMPORARY"])
    routes = sa.Table("rw_auto_route", sa.MetaData(), sa.Column("region_key", sa.String(6)),
                      sa.Column("industry_key", sa.String(4)), sa.Column("department_id", sa.Integer),
                      sa.Column("routing_rule_id", sa.Integer), sa.Column("industry_section", sa.String(4)),
                      sa.Index("ix_rw_auto_route_key", "region_key", "industry_key"), prefixes=["TEMPORARY"])
    conn = session.connection()
    temporary = ("rw_auto_score", "rw_auto_issue", "rw_auto_route")
    for name in temporary:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    for table in (scores, cand, routes):
        table.create(conn)
    try:
        conn.execute(sa.insert(scores).from_select(
            ["score_id", "entity_id", "level", "score", "model_level", "rules_matched", "contributions"],
            sa.select(s.c.id, s.c.entity_id, s.c.level, s.c.score, s.c.model_level, s.c.rules_matched,
                      s.c.contributions)
            .where(in_run, ~sa.exists(sa.select(1).select_from(w).where(open_w)))))
        if dialect == "postgresql":
            conn.exec_driver_sql("ANALYZE rw_auto_score")
        conn.execute(sa.insert(cand).from_select(
            ["score_id", "entity_id", "level", "score", "region_code", "industry_code"],
            sa.select(scores.c.score_id, scores.c.entity_id, scores.c.level, scores.c.score, e.c.region_code,
                      e.c.industry_code)
            .join(e, e.c.id == scores.c.entity_id)))
        lap("candidates")
        pairs = sa.select(cand.c.region_code, cand.c.industry_code).distinct().subquery()
        route = routing_columns(sa.null(), pairs.c.industry_code, pairs.c.region_code)
        # the industry section too, once per pair (the warning records it; per candidate it was a lookup each)
        conn.execute(sa.insert(routes).from_select(
            ["region_key", "industry_key", "department_id", "routing_rule_id", "industry_section"],
            sa.select(sa.func.coalesce(pairs.c.region_code, ""), sa.func.coalesce(pairs.c.industry_code, ""),
                      route["department_id"], route["routing_rule_id"], industry_section_sql(pairs.c.industry_code))))
        if dialect == "postgresql":
            conn.exec_driver_sql("ANALYZE rw_auto_issue")
            conn.exec_driver_sql("ANALYZE rw_auto_route")
        routed_cand = cand.join(routes, sa.and_(routes.c.region_key == sa.func.coalesce(cand.c.region_code, ""),
                                                routes.c.industry_key == sa.func.coalesce(cand.c.industry_code, "")))
        total = conn.execute(sa.select(sa.func.count()).select_from(cand)).scalar_one()
        routed = conn.execute(sa.select(sa.func.count()).select_from(routed_cand)
                              .where(routes.c.department_id.is_not(None))).scalar_one()
        lap("routes")
        issued = 0
        if routed:
            issued = _insert_issued(session, actor, run, scores, cand, routes, routed_cand, routed, wanted, now,
                                    json_obj, as_json, lap)
    finally:
        for name in temporary:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    if issued or raised:
        _outbox_for_bulk_events(session, events_before, now, json_obj)
        lap("outbox")
    return issued, raised, total, routed


def _insert_issued(session: Session, actor: Actor, run: ScoringRun, s: sa.Table, cand: sa.Table, routes: sa.Table,
                   routed_cand: Any, routed: int, wanted: list[str], now: datetime, json_obj: Any,
                   as_json: Any, lap: _Laps) -> int:
    """The routed candidates become warnings (codes numbered by score, highest first) with their issue events;
    `s` holds their scores' columns (the run's rows of risk_score, `score_id` for its id)."""
    w = Warning.__table__  # type: ignore[attr-defined]
    ev = WarningEvent.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    run_id = run.id
    settings = deadline_settings(session)
    calendar = WorkdayCalendar.load(session)
    dues = {lvl: deadlines_for(lvl, now, settings, calendar) for lvl in wanted}
    year = now.astimezone(LOCAL_TZ).year
    first = reserve_codes(session, year, routed)
    number = sa.func.row_number().over(order_by=(cand.c.score.desc(), cand.c.entity_id)) + (first - 1)
    padded: Any = (sa.func.lpad(sa.cast(number, sa.Text), 6, "0") if dialect == "postgresql"
                   else sa.func.substr(sa.literal("000000") + sa.cast(number, sa.Text), -6, 6))
    if dialect != "postgresql":  # numbers past 999999 keep every digit
        padded = sa.case((number > 999999, sa.cast(number, sa.Text)), else_=padded)
    select_new = (
        sa.select(
            sa.literal(f"YJ-{year}-") + padded, cand.c.entity_id, cand.c.level,
            sa.case((_rank_sql(s.c.model_level) > _rank_sql(s.c.level), "rule"), else_="model"),
            sa.literal([], w.c.reasons.type),
            json_obj("risk_score_id", s.c.score_id, "run_id", run_id, "as_of", run.as_of.isoformat(),
                     "score", s.c.score, "level", s.c.level, "model_level", s.c.model_level,
                     "rules_matched", as_json(s.c.rules_matched), "contributions", as_json(s.c.contributions)),
            s.c.score, sa.literal(run.version_id), sa.literal(run_id),
            routes.c.department_id, routes.c.routing_rule_id, sa.literal("issued"),
            sa.literal(now, w.c.dispatched_at.type),
            sa.case({lvl: sa.literal(d[0], w.c.receipt_due_at.type) for lvl, d in dues.items()}, value=cand.c.level),
            sa.case({lvl: sa.literal(d[1], w.c.disposal_due_at.type) for lvl, d in dues.items()}, value=cand.c.level),
            sa.null(), sa.literal(actor.username), sa.literal(now, w.c.created_at.type),
            sa.literal(now, w.c.updated_at.type), sa.literal(1), cand.c.region_code, cand.c.industry_code,
            routes.c.industry_section)
        .select_from(routed_cand).join(s, s.c.score_id == cand.c.score_id)
        .where(routes.c.department_id.is_not(None)))
    before = session.execute(sa.select(sa.func.coalesce(sa.func.max(w.c.id), 0))).scalar_one()
    unchecked = _parents_locked(session, run, routed)
    if unchecked:
        lap("parents_locked")
        _set_local(session, "session_replication_role", "replica")
    issued = _inserted(session, sa.insert(w).from_select(
        ["code", "entity_id", "level", "source", "reasons", "explanation", "score", "model_version_id",
         "scoring_run_id", "department_id", "routing_rule_id", "status", "dispatched_at", "receipt_due_at",
         "disposal_due_at", "created_by_id", "created_by_name", "created_at", "updated_at", "row_version",
         "region_code", "industry_code", "industry_section"],
        select_new))
    lap("warnings")
    session.execute(sa.insert(ev).from_select(
        ["warning_id", "kind", "to_status", "actor_name", "department_id", "at", "comment", "payload"],
        sa.select(w.c.id, sa.literal("issue"), sa.literal("issued"), sa.literal(actor.username), w.c.department_id,
                  w.c.created_at, sa.literal(f"评分批次 {run_id} 自动发布"),
                  json_obj("level", w.c.level, "source", w.c.source, "routing_rule_id", w.c.routing_rule_id,
                           "run_id", run_id))
        .where(w.c.id > before, w.c.scoring_run_id == run_id,  # the rows just inserted: a primary-key range
               w.c.created_at == sa.literal(now, w.c.created_at.type), w.c.created_by_id.is_(None))))
    if unchecked:
        _set_local(session, "session_replication_role", "origin")
    lap("issue_events")
    return issued


def _may_skip_triggers(session: Session) -> bool:
    """Whether this role may set session_replication_role (a superuser; from PostgreSQL 15 also a role granted
    `SET ON PARAMETER session_replication_role`)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    if session.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
        return True
    if int(session.execute(sa.text("SHOW server_version_num")).scalar_one()) < 150000:
        return False
    return bool(session.execute(sa.text("SELECT has_parameter_privilege('session_replication_role', 'SET')"))
                .scalar())


def _parents_locked(session: Session, run: ScoringRun, routed: int) -> bool:
    """PostgreSQL checks a foreign key row by row (a trigger and a query per key: six per warning, three per event,
    about a quarter of the first night's time). Every key of the new warnings and their events comes from a set
    that was just read from its parent table (the run's scores joined to the entities, the routes' departments
    and rules, the run and its model version, the warnings inserted in this transaction), so those checks only
    repeat what the statements already know — what they add is the lock that keeps a parent row from being deleted
    before this transaction commits. Here the parent rows are locked FOR KEY SHARE set-based (the lock a
    foreign-key check takes) and counted; when every one is there, the two inserts may run with the triggers off
    (session_replication_role = replica, for those two statements only). Returns False — the inserts then check
    their keys as usual — when the role may not do that or a parent row is missing."""
    if not routed or not _may_skip_triggers(session):
        return False

    def locked(table: str, ids: str) -> tuple[int, int]:
        return tuple(session.execute(sa.text(  # type: ignore[return-value]
            f"SELECT (SELECT count(*) FROM (SELECT 1 FROM {table} WHERE id IN ({ids}) FOR KEY SHARE) AS locked), "
            f"(SELECT count(DISTINCT x.id) FROM ({ids}) AS x(id))")).one())

    # every candidate's entity (the routed ones are among them): one pass over the entity table in its physical
    # order, where per key the lookups (and a trigger's check) visit its pages in the order of the codes
    checks = [("entity", "SELECT entity_id FROM rw_auto_issue"),
              ("department", "SELECT department_id FROM rw_auto_route WHERE department_id IS NOT NULL"),
              ("routing_rule", "SELECT routing_rule_id FROM rw_auto_route WHERE department_id IS NOT NULL "
                               "AND routing_rule_id IS NOT NULL"),
              ("scoring_run", f"SELECT {int(_saved_id(run.id))}")]
    if run.version_id is not None:
        checks.append(("model_version", f"SELECT {int(run.version_id)}"))
    for table, ids in checks:
        found, wanted = locked(table, ids)
        if found != wanted:
            return False
    return True


def _outbox_for_bulk_events(session: Session, events_before: int, now: datetime, json_obj: Any) -> None:
    """The outbox rows of the events the bulk steps inserted (ids above `events_before`, stamped `now`, no actor
    id), in one INSERT … SELECT: the same row and payload shape the ORM listener
    (domain.notifications.outbox) writes for events saved one by one, read after the level update."""
    from domain.notifications.models import OutboxEvent

    w = Warning.__table__  # type: ignore[attr-defined]
    ev = WarningEvent.__table__  # type: ignore[attr-defined]
    ob = OutboxEvent.__table__  # type: ignore[attr-defined]
    # the responsible department and the assisting ones, ordered; a warning without assists (every new one) is
    # just [its department], without the per-row union and aggregate
    assisted = "EXISTS (SELECT 1 FROM warning_assist WHERE warning_assist.warning_id = risk_warning.id)"
    if session.get_bind().dialect.name == "postgresql":
        departments: Any = sa.literal_column(
            f"CASE WHEN {assisted} THEN "
            "(SELECT coalesce(json_agg(d.d ORDER BY d.d), '[]'::json) FROM (SELECT risk_warning.department_id AS d "
            "UNION SELECT warning_assist.department_id FROM warning_assist "
            "WHERE warning_assist.warning_id = risk_warning.id) AS d WHERE d.d IS NOT NULL) "
            "ELSE json_build_array(risk_warning.department_id) END")
    else:
        departments = sa.literal_column(
            f"CASE WHEN {assisted} THEN "
            "(SELECT json_group_array(d.d) FROM (SELECT risk_warning.department_id AS d "
            "UNION SELECT warning_assist.department_id FROM warning_assist "
            "WHERE warning_assist.warning_id = risk_warning.id ORDER BY 1) AS d WHERE d.d IS NOT NULL) "
            "ELSE json_array(risk_warning.department_id) END")
    payload = json_obj("warningCode", w.c.code, "level", w.c.level, "status", w.c.status,
                       "fromStatus", ev.c.from_status, "toStatus", ev.c.to_status, "actorName", ev.c.actor_name,
                       "comment", sa.func.substr(sa.func.coalesce(ev.c.comment, ""), 1, 500),
                       "rowVersion", w.c.row_version)
    session.execute(sa.insert(ob).from_select(
        ["kind", "warning_id", "event_id", "department_id", "departments", "payload", "created_at", "dispatched_at"],
        sa.select(ev.c.kind, ev.c.warning_id, ev.c.id, w.c.department_id, departments, payload, ev.c.at, sa.null())
        .select_from(ev.join(w, w.c.id == ev.c.warning_id))
        .where(ev.c.id > events_before, ev.c.at == sa.literal(now, ev.c.at.type), ev.c.actor_id.is_(None),
               ev.c.kind.in_(("issue", "raise_level")))
        .order_by(ev.c.id)))


def issue_after_scoring(db: Any, actor: Actor, run_ids: list[int]) -> AutoIssueResult | None:
    """The scoring job's after-commit step: automatic issue from the champion run (the first id), in its own unit
    of work, at the configured minimum level (REGWATCH_WARNING_AUTO_MIN_LEVEL; off = nothing)."""
    from domain.settings import get_settings

    min_level = get_settings().warning_auto_min_level
    if not min_level or not run_ids:
        return None
    with db.unit_of_work() as session:
        return auto_issue_warnings(session, actor, run_ids[0], min_level=min_level)
