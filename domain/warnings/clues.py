"""Risk clues (风险线索接收): validation shared by every channel, batch submission idempotent by data source +
external id, manual entry, deduplication inside a window, lists, detail and judgement (研判)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.audit.service import record_audit
from domain.errors import Conflict, FieldError, InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.identity.policy import has_city_wide_scope, require, require_signed_in
from domain.integration.models import DataSource
from domain.pagination import Page, PageRequest, by_id, select_page
from domain.supervision.models import Complaint, CreditRecord, Entity, SupervisionAction, SupervisionItem
from domain.supervision.uscc import UsccError, validate_uscc
from domain.types import local_today, table_of, utcnow
from domain.warnings.models import (
    CLUE_SOURCES,
    CLUE_STATUSES,
    LEVELS,
    RiskClue,
    Warning,
)
from domain.warnings.routing import Route, route_entity
from domain.warnings.service import (
    ScoreSnapshot,
    add_warning_event,
    issue_warning,
    latest_score,
    level_rank,
    open_warning_of,
    raise_warning_level,
)

__all__ = [
    "CLUE_FIELDS",
    "DECISIONS",
    "MAX_CLUES_PER_CALL",
    "ClueFilter",
    "ClueInput",
    "ClueOutcome",
    "ClueRow",
    "ClueSubmission",
    "Judgement",
    "JudgementView",
    "create_clue",
    "get_clue",
    "judge_clue",
    "judgement_view",
    "link_duplicates",
    "list_clues",
    "submit_clue_inputs",
    "submit_clues",
    "validate_clue",
]

MAX_CLUES_PER_CALL = 1_000
DECISIONS = {"issue": "发布预警", "merge": "并入已有预警", "dismiss": "排除"}
# field -> Chinese label (also the accepted file header)
CLUE_FIELDS = {
    "external_id": "线索编号",
    "uscc": "统一社会信用代码",
    "entity_name": "监管对象名称",
    "source": "线索来源",
    "category": "线索类别",
    "description": "线索描述",
    "item_code": "监管事项编码",
    "reporting_department_code": "报送部门编码",
    "occurred_on": "发生日期",
    "received_on": "接收日期",
    "attachments": "附件",
}
_SOURCE_ALIASES = {**{k: k for k in CLUE_SOURCES}, **{v: k for k, v in CLUE_SOURCES.items()},
                   "12345": "hotline_12345", "12315": "hotline_12315", "部门": "department", "数据中心": "data_centre",
                   "手工录入": "manual", "人工": "manual"}
_KIND_TO_SOURCE = {"phase_one": "department", "department_system": "department", "data_centre": "data_centre",
                   "manual": "manual"}


@dataclass
class ClueInput:
    """One clue as any channel gives it (codes, not ids); `validate_clue` turns it into column values."""

    category: str | None = None
    description: str | None = None
    uscc: str | None = None
    entity_name: str | None = None
    source: str | None = None
    external_id: str | None = None
    item_code: str | None = None
    reporting_department_code: str | None = None
    occurred_on: Any = None
    received_on: Any = None
    attachments: list[Any] = field(default_factory=list)

    @classmethod
    def from_mapping(cls, rec: Mapping[str, Any]) -> ClueInput:
        known = {k: rec.get(k) for k in CLUE_FIELDS if k in rec}
        if isinstance(known.get("attachments"), str):
            known["attachments"] = [p for p in str(known["attachments"]).replace("；", ";").replace("\n", ";")
                                    .split(";") if p.strip()]
        return cls(**{k: v for k, v in known.items() if v is not None})


@dataclass
class _Lookups:
    """Codes resolved once per batch."""

    departments: dict[str, int]
    items: dict[str, int]
    entities: dict[str, tuple[int, str]]  # uscc -> (id, name)

    @classmethod
    def load(cls, session: Session, inputs: Sequence[ClueInput]) -> _Lookups:
        def codes(name: str) -> list[str]:
            return sorted({str(getattr(i, name)).strip() for i in inputs if getattr(i, name)})
        depts = codes("reporting_department_code")
        items = codes("item_code")
        usccs = sorted({str(i.uscc).strip().upper() for i in inputs if i.uscc})
        return cls(
            {code: i for code, i in session.execute(sa.select(col(Department.code), col(Department.id)).where(
                col(Department.code).in_(depts))).all() if i is not None} if depts else {},
            {code: i for code, i in session.execute(sa.select(col(SupervisionItem.code), col(SupervisionItem.id)).where(
                col(SupervisionItem.code).in_(items))).all() if i is not None} if items else {},
            {u: (i, n) for u, i, n in session.execute(sa.select(col(Entity.uscc), col(Entity.id), col(Entity.name))
                                                      .where(col(Entity.uscc).in_(usccs))).all()
             if i is not None} if usccs else {},
        )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(value: Any, name: str, errors: list[FieldError], today: date) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed: date | None = value.date()
    elif isinstance(value, date):
        parsed = value
    else:
        text = _text(value).replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").rstrip("日")
        text = text.split(" ")[0].split("T")[0]
        try:
            parsed = datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            errors.append(FieldError(name, "invalid_date",
                                     f"{CLUE_FIELDS[name]}：“{value}”不是有效日期，应为 YYYY-MM-DD"))
            return None
    assert parsed is not None
    if parsed > today:
        errors.append(FieldError(name, "future_date", f"{CLUE_FIELDS[name]}：{parsed} 晚于今天（{today}）"))
        return None
    if parsed.year < 1990:
        errors.append(FieldError(name, "invalid_date", f"{CLUE_FIELDS[name]}：{parsed} 早于1990年"))
        return None
    return parsed


def validate_clue(data: ClueInput, lookups: _Lookups, *, default_source: str, today: date,
                  require_external_id: bool) -> tuple[dict[str, Any], list[FieldError]]:
    """Column values of a clue, or every problem with it (field, code, Chinese message naming the field)."""
    errors: list[FieldError] = []

    def text(name: str, max_len: int, *, required: bool = False) -> str:
        value = _text(getattr(data, name))
        if required and not value:
            errors.append(FieldError(name, "required", f"{CLUE_FIELDS[name]}：必填，不能为空"))
        elif len(value) > max_len:
            errors.append(FieldError(name, "too_long",
                                     f"{CLUE_FIELDS[name]}：长度为{len(value)}个字符，超过上限{max_len}"))
        return value

    values: dict[str, Any] = {
        "external_id": text("external_id", 64, required=require_external_id) or None,
        "category": text("category", 64, required=True),
        "description": text("description", 4000, required=True),
        "entity_name": text("entity_name", 200),
        "entity_id": None, "entity_problem": None, "item_id": None, "reporting_department_id": None,
    }
    raw_source = _text(data.source) or default_source
    source = _SOURCE_ALIASES.get(raw_source) or _SOURCE_ALIASES.get(raw_source.lower())
    if source is None:
        errors.append(FieldError("source", "invalid_enum", f"线索来源：“{raw_source}”不是有效值，可选："
                                 + "、".join(f"{k}（{v}）" for k, v in CLUE_SOURCES.items())))
    values["source"] = source
    raw_uscc = _text(data.uscc).upper()
    if len(raw_uscc) > 32:
        errors.append(FieldError("uscc", "too_long", f"统一社会信用代码：长度为{len(raw_uscc)}个字符，超过上限32"))
    values["uscc"] = raw_uscc
    if not raw_uscc and not values["entity_name"]:
        errors.append(FieldError("uscc", "required", "统一社会信用代码：与监管对象名称至少填写一项"))
    elif not raw_uscc:
        values["entity_problem"] = "unknown"
    else:
        try:
            code = validate_uscc(raw_uscc)
        except UsccError:
            values["entity_problem"] = "invalid"  # kept and flagged, never dropped
        else:
            values["uscc"] = code
            found = lookups.entities.get(code)
            if found is None:
                values["entity_problem"] = "unknown"
            else:
                values["entity_id"] = found[0]
                values["entity_name"] = values["entity_name"] or found[1]
    item_code = text("item_code", 64)
    if item_code:
        values["item_id"] = lookups.items.get(item_code)
        if values["item_id"] is None:
            errors.append(FieldError("item_code", "unknown_item", f"监管事项编码：代码“{item_code}”不存在"))
    dept_code = text("reporting_department_code", 32)
    if dept_code:
        values["reporting_department_id"] = lookups.departments.get(dept_code)
        if values["reporting_department_id"] is None:
            errors.append(FieldError("reporting_department_code", "unknown_department",
                                     f"报送部门编码：代码“{dept_code}”不存在"))
    values["occurred_on"] = _date(data.occurred_on, "occurred_on", errors, today)
    received = _date(data.received_on, "received_on", errors, today)
    values["received_on"] = received or (today if data.received_on in (None, "") else None)
    if values["occurred_on"] and values["received_on"] and values["occurred_on"] > values["received_on"]:
        errors.append(FieldError("occurred_on", "date_order",
                                 f"发生日期：{values['occurred_on']} 晚于接收日期（{values['received_on']}）"))
    attachments = []
    for i, item in enumerate(data.attachments or []):
        if isinstance(item, Mapping):
            name, url = _text(item.get("name")), _text(item.get("url"))
        else:
            name, url = _text(item), _text(item)
            name = name.rsplit("/", 1)[-1] or name
        if not (name or url):
            continue
        if len(name) > 200 or len(url) > 1000:
            errors.append(FieldError("attachments", "too_long", f"附件：第{i + 1}个附件的名称或地址过长"))
        attachments.append({"name": name, "url": url})
    if len(attachments) > 20:
        errors.append(FieldError("attachments", "too_many", f"附件：最多20个，本条{len(attachments)}个"))
    values["attachments"] = attachments
    return values, errors


def link_duplicates(session: Session, clue_ids: Iterable[int], window_days: int) -> int:
    """Link each of these clues to the first earlier clue about the same entity and category received inside the
    window (from any source), in one statement; returns how many became duplicates."""
    ids = sorted(set(clue_ids))
    if not ids or window_days <= 0:
        return 0
    c = table_of(RiskClue)
    f = c.alias("first_clue")
    if session.get_bind().dialect.name == "sqlite":  # dates are ISO text there
        window_start: Any = sa.func.date(c.c.received_on, f"-{int(window_days)} days")
    else:
        window_start = c.c.received_on - sa.literal_column(str(int(window_days)))
    earliest = (sa.select(f.c.id).where(
        f.c.entity_id == c.c.entity_id, f.c.category == c.c.category, f.c.duplicate_of_id.is_(None),
        f.c.id != c.c.id,
        sa.or_(f.c.received_on < c.c.received_on, sa.and_(f.c.received_on == c.c.received_on, f.c.id < c.c.id)),
        f.c.received_on >= window_start)
        .order_by(f.c.received_on, f.c.id).limit(1).scalar_subquery())
    done = cast("sa.CursorResult[Any]", session.execute(
        sa.update(c).where(c.c.id.in_(ids), c.c.entity_id.is_not(None), c.c.duplicate_of_id.is_(None),
                           c.c.status == "pending", earliest.is_not(None))
        .values(duplicate_of_id=earliest, status="duplicate", updated_at=utcnow()))).rowcount
    return int(done or 0)


@dataclass(frozen=True)
class ClueOutcome:
    index: int
    clue_id: int | None
    result: str  # created / updated / unchanged / rejected
    duplicate_of_id: int | None = None
    errors: tuple[FieldError, ...] = ()


@dataclass(frozen=True)
class ClueSubmission:
    source: str
    received: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    duplicates: int
    outcomes: list[ClueOutcome]
    entity_ids: list[int]  # entities of new, non-duplicate clues (to score on demand)


_CHANGING = ("entity_id", "uscc", "entity_name", "entity_problem", "source", "category", "description", "item_id",
             "reporting_department_id", "occurred_on", "received_on", "attachments")


def _authorised_source(session: Session, actor: Actor, code: str) -> DataSource:
    from domain.supervision.ingest import authorise_source

    found = authorise_source(session.connection(), actor, code)
    source = session.get(DataSource, found.id)
    assert source is not None
    return source


def submit_clues(session: Session, actor: Actor, source: str, records: Sequence[ClueInput | Mapping[str, Any]],
                 *, dedup_days: int = 30, today: date | None = None) -> ClueSubmission:
    """submitRiskClues: validate every record, keep the valid ones, report the others by index; a record whose
    (source, external id) was seen before updates that clue (or changes nothing), so a retry is harmless."""
    require_signed_in(actor)
    ds = _authorised_source(session, actor, source)
    if len(records) > MAX_CLUES_PER_CALL:
        raise InvalidInput(f"一次最多提交 {MAX_CLUES_PER_CALL} 条线索，本次 {len(records)} 条；请分批提交",
                           field="clues", code="too_many_records")
    inputs = [r if isinstance(r, ClueInput) else ClueInput.from_mapping(r) for r in records]
    result = submit_clue_inputs(session, actor, ds, inputs, dedup_days=dedup_days, today=today)
    record_audit(session, actor, "clue.submit", "data_source", ds.id,
                 {"source": ds.code, "received": result.received, "created": result.created,
                  "updated": result.updated, "unchanged": result.unchanged, "rejected": result.rejected,
                  "duplicates": result.duplicates,
                  "clue_ids": [o.clue_id for o in result.outcomes if o.result == "created"][:200]})
    session.flush()
    return result


def submit_clue_inputs(session: Session, actor: Actor, ds: DataSource, inputs: Sequence[ClueInput], *,
                       dedup_days: int = 30, today: date | None = None) -> ClueSubmission:
    """The shared core of a push and a file chunk (the caller authorised the source and writes the audit)."""
    today = today or local_today()
    lookups = _Lookups.load(session, inputs)
    default_source = _KIND_TO_SOURCE.get(ds.kind, "department")
    ext_ids = sorted({_text(i.external_id) for i in inputs if _text(i.external_id)})
    existing = {c.external_id: c for c in session.exec(select(RiskClue).where(
        RiskClue.source_id == ds.id, col(RiskClue.external_id).in_(ext_ids)))} if ext_ids else {}
    outcomes: list[ClueOutcome] = []
    seen: dict[str, int] = {}
    new_ids: list[int] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    for index, data in enumerate(inputs):
        values, errors = validate_clue(data, lookups, default_source=default_source, today=today,
                                       require_external_id=True)
        ext = values.get("external_id")
        if ext and ext in seen:
            errors.append(FieldError("external_id", "duplicate_in_batch",
                                     f"线索编号：“{ext}”与本批序号{seen[ext]}（从0起）的记录重复"))
        if errors:
            counts["rejected"] += 1
            outcomes.append(ClueOutcome(index, None, "rejected", errors=tuple(errors)))
            continue
        seen[str(ext)] = index
        clue = existing.get(ext)
        if clue is None:
            clue = RiskClue(**values, source_id=ds.id, created_by_id=actor.user_id, created_by_name=actor.username)
            session.add(clue)
            session.flush()
            assert clue.id is not None  # flushed
            new_ids.append(clue.id)
            counts["created"] += 1
            outcomes.append(ClueOutcome(index, clue.id, "created"))
        else:
            changed = {k: v for k, v in values.items() if k in _CHANGING and getattr(clue, k) != v}
            if changed:
                for k, v in changed.items():
                    setattr(clue, k, v)
                clue.updated_at = utcnow()
                session.add(clue)
                counts["updated"] += 1
                outcomes.append(ClueOutcome(index, clue.id, "updated"))
            else:
                counts["unchanged"] += 1
                outcomes.append(ClueOutcome(index, clue.id, "unchanged"))
    session.flush()
    duplicates = link_duplicates(session, new_ids, dedup_days)
    dup_of: dict[int, int] = {}
    entity_ids: set[int] = set()
    if new_ids:
        for cid, dup, eid in session.execute(sa.select(col(RiskClue.id), col(RiskClue.duplicate_of_id),
                                                       col(RiskClue.entity_id))
                                             .where(col(RiskClue.id).in_(new_ids))).all():
            if cid is None:
                continue
            if dup is not None:
                dup_of[cid] = dup
            elif eid is not None:
                entity_ids.add(eid)
        outcomes = [ClueOutcome(o.index, o.clue_id, o.result, dup_of.get(o.clue_id or -1), o.errors)
                    for o in outcomes]
    return ClueSubmission(ds.code, len(inputs), counts["created"], counts["updated"], counts["unchanged"],
                          counts["rejected"], duplicates, outcomes, sorted(entity_ids))


def create_clue(session: Session, actor: Actor, data: ClueInput, *, dedup_days: int = 30,
                today: date | None = None) -> RiskClue:
    """手工录入: one clue entered by an analyst (source "manual" unless given)."""
    require(actor, "clues.work")
    today = today or local_today()
    values, errors = validate_clue(data, _Lookups.load(session, [data]), default_source="manual", today=today,
                                   require_external_id=False)
    if errors:
        raise InvalidInput(errors[0].message, field=errors[0].field, code=errors[0].code, errors=errors)
    if values["external_id"]:
        raise InvalidInput("手工录入的线索不填写线索编号（编号用于系统推送去重）", field="external_id",
                           code="not_allowed")
    clue = RiskClue(**values, created_by_id=actor.user_id, created_by_name=actor.username)
    session.add(clue)
    session.flush()
    assert clue.id is not None
    link_duplicates(session, [clue.id], dedup_days)
    session.refresh(clue)
    record_audit(session, actor, "clue.create", "risk_clue", clue.id,
                 {"source": clue.source, "uscc": clue.uscc, "entity_id": clue.entity_id, "category": clue.category,
                  "entity_problem": clue.entity_problem, "duplicate_of_id": clue.duplicate_of_id})
    session.flush()
    return clue


# ---- reads -------------------------------------------------------------------------------------------------

def _ensure_can_read_clues(actor: Actor) -> None:
    require_signed_in(actor)
    if not has_city_wide_scope(actor):
        require(actor, "clues.work")


@dataclass
class ClueFilter:
    status: str | None = None
    source: str | None = None
    category: str | None = None
    department_id: int | None = None  # reporting department
    received_from: date | None = None
    received_to: date | None = None
    entity_id: int | None = None
    problem: bool | None = None  # only clues whose entity is unknown / invalid
    search: str | None = None  # entity name or USCC, or words of the description


@dataclass(frozen=True)
class ClueRow:
    clue: RiskClue
    entity_name: str
    department_name: str | None
    warning_code: str | None
    duplicates: int


def _check_clue_filter(f: ClueFilter) -> None:
    errors = []
    if f.status and f.status not in CLUE_STATUSES:
        errors.append(FieldError("status", "unknown_status", f"状态“{f.status}”不存在，可选："
                                 + "、".join(f"{k}（{v}）" for k, v in CLUE_STATUSES.items())))
    if f.source and f.source not in CLUE_SOURCES:
        errors.append(FieldError("source", "unknown_source", f"来源“{f.source}”不存在，可选："
                                 + "、".join(f"{k}（{v}）" for k, v in CLUE_SOURCES.items())))
    if f.received_from and f.received_to and f.received_from > f.received_to:
        errors.append(FieldError("received_from", "date_order", "开始日期晚于结束日期"))
    if errors:
        raise InvalidInput(errors[0].message, field=errors[0].field, code=errors[0].code, errors=errors)


def clues_stmt(actor: Actor, f: ClueFilter) -> sa.Select[Any]:
    _ensure_can_read_clues(actor)
    _check_clue_filter(f)
    stmt = select(RiskClue)
    if f.status:
        stmt = stmt.where(RiskClue.status == f.status)
    if f.source:
        stmt = stmt.where(RiskClue.source == f.source)
    if f.category:
        stmt = stmt.where(RiskClue.category == f.category)
    if f.department_id is not None:
        stmt = stmt.where(RiskClue.reporting_department_id == f.department_id)
    if f.entity_id is not None:
        stmt = stmt.where(RiskClue.entity_id == f.entity_id)
    if f.problem:
        stmt = stmt.where(col(RiskClue.entity_problem).is_not(None))
    if f.received_from:
        stmt = stmt.where(RiskClue.received_on >= f.received_from)
    if f.received_to:
        stmt = stmt.where(RiskClue.received_on <= f.received_to)
    text = (f.search or "").strip()
    if text:
        stmt = stmt.where(sa.or_(col(RiskClue.uscc) == text.upper(),
                                 col(RiskClue.entity_name).contains(text, autoescape=True),
                                 col(RiskClue.description).contains(text, autoescape=True)))
    return stmt


def _clue_rows(session: Session, clues: Sequence[RiskClue]) -> list[ClueRow]:
    if not clues:
        return []
    depts = by_id(session, Department, {c.reporting_department_id for c in clues if c.reporting_department_id},
                  Department.name)
    warnings = by_id(session, Warning, {c.warning_id for c in clues if c.warning_id}, Warning.code)
    ids = [c.id for c in clues]
    dup_counts: dict[int | None, int] = {dup: n for dup, n in session.execute(
        sa.select(col(RiskClue.duplicate_of_id), sa.func.count()).where(col(RiskClue.duplicate_of_id).in_(ids))
        .group_by(col(RiskClue.duplicate_of_id))).all()}
    out = []
    for c in clues:
        d = depts.get(c.reporting_department_id)
        w = warnings.get(c.warning_id)
        out.append(ClueRow(c, c.entity_name or c.uscc, d.name if d else None, w.code if w else None,
                           dup_counts.get(c.id, 0)))
    return out


def list_clues(session: Session, actor: Actor, req: PageRequest, f: ClueFilter | None = None, *,
               max_size: int = 200) -> Page[ClueRow]:
    """线索列表: newest received first (ties by id)."""
    stmt = clues_stmt(actor, f or ClueFilter())
    return select_page(session, stmt, req, order_by=(col(RiskClue.received_on).desc(), col(RiskClue.id).desc()),
                       max_size=max_size, load=lambda cs: _clue_rows(session, cs))


def get_clue(session: Session, actor: Actor, clue_id: int) -> RiskClue:
    _ensure_can_read_clues(actor)
    clue = session.get(RiskClue, clue_id)
    if clue is None:
        raise NotFound(f"线索 {clue_id} 不存在", field="id")
    return clue


@dataclass(frozen=True)
class JudgementView:
    """研判: everything about the clue's entity on one page."""

    clue: RiskClue
    row: ClueRow
    entity: Entity | None
    score: ScoreSnapshot | None
    open_warning: Warning | None
    earlier_warnings: list[Warning]
    other_clues: list[RiskClue]
    duplicates: list[RiskClue]
    first_clue: RiskClue | None
    actions: list[SupervisionAction]
    complaints: list[Complaint]
    credit: list[CreditRecord]
    route: Route | None
    route_department: str | None
    departments: list[tuple[int, str, str]]
    suggested_level: str | None


def judgement_view(session: Session, actor: Actor, clue_id: int) -> JudgementView:
    clue = get_clue(session, actor, clue_id)
    row = _clue_rows(session, [clue])[0]
    entity = session.get(Entity, clue.entity_id) if clue.entity_id else None
    entity_id = entity.id if entity else None
    score = latest_score(session, entity_id) if entity_id is not None else None
    open_w = open_warning_of(session, entity_id) if entity_id is not None else None
    earlier: list[Warning] = []
    others: list[RiskClue] = []
    actions: list[SupervisionAction] = []
    complaints: list[Complaint] = []
    credit: list[CreditRecord] = []
    route = None
    route_name = None
    if entity_id is not None:
        earlier = list(session.exec(select(Warning).where(Warning.entity_id == entity_id)
                                    .order_by(col(Warning.created_at).desc()).limit(10)))
        others = list(session.exec(select(RiskClue).where(RiskClue.entity_id == entity_id, RiskClue.id != clue.id)
                                   .order_by(col(RiskClue.received_on).desc()).limit(10)))
        actions = list(session.exec(select(SupervisionAction).where(SupervisionAction.entity_id == entity_id)
                                    .order_by(col(SupervisionAction.started_on).desc()).limit(10)))
        complaints = list(session.exec(select(Complaint).where(Complaint.entity_id == entity_id)
                                       .order_by(col(Complaint.received_on).desc()).limit(10)))
        credit = list(session.exec(select(CreditRecord).where(CreditRecord.entity_id == entity_id)
                                   .order_by(col(CreditRecord.listed_on).desc()).limit(10)))
        route = route_entity(session, entity_id, clue.item_id)
        if route.department_id:
            d = session.get(Department, route.department_id)
            route_name = d.name if d else None
    dups = list(session.exec(select(RiskClue).where(RiskClue.duplicate_of_id == clue.id)
                             .order_by(col(RiskClue.received_on), col(RiskClue.id))))
    first = session.get(RiskClue, clue.duplicate_of_id) if clue.duplicate_of_id else None
    depts = [(d.id, d.code, d.name) for d in session.exec(
        select(Department).where(col(Department.active) == sa.true()).order_by(col(Department.code)))
        if d.id is not None]
    suggested = (score.level if score and score.level in LEVELS else None) or "yellow"
    return JudgementView(clue, row, entity, score, open_w, earlier, others, dups, first, actions, complaints, credit,
                         route, route_name, depts, suggested)


# ---- judgement ---------------------------------------------------------------------------------------------

@dataclass
class Judgement:
    decision: str  # issue / merge / dismiss
    level: str | None = None  # issue: default the model's level; merge: raise the open warning to it if higher
    department_id: int | None = None  # issue: default the routing table's choice
    reasons: list[str] = field(default_factory=list)
    comment: str = ""  # dismiss: the reason (required)


def judge_clue(session: Session, actor: Actor, clue_id: int, judgement: Judgement) -> RiskClue:
    """研判: issue a warning from the clue, merge it into the entity's open warning, or dismiss it with a reason.
    The clue's duplicates follow it. Exactly one of two analysts judging at once wins."""
    require(actor, "clues.work")
    clue = get_clue(session, actor, clue_id)
    decision = judgement.decision
    if decision not in DECISIONS:
        raise InvalidInput(f"研判结论“{decision}”无效，可选：issue（发布预警）、merge（并入已有预警）、dismiss（排除）",
                           field="decision", code="invalid_enum")
    if clue.status not in ("pending",):
        extra = "，请研判其首条线索" if clue.status == "duplicate" else ""
        raise Conflict(f"线索 {clue.id} 已是“{CLUE_STATUSES[clue.status]}”状态，不能再次研判{extra}", field="id",
                       code="already_judged")
    comment = (judgement.comment or "").strip()
    if len(comment) > 1000:
        raise InvalidInput(f"研判意见长度为 {len(comment)} 个字符，超过上限 1000", field="comment", code="too_long")
    warning: Warning | None = None
    if decision in ("issue", "merge") and clue.entity_id is None:
        problem = "统一社会信用代码无效" if clue.entity_problem == "invalid" else "监管对象未登记"
        raise InvalidInput(f"该线索的{problem}，不能发布或并入预警；请核实对象后重新录入，或排除该线索",
                           field="decision", code="no_entity")
    if decision == "issue":
        reasons = list(judgement.reasons or []) or [f"线索：{clue.category}—{clue.description[:200]}"]
        assert clue.entity_id is not None  # refused above without an entity
        warning = issue_warning(session, actor, entity_id=clue.entity_id,
                                level=judgement.level, reasons=reasons, department_id=judgement.department_id,
                                item_id=clue.item_id, source="clue", comment=comment, permission="clues.work")
        status = "warned"
    elif decision == "merge":
        assert clue.entity_id is not None  # refused above without an entity
        warning = open_warning_of(session, clue.entity_id)
        if warning is None:
            raise Conflict("该对象没有未办结的预警可并入，请选择发布预警", field="decision", code="no_open_warning")
        if judgement.level and judgement.level not in LEVELS:
            raise InvalidInput(f"预警等级“{judgement.level}”无效", field="level", code="unknown_level")
        if judgement.level and level_rank(judgement.level) < level_rank(warning.level):
            assert warning.id is not None  # a stored warning
            raise_warning_level(session, actor, warning.id, judgement.level,
                                reason=f"并入线索 {clue.id}", permission="clues.work")
        add_warning_event(session, actor, warning, "merge_clue", comment=comment,
                          payload={"clue_id": clue.id, "category": clue.category})
        status = "merged"
    else:
        if not comment:
            raise InvalidInput("排除线索须填写理由", field="comment", code="required")
        status = "dismissed"
    table = table_of(RiskClue)
    now = utcnow()
    values = {"status": status, "warning_id": warning.id if warning else None, "judged_by_id": actor.user_id,
              "judged_by_name": actor.username, "judged_at": now, "judgement_reason": comment, "updated_at": now}
    done = cast("sa.CursorResult[Any]", session.execute(
        sa.update(table).where(table.c.id == clue.id, table.c.status == "pending").values(**values))).rowcount
    if done != 1:
        raise Conflict(f"线索 {clue.id} 刚被他人研判，请刷新后查看", field="id", code="already_judged")
    # duplicates follow their first clue, keeping their own status
    session.execute(sa.update(table).where(table.c.duplicate_of_id == clue.id)
                    .values(warning_id=values["warning_id"], judged_by_id=actor.user_id,
                            judged_by_name=actor.username, judged_at=now, updated_at=now))
    record_audit(session, actor, f"clue.judge.{decision}", "risk_clue", clue.id,
                 {"status": ["pending", status], "warning_id": values["warning_id"],
                  "warning_code": warning.code if warning else None, "comment": comment,
                  "level": warning.level if warning else None})
    session.flush()
    session.refresh(clue)
    return clue
