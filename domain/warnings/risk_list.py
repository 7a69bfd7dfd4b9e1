"""Risk made visible (风险对象): entities ranked by the champion's latest scoring run, with filters, and one entity's
risk picture (current score, history over runs, clues, warnings). Who sees what follows the policy table:
city-wide roles see every score; a handler sees the scores of entities with a warning assigned to their department."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.errors import FieldError, Forbidden, InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.identity.policy import can, has_city_wide_scope, require_signed_in
from domain.pagination import Page, PageRequest, by_id, select_page
from domain.reference.models import Industry
from domain.risk.models import ModelVersion, RiskScore, ScoringRun
from domain.supervision.models import Entity
from domain.warnings.models import LEVELS, OPEN_STATUSES, RiskClue, Warning
from domain.warnings.service import SCORE_ROLES, ScoreSnapshot, latest_score

__all__ = [
    "EntityRisk",
    "RiskFilter",
    "RiskRow",
    "ScorePoint",
    "champion_run",
    "entity_risk",
    "iter_risk_rows",
    "list_risk",
    "scores_stmt",
]

EXPORT_LIMIT = 50_000
_RUNS_NEWEST_FIRST = (col(ScoringRun.as_of).desc(), col(ScoringRun.id).desc())


def _ensure_can_read_scores(actor: Actor) -> None:
    require_signed_in(actor)
    if not (has_city_wide_scope(actor) or can(actor, "warnings.handle")):
        raise Forbidden("没有权限查看风险评分", code="forbidden")


def _scoped_entities(actor: Actor) -> sa.Select[int] | None:
    """None for city-wide roles; else the entities with a warning assigned to the actor's department."""
    if has_city_wide_scope(actor):
        return None
    if actor.department_id is None:
        return sa.select(col(Warning.entity_id)).where(sa.false())
    return sa.select(col(Warning.entity_id)).where(col(Warning.department_id) == actor.department_id)


def champion_run(session: Session) -> ScoringRun | None:
    """The champion's latest finished scoring run: what the risk list ranks."""
    return session.exec(select(ScoringRun).where(ScoringRun.role == "champion", ScoringRun.status == "succeeded")
                        .order_by(col(ScoringRun.id).desc()).limit(1)).first()


@dataclass
class RiskFilter:
    level: str | None = None
    region_code: str | None = None
    industry_section: str | None = None  # GB/T 4754 section letter
    department_id: int | None = None  # department of the entity's open warning
    score_min: float | None = None
    score_max: float | None = None
    rule: str | None = None  # rule code among the rules that matched
    has_open_warning: bool | None = None
    search: str | None = None  # entity name or USCC
    run_id: int | None = None  # default: the champion's latest run
    entity_id: int | None = None


def _check(f: RiskFilter) -> None:
    errors = []
    if f.level and f.level not in LEVELS:
        errors.append(FieldError("level", "unknown_level", f"等级“{f.level}”不存在，可选：{'、'.join(LEVELS)}"))
    for name, value in (("score_min", f.score_min), ("score_max", f.score_max)):
        if value is not None and not 0 <= value <= 1:
            errors.append(FieldError(name, "out_of_range", f"评分 {value} 应在 0–1 之间"))
    if f.score_min is not None and f.score_max is not None and f.score_min > f.score_max:
        errors.append(FieldError("score_min", "range_order", "最低评分高于最高评分"))
    if f.region_code and not (len(f.region_code) == 6 and f.region_code.isdigit()):
        errors.append(FieldError("region_code", "invalid_region", f"行政区划“{f.region_code}”应为6位数字代码"))
    if errors:
        raise InvalidInput(errors[0].message, field=errors[0].field, code=errors[0].code, errors=errors)


def scores_stmt(session: Session, actor: Actor, f: RiskFilter) -> sa.Select[Any] | None:
    """One run's risk_score rows with the filters (None when nothing has been scored yet)."""
    _ensure_can_read_scores(actor)
    _check(f)
    run_id = f.run_id
    if run_id is None:
        run = champion_run(session)
        if run is None:
            return None
        run_id = run.id
    stmt = select(RiskScore).where(RiskScore.run_id == run_id)
    scoped = _scoped_entities(actor)
    if scoped is not None:
        stmt = stmt.where(col(RiskScore.entity_id).in_(scoped))
    if f.level:
        stmt = stmt.where(RiskScore.level == f.level)
    if f.score_min is not None:
        stmt = stmt.where(RiskScore.score >= f.score_min)
    if f.score_max is not None:
        stmt = stmt.where(RiskScore.score <= f.score_max)
    if f.entity_id is not None:
        stmt = stmt.where(RiskScore.entity_id == f.entity_id)
    if f.rule:
        # rules_matched is a JSON list of codes; its text holds "CODE" exactly when the code matched
        stmt = stmt.where(sa.cast(col(RiskScore.rules_matched), sa.Text).contains(f'"{f.rule}"', autoescape=True))
    entity_conditions: list[sa.ColumnElement[bool]] = []
    if f.region_code:
        entity_conditions.append(col(Entity.region_code) == f.region_code)
    if f.industry_section:
        section = f.industry_section.strip().upper()
        divisions = sa.select(col(Industry.code)).where(col(Industry.parent_code) == section)
        entity_conditions.append(sa.or_(col(Entity.industry_code) == section, col(Entity.industry_code).in_(divisions)))
    text = (f.search or "").strip()
    if text:
        entity_conditions.append(sa.or_(col(Entity.uscc) == text.upper(),
                                        col(Entity.name).contains(text, autoescape=True)))
    if entity_conditions:
        stmt = stmt.where(col(RiskScore.entity_id).in_(sa.select(col(Entity.id)).where(*entity_conditions)))
    open_w = sa.select(col(Warning.entity_id)).where(col(Warning.status).in_(OPEN_STATUSES))
    if f.department_id is not None:
        stmt = stmt.where(col(RiskScore.entity_id).in_(open_w.where(col(Warning.department_id) == f.department_id)))
    if f.has_open_warning is not None:
        cond = col(RiskScore.entity_id).in_(open_w)
        stmt = stmt.where(cond if f.has_open_warning else sa.not_(cond))
    return stmt


@dataclass(frozen=True)
class RiskRow:
    score: RiskScore
    uscc: str
    entity_name: str
    region_code: str | None
    industry_code: str | None
    open_warning_id: int | None
    open_warning_code: str | None
    open_warning_department: str | None

    @property
    def contributions(self) -> list[Any]:
        return list(self.score.contributions or [])


def _risk_rows(session: Session, scores: Sequence[RiskScore]) -> list[RiskRow]:
    if not scores:
        return []
    entity_ids = {s.entity_id for s in scores}
    entities = by_id(session, Entity, entity_ids, Entity.uscc, Entity.name, Entity.region_code, Entity.industry_code)
    open_rows = session.execute(sa.select(col(Warning.entity_id), col(Warning.id), col(Warning.code),
                                          col(Department.name))
                                .join(Department, col(Department.id) == Warning.department_id)
                                .where(col(Warning.entity_id).in_(entity_ids),
                                       col(Warning.status).in_(OPEN_STATUSES))).all()
    open_by_entity = {eid: (wid, code, dept) for eid, wid, code, dept in open_rows}
    out = []
    for s in scores:
        e = entities.get(s.entity_id)
        w = open_by_entity.get(s.entity_id, (None, None, None))
        out.append(RiskRow(s, e.uscc if e else "", e.name if e else "", e.region_code if e else None,
                           e.industry_code if e else None, *w))
    return out


_ORDER = (col(RiskScore.score).desc(), col(RiskScore.id).desc())


def list_risk(session: Session, actor: Actor, req: PageRequest, f: RiskFilter | None = None, *,
              max_size: int = 200) -> Page[RiskRow]:
    """风险对象: highest score first; the window is chosen on risk_score (run_id, score) alone."""
    stmt = scores_stmt(session, actor, f or RiskFilter())
    if stmt is None:
        return Page([], 0 if req.count else None, 0, False, False)
    return select_page(session, stmt, req, order_by=_ORDER, max_size=max_size,
                       load=lambda rows: _risk_rows(session, rows))


def iter_risk_rows(session: Session, actor: Actor, f: RiskFilter, *, limit: int = EXPORT_LIMIT,
                   chunk: int = 2_000) -> Iterator[RiskRow]:
    """Every row of the current view, best first, chunk by chunk (the Excel export)."""
    stmt = scores_stmt(session, actor, f)
    if stmt is None:
        return
    done = 0
    after: tuple[float, int] | None = None
    while done < limit:
        q = stmt.order_by(*_ORDER).limit(min(chunk, limit - done))
        if after is not None:
            q = q.where(sa.or_(col(RiskScore.score) < after[0],
                               sa.and_(col(RiskScore.score) == after[0], col(RiskScore.id) < after[1])))
        scores: list[RiskScore] = list(session.scalars(q))
        if not scores:
            return
        yield from _risk_rows(session, scores)
        done += len(scores)
        last_id = scores[-1].id
        assert last_id is not None  # a stored row
        after = (scores[-1].score, last_id)


@dataclass(frozen=True)
class ScorePoint:
    as_of: Any
    run_id: int
    role: str
    score: float
    level: str | None
    model_version: int


@dataclass(frozen=True)
class EntityRisk:
    entity: Entity
    current: ScoreSnapshot | None
    history: list[ScorePoint]
    clues: list[RiskClue]
    warnings: list[Warning]
    department_names: dict[int, str]


def entity_risk(session: Session, actor: Actor, entity_id: int, *, history: int = 60) -> EntityRisk:
    """An entity's risk picture for its page: current score and explanation, scores over past runs (oldest first),
    its clues and warnings."""
    _ensure_can_read_scores(actor)
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise NotFound(f"监管对象 {entity_id} 不存在", field="entity_id")
    scoped = _scoped_entities(actor)
    if scoped is not None and session.execute(
            scoped.where(col(Warning.entity_id) == entity_id).limit(1)).first() is None:
        raise Forbidden("该监管对象没有派发给本部门的预警，不能查看其风险评分", code="forbidden")
    rows = session.execute(
        sa.select(col(ScoringRun.as_of), col(ScoringRun.id), col(ScoringRun.role), col(RiskScore.score),
                  col(RiskScore.level), col(ModelVersion.version))
        .join(ScoringRun, col(ScoringRun.id) == RiskScore.run_id)
        .join(ModelVersion, col(ModelVersion.id) == ScoringRun.version_id)
        .where(col(RiskScore.entity_id) == entity_id, col(ScoringRun.role).in_(SCORE_ROLES))
        .order_by(*_RUNS_NEWEST_FIRST).limit(history)).all()
    points = [ScorePoint(*r) for r in reversed(rows)]
    clues = list(session.exec(select(RiskClue).where(RiskClue.entity_id == entity_id)
                              .order_by(col(RiskClue.received_on).desc(), col(RiskClue.id).desc()).limit(50)))
    warnings_q = select(Warning).where(Warning.entity_id == entity_id)
    if scoped is not None:
        warnings_q = warnings_q.where(Warning.department_id == actor.department_id)
    warnings = list(session.exec(warnings_q.order_by(col(Warning.created_at).desc()).limit(50)))
    depts = by_id(session, Department, {w.department_id for w in warnings}, Department.name)
    return EntityRisk(entity, latest_score(session, entity_id), points, clues, warnings,
                      {k: v.name for k, v in depts.items()})


def scores_for_entities(session: Session, actor: Actor, entity_ids: Sequence[int], *,
                        limit: int = 10) -> dict[int, list[Any]]:
    """Each entity's latest `limit` champion / on-demand scores, newest first, in one statement (GraphQL's nested
    entity.riskScore / entity.riskScores). Out-of-scope entities get an empty list."""
    from domain.risk.queries import RiskScoreView

    _ensure_can_read_scores(actor)
    ids = sorted(set(entity_ids))
    if not ids:
        return {}
    limit = max(1, min(limit, 200))
    rank = sa.func.row_number().over(partition_by=col(RiskScore.entity_id), order_by=_RUNS_NEWEST_FIRST).label("rn")
    inner = (sa.select(col(RiskScore.id).label("score_id"), col(RiskScore.entity_id),
                       col(ScoringRun.id).label("run_id"), rank)
             .join(ScoringRun, col(ScoringRun.id) == RiskScore.run_id)
             .where(col(RiskScore.entity_id).in_(ids), col(ScoringRun.role).in_(SCORE_ROLES)))
    scoped = _scoped_entities(actor)
    if scoped is not None:
        inner = inner.where(col(RiskScore.entity_id).in_(scoped))
    sub = inner.subquery()
    rows = session.execute(
        sa.select(RiskScore, ScoringRun, col(ModelVersion.version), col(ModelVersion.model_name), col(Entity.uscc),
                  col(Entity.name))
        .join(sub, sub.c.score_id == RiskScore.id).join(ScoringRun, col(ScoringRun.id) == sub.c.run_id)
        .join(ModelVersion, col(ModelVersion.id) == ScoringRun.version_id)
        .join(Entity, col(Entity.id) == RiskScore.entity_id)
        .where(sub.c.rn <= limit).order_by(col(RiskScore.entity_id), sub.c.rn)).all()
    out: dict[int, list[Any]] = {i: [] for i in ids}
    for score, run, number, name, uscc, entity_name in rows:
        out[score.entity_id].append(RiskScoreView(score, run, number, name, uscc, entity_name))
    return out
