"""Record validation for ingestion: cheap per-record checks, code lookups done once per chunk.

Each `validate_<kind>` takes a chunk of `(index, record)` pairs and the per-ingest `Lookups`, and returns the
stage rows (tuples in `STAGE_COLUMNS[kind]` order, index first) and the errors `(index, field, code, message)`.
Messages are in Chinese and name the field by its label.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from domain.identity.models import Department
from domain.reference.models import Industry, Region
from domain.supervision.fields import (
    ACTION_KIND_LABELS,
    COMPLAINT_CHANNEL_LABELS,
    CREDIT_KIND_LABELS,
    ENTITY_STATUS_LABELS,
    ENTITY_TYPE_LABELS,
    INSPECTION_RESULT_LABELS,
    ITEM_KIND_LABELS,
    RECORD_FIELDS,
    enum_aliases,
)
from domain.supervision.models import Entity, SupervisionItem
from domain.supervision.uscc import UsccError, validate_uscc

__all__ = ["STAGE_COLUMNS", "VALIDATORS", "BadRecord", "Lookups", "RowError"]

RowError = tuple[int, str | None, str, str]  # index, field, code, message

# Stage columns per kind (after the record index): the target table's columns, codes already resolved to ids.
STAGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "entities": ("uscc", "name", "entity_type", "industry_code", "region_code", "registered_capital",
                 "founded_on", "status"),
    "items": ("code", "name", "department_id", "kind", "legal_basis"),
    "actions": ("external_id", "kind", "item_id", "department_id", "entity_id", "started_on", "decided_on",
                "result", "penalty_amount", "document_number", "officers"),
    "complaints": ("external_id", "entity_id", "received_on", "channel", "category", "responded_on", "outcome"),
    "credit": ("external_id", "entity_id", "kind", "listed_on", "removed_on", "authority", "reason"),
}
MAX_AMOUNT = Decimal("99999999999999.99")
_LABELS = {kind: {spec.name: spec.label for spec in specs} for kind, specs in RECORD_FIELDS.items()}


@dataclass(frozen=True)
class BadRecord:
    """A record a reader could not make sense of (e.g. a line that is not JSON), reported as its error."""

    code: str
    message: str


@dataclass
class Lookups:
    """What validation needs from the database, read once per ingest (small tables) or once per chunk (entities)."""

    connection: sa.Connection
    today: date
    iso_dates: bool  # SQLite stores dates as ISO text and amounts as text; PostgreSQL takes the objects
    departments: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    regions: set[str] = field(default_factory=set)
    industries: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, connection: sa.Connection, kind: str, today: date) -> Lookups:
        lookups = cls(connection, today, connection.dialect.name == "sqlite")
        if kind in ("items", "actions"):
            dept = Department.__table__
            lookups.departments = dict(connection.execute(sa.select(dept.c.code, dept.c.id)).all())
        if kind == "actions":
            item = SupervisionItem.__table__
            lookups.items = dict(connection.execute(sa.select(item.c.code, item.c.id)).all())
        if kind == "entities":
            lookups.regions = set(connection.execute(sa.select(Region.__table__.c.code)).scalars())
            lookups.industries = set(connection.execute(sa.select(Industry.__table__.c.code)).scalars())
        return lookups

    def entity_ids(self, usccs: set[str]) -> dict[str, int]:
        """uscc -> entity id for the codes of one chunk, in one statement."""
        if not usccs:
            return {}
        table = Entity.__table__
        stmt = sa.select(table.c.uscc, table.c.id).where(table.c.uscc.in_(sa.bindparam("codes", expanding=True)))
        return dict(self.connection.execute(stmt, {"codes": list(usccs)}).all())


class _Record:
    """Checks the fields of one record, collecting errors instead of stopping at the first."""

    __slots__ = ("errors", "index", "labels", "lookups", "rec")

    def __init__(self, index: int, rec: Mapping[str, Any], labels: dict[str, str], lookups: Lookups) -> None:
        self.index = index
        self.rec = rec
        self.labels = labels
        self.lookups = lookups
        self.errors: list[RowError] = []

    def fail(self, name: str | None, code: str, problem: str) -> None:
        label = self.labels.get(name, name) if name else None
        self.errors.append((self.index, name, code, f"{label}：{problem}" if label else problem))

    def text(self, name: str, max_len: int, required: bool = False) -> str | None:
        value = self.rec.get(name)
        if value is None:
            if required:
                self.fail(name, "required", "必填，不能为空")
            return None
        if type(value) is not str:
            value = _plain(value)
        value = value.strip()
        if not value:
            if required:
                self.fail(name, "required", "必填，不能为空")
            return None
        if len(value) > max_len:
            self.fail(name, "too_long", f"长度为{len(value)}个字符，超过上限{max_len}")
        return value

    def choice(self, name: str, aliases: dict[str, str], labels: dict[str, str], required: bool = False) -> str | None:
        value = self.text(name, 64, required)
        if value is None:
            return None
        code = aliases.get(value) or aliases.get(value.lower())
        if code is None:
            allowed = "、".join(f"{c}（{label}）" for c, label in labels.items())
            self.fail(name, "invalid_enum", f"“{value}”不是有效值，可选：{allowed}")
        return code

    def day(self, name: str, required: bool = False) -> date | None:
        value = self.rec.get(name)
        if value is None or value == "":
            if required:
                self.fail(name, "required", "必填，不能为空")
            return None
        parsed = _parse_date(value)
        if parsed is None:
            self.fail(name, "invalid_date", f"“{value}”不是有效日期，应为 YYYY-MM-DD")
            return None
        if parsed > self.lookups.today:
            self.fail(name, "future_date", f"{parsed.isoformat()} 晚于今天（{self.lookups.today.isoformat()}）")
            return None
        if parsed.year < 1900:
            self.fail(name, "invalid_date", f"{parsed.isoformat()} 早于1900年")
            return None
        return parsed

    def after(self, name: str, later: date | None, earlier: date | None, earlier_name: str) -> None:
        if later is not None and earlier is not None and later < earlier:
            self.fail(name, "date_order",
                      f"{later.isoformat()} 早于{self.labels[earlier_name]}（{earlier.isoformat()}）")

    def amount(self, name: str, required: bool = False) -> Decimal | None:
        value = self.rec.get(name)
        if value is None or value == "":
            if required:
                self.fail(name, "required", "必填，不能为空")
            return None
        try:
            if isinstance(value, float):
                number = Decimal(repr(value))
            elif isinstance(value, Decimal):
                number = value
            else:
                number = Decimal(str(value).strip().replace(",", ""))
        except (InvalidOperation, ValueError):
            self.fail(name, "invalid_amount", f"“{value}”不是有效金额")
            return None
        if not number.is_finite():
            self.fail(name, "invalid_amount", f"“{value}”不是有效金额")
            return None
        if number < 0:
            self.fail(name, "negative_amount", f"{number} 不能为负数")
            return None
        if number > MAX_AMOUNT:
            self.fail(name, "invalid_amount", f"{number} 超过上限 {MAX_AMOUNT}")
            return None
        if number.as_tuple().exponent < -2:  # type: ignore[operator]
            self.fail(name, "invalid_amount", f"{number} 最多保留两位小数")
            return None
        return number

    def code_in(self, name: str, known: Mapping[str, Any] | set[str], what: str, required: bool = False) -> Any:
        value = self.text(name, 64, required)
        if value is None:
            return None
        if isinstance(known, set):
            if value not in known:
                self.fail(name, f"unknown_{what}", f"代码“{value}”不存在")
                return None
            return value
        found = known.get(value)
        if found is None:
            self.fail(name, f"unknown_{what}", f"代码“{value}”不存在")
        return found

    def uscc(self) -> str | None:
        value = self.text("uscc", 64, True)
        if value is None:
            return None
        try:
            return validate_uscc(value)
        except UsccError as exc:
            self.fail("uscc", f"uscc_{exc.code}", exc.message_zh)
            return None

    def entity(self, entity_ids: dict[str, int]) -> int | None:
        value = self.rec.get("uscc")
        key = value.strip().upper() if isinstance(value, str) else _plain(value).strip().upper() if value else ""
        found = entity_ids.get(key)
        if found is not None:
            return found
        normalised = self.uscc()  # explains a malformed code; a well-formed one is simply unknown
        if normalised is not None:
            self.fail("uscc", "unknown_entity", f"“{normalised}”对应的监管对象不存在，请先导入监管对象")
        return None

    def store_date(self, value: date | None) -> Any:
        return value.isoformat() if value is not None and self.lookups.iso_dates else value

    def store_amount(self, value: Decimal | None) -> Any:
        return str(value) if value is not None and self.lookups.iso_dates else value


def _plain(value: Any) -> str:
    """A cell value as text: Excel hands whole numbers over as floats."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return str(value)


def _parse_date(value: Any) -> date | None:
    if type(value) is date:
        return value
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    text = text.replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").rstrip("日")
    for candidate in (text, text.split(" ")[0], text.split("T")[0]):
        try:
            return datetime.strptime(candidate, "%Y-%m-%d").date()
        except ValueError:
            continue
    return None


def _usccs(chunk: Sequence[tuple[int, Mapping[str, Any]]]) -> set[str]:
    codes = set()
    for _, rec in chunk:
        value = rec.get("uscc") if isinstance(rec, Mapping) else None
        if value:
            codes.add(value.strip().upper() if isinstance(value, str) else _plain(value).strip().upper())
    return codes


Validator = Callable[[Sequence[tuple[int, Mapping[str, Any]]], Lookups], tuple[list[tuple], list[RowError]]]

_ENTITY_TYPES = enum_aliases(ENTITY_TYPE_LABELS, "entity_type")
_ENTITY_STATUSES = enum_aliases(ENTITY_STATUS_LABELS, "status")
_ITEM_KINDS = enum_aliases(ITEM_KIND_LABELS, "kind")
_ACTION_KINDS = enum_aliases(ACTION_KIND_LABELS, "kind")
_RESULTS = enum_aliases(INSPECTION_RESULT_LABELS, "result")
_CHANNELS = enum_aliases(COMPLAINT_CHANNEL_LABELS, "channel")
_CREDIT_KINDS = enum_aliases(CREDIT_KIND_LABELS, "credit_kind")


def _checked(chunk, lookups: Lookups, kind: str, check) -> tuple[list[tuple], list[RowError]]:
    labels = _LABELS[kind]
    rows: list[tuple] = []
    errors: list[RowError] = []
    for index, rec in chunk:
        if isinstance(rec, BadRecord):
            errors.append((index, None, rec.code, rec.message))
            continue
        if not isinstance(rec, Mapping):
            errors.append((index, None, "not_an_object", "记录应为字段名到值的对象"))
            continue
        r = _Record(index, rec, labels, lookups)
        row = check(r)
        if r.errors:
            errors.extend(r.errors)
        else:
            rows.append(row)
    return rows, errors


def validate_entities(chunk, lookups: Lookups):
    def check(r: _Record) -> tuple:
        uscc = r.uscc()
        name = r.text("name", 200, True)
        entity_type = r.choice("entity_type", _ENTITY_TYPES, ENTITY_TYPE_LABELS, True)
        industry = r.code_in("industry_code", lookups.industries, "industry")
        region = r.code_in("region_code", lookups.regions, "region")
        capital = r.amount("registered_capital")
        founded = r.day("founded_on")
        status = r.choice("status", _ENTITY_STATUSES, ENTITY_STATUS_LABELS) or "active"
        return (r.index, uscc, name, entity_type, industry, region, r.store_amount(capital), r.store_date(founded),
                status)
    return _checked(chunk, lookups, "entities", check)


def validate_items(chunk, lookups: Lookups):
    def check(r: _Record) -> tuple:
        code = r.text("code", 64, True)
        name = r.text("name", 200, True)
        department = r.code_in("department_code", lookups.departments, "department", True)
        kind = r.choice("kind", _ITEM_KINDS, ITEM_KIND_LABELS, True)
        basis = r.text("legal_basis", 500) or ""
        return (r.index, code, name, department, kind, basis)
    return _checked(chunk, lookups, "items", check)


def validate_actions(chunk, lookups: Lookups):
    entity_ids = lookups.entity_ids(_usccs(chunk))
    items = lookups.items
    departments = lookups.departments

    def check(r: _Record) -> tuple:
        external_id = r.text("external_id", 64, True)
        kind = r.choice("kind", _ACTION_KINDS, ACTION_KIND_LABELS, True)
        item = r.code_in("item_code", items, "item", True)
        department = r.code_in("department_code", departments, "department", True)
        entity = r.entity(entity_ids)
        started = r.day("started_on", True)
        decided = r.day("decided_on", kind == "penalty")
        r.after("decided_on", decided, started, "started_on")
        if kind == "inspection":
            result = r.choice("result", _RESULTS, INSPECTION_RESULT_LABELS, True)
        else:
            result = r.text("result", 32)
        amount = r.amount("penalty_amount", kind == "penalty")
        document = r.text("document_number", 100, kind in ("penalty", "coercion"))
        officers = r.text("officers", 200)
        return (r.index, external_id, kind, item, department, entity, r.store_date(started), r.store_date(decided),
                result, r.store_amount(amount), document, officers)
    return _checked(chunk, lookups, "actions", check)


def validate_complaints(chunk, lookups: Lookups):
    entity_ids = lookups.entity_ids(_usccs(chunk))

    def check(r: _Record) -> tuple:
        external_id = r.text("external_id", 64, True)
        entity = r.entity(entity_ids)
        received = r.day("received_on", True)
        channel = r.choice("channel", _CHANNELS, COMPLAINT_CHANNEL_LABELS, True)
        category = r.text("category", 64, True)
        responded = r.day("responded_on")
        r.after("responded_on", responded, received, "received_on")
        outcome = r.text("outcome", 200)
        return (r.index, external_id, entity, r.store_date(received), channel, category, r.store_date(responded),
                outcome)
    return _checked(chunk, lookups, "complaints", check)


def validate_credit(chunk, lookups: Lookups):
    entity_ids = lookups.entity_ids(_usccs(chunk))

    def check(r: _Record) -> tuple:
        external_id = r.text("external_id", 64, True)
        entity = r.entity(entity_ids)
        kind = r.choice("kind", _CREDIT_KINDS, CREDIT_KIND_LABELS, True)
        listed = r.day("listed_on", True)
        removed = r.day("removed_on")
        r.after("removed_on", removed, listed, "listed_on")
        authority = r.text("authority", 100)
        reason = r.text("reason", 500)
        return (r.index, external_id, entity, kind, r.store_date(listed), r.store_date(removed), authority, reason)
    return _checked(chunk, lookups, "credit", check)


VALIDATORS: dict[str, Validator] = {
    "entities": validate_entities,
    "items": validate_items,
    "actions": validate_actions,
    "complaints": validate_complaints,
    "credit": validate_credit,
}
