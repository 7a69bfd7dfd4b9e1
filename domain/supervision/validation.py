"""Record validation for ingestion: cheap per-record checks, code lookups done once per chunk.

Each `validate_<kind>` takes a chunk of `(index, record)` pairs and the per-ingest `Lookups`, and returns the
stage rows (index, the `STAGE_COLUMNS[kind]` values, the presence mask, the file row) and the errors
`(index, field, code, message, row)`. Messages are in Chinese and name the field by its label.

Partial records: an optional field that a record does not carry (a column the file lacks, an empty cell, a
GraphQL input field left out, a JSON key left out) is not in the record, and the upsert leaves the stored value
alone; its bit in the presence mask (`OPTIONAL_FIELDS` order) is 0. A field given as an explicit null (GraphQL,
JSON) is present and clears the stored value — except `status`, which is never cleared.

Records read from a file are `FileRecord`s carrying their row in the file (header = row 1; line for .jsonl).
"""

from __future__ import annotations

import re
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
    ACTION_TRIGGER_LABELS,
    COMPLAINT_CHANNEL_LABELS,
    CREDIT_KIND_LABELS,
    ENTITY_STATUS_LABELS,
    ENTITY_TYPE_LABELS,
    INSPECTION_RESULT_LABELS,
    ITEM_KIND_LABELS,
    RECORD_FIELDS,
    enum_aliases,
)
from domain.supervision.models import DEREGISTERED_STATUSES, Entity, SupervisionItem
from domain.supervision.uscc import UsccError, validate_uscc
from domain.types import table_of

__all__ = [
    "CONTROL_CHARACTERS",
    "OPTIONAL_FIELDS",
    "STAGE_COLUMNS",
    "VALIDATORS",
    "BadRecord",
    "FileRecord",
    "Lookups",
    "RowError",
    "normalise_industry_code",
    "printable",
]

RowError = tuple[int, str | None, str, str, int | None]  # index, field, code, message, file row

# Stage columns per kind (after the record index): the target table's columns, codes already resolved to ids.
STAGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "entities": ("uscc", "name", "entity_type", "industry_code", "industry_class_code", "region_code",
                 "registered_capital", "founded_on", "status", "status_changed_on", "deregistered_on"),
    "items": ("code", "name", "department_id", "kind", "legal_basis"),
    "actions": ("external_id", "kind", "item_id", "department_id", "entity_id", "started_on", "decided_on",
                "result", "penalty_amount", "document_number", "officers", "trigger"),
    "complaints": ("external_id", "entity_id", "received_on", "channel", "category", "responded_on", "outcome"),
    "credit": ("external_id", "entity_id", "kind", "listed_on", "removed_on", "authority", "reason"),
}
# Optional input fields per kind, in presence-mask bit order, with the stage columns each one sets on update.
OPTIONAL_FIELDS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "entities": (("industry_code", ("industry_code", "industry_class_code")), ("region_code", ("region_code",)),
                 ("registered_capital", ("registered_capital",)), ("founded_on", ("founded_on",)),
                 ("status", ("status", "deregistered_on")), ("status_changed_on", ("status_changed_on",))),
    "items": (("legal_basis", ("legal_basis",)),),
    "actions": (("decided_on", ("decided_on",)), ("result", ("result",)), ("penalty_amount", ("penalty_amount",)),
                ("document_number", ("document_number",)), ("officers", ("officers",)), ("trigger", ("trigger",))),
    "complaints": (("responded_on", ("responded_on",)), ("outcome", ("outcome",))),
    "credit": (("removed_on", ("removed_on",)), ("authority", ("authority",)), ("reason", ("reason",))),
}
_NEVER_CLEARED = frozenset({"status"})  # an explicit null means "not given"
_MASK_BITS = {kind: tuple((1 << bit, name) for bit, (name, _) in enumerate(fields))
              for kind, fields in OPTIONAL_FIELDS.items()}
# C0 controls except tab/newline/carriage return, DEL, C1 controls: never stored (PostgreSQL refuses NUL).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MAX_AMOUNT = Decimal("99999999999999.99")
_LABELS = {kind: {spec.name: spec.label for spec in specs} for kind, specs in RECORD_FIELDS.items()}


@dataclass(frozen=True)
class BadRecord:
    """A record a reader could not make sense of (e.g. a line that is not JSON), reported as its error."""

    code: str
    message: str
    row: int | None = None


class FileRecord(dict):
    """A record read from a file: a plain dict of its non-empty cells, plus its row in the file."""

    __slots__ = ("row",)

    def __init__(self, row: int, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.row = row


def printable(text: str) -> str:
    """`text` with control characters written as U+XXXX, safe to store in a message on either database."""
    return CONTROL_CHARACTERS.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


_INDUSTRY = re.compile(r"([A-T])?(\d{2})?(\d{1,2})?")


def normalise_industry_code(value: str, industries: Mapping[str, str | None]) -> tuple[str | None, str | None, str]:
    """GB/T 4754-2017 code as integrators send it -> (division or section, four-digit class or None, problem).

    Accepts `C`, `13`, `C13`, `131`, `C131`, `1310`, `C1310` (also with spaces, dots or hyphens); the division must
    exist and, where a section letter is given, belong to it. `industries` maps code -> parent (section) code.
    On success `problem` is "".
    """
    text = re.sub(r"[\s.\-]", "", value).upper()
    match = _INDUSTRY.fullmatch(text)
    if not text or match is None or (match.group(2) is None and match.group(3) is not None):
        return None, None, (f"“{value}”不是 GB/T 4754-2017 行业代码，应为门类字母（如 C）、两位大类（如 13）、"
                            "三位中类或四位小类（如 1310），可带门类字母（如 C13、C1310）")
    section, division, rest = match.groups()
    if division is None:
        if section not in industries:
            return None, None, f"门类“{section}”不存在"
        return section, None, ""
    if division not in industries:
        return None, None, f"“{value}”中的大类“{division}”不存在（GB/T 4754-2017）"
    parent = industries[division]
    if section is not None and parent != section:
        return None, None, f"“{value}”中的大类“{division}”属于门类“{parent}”，不属于门类“{section}”"
    if rest is not None and rest[0] == "0":
        return None, None, f"“{value}”中的中类编号不能为 0"
    return division, (division + rest if rest is not None and len(rest) == 2 else None), ""


@dataclass
class Lookups:
    """What validation needs from the database, read once per ingest (small tables) or once per chunk (entities)."""

    connection: sa.Connection
    today: date
    iso_dates: bool  # SQLite stores dates as ISO text and amounts as text; PostgreSQL takes the objects
    departments: dict[str, int] = field(default_factory=dict)
    items: dict[str, tuple[int, str]] = field(default_factory=dict)  # code -> (id, kind)
    regions: set[str] = field(default_factory=set)
    industries: dict[str, str | None] = field(default_factory=dict)  # code -> its section

    @classmethod
    def load(cls, connection: sa.Connection, kind: str, today: date) -> Lookups:
        lookups = cls(connection, today, connection.dialect.name == "sqlite")
        if kind in ("items", "actions"):
            dept = table_of(Department)
            lookups.departments = dict(connection.execute(sa.select(dept.c.code, dept.c.id)).all())
        if kind == "actions":
            item = table_of(SupervisionItem)
            lookups.items = {code: (id_, kind) for code, id_, kind in
                             connection.execute(sa.select(item.c.code, item.c.id, item.c.kind)).all()}
        if kind == "entities":
            lookups.regions = set(connection.execute(sa.select(table_of(Region).c.code)).scalars())
            industry = table_of(Industry)
            lookups.industries = dict(connection.execute(sa.select(industry.c.code, industry.c.parent_code)).all())
        return lookups

    def entity_ids(self, usccs: set[str]) -> dict[str, int]:
        """uscc -> entity id for the codes of one chunk, in one statement."""
        if not usccs:
            return {}
        table = table_of(Entity)
        stmt = sa.select(table.c.uscc, table.c.id).where(table.c.uscc.in_(sa.bindparam("codes", expanding=True)))
        return dict(self.connection.execute(stmt, {"codes": list(usccs)}).all())


class _Record:
    """Checks the fields of one record, collecting errors instead of stopping at the first."""

    __slots__ = ("errors", "index", "labels", "lookups", "rec", "row")

    def __init__(self, index: int, rec: Mapping[str, Any], labels: dict[str, str], lookups: Lookups) -> None:
        self.index = index
        self.rec = rec
        self.row: int | None = getattr(rec, "row", None)
        self.labels = labels
        self.lookups = lookups
        self.errors: list[RowError] = []

    def fail(self, name: str | None, code: str, problem: str) -> None:
        label = self.labels.get(name, name) if name else None
        message = printable(f"{label}：{problem}" if label else problem)
        self.errors.append((self.index, name, code, message, self.row))

    def mask(self, kind: str) -> int:
        rec = self.rec
        return sum(bit for bit, name in _MASK_BITS[kind]
                   if name in rec and (rec[name] is not None or name not in _NEVER_CLEARED))

    def text(self, name: str, max_len: int, required: bool = False) -> str | None:
        value = self.rec.get(name)
        if value is None:
            if required:
                self.fail(name, "required", "必填，不能为空")
            return None
        if type(value) is not str:
            value = _plain(value)
        bad = CONTROL_CHARACTERS.search(value)
        if bad is not None:
            self.fail(name, "control_character",
                      f"第{bad.start() + 1}个字符是不可见的控制字符（U+{ord(bad.group()):04X}），请删除后重新提交")
            return None
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
        if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
            self.text(name, 64)  # reports the control character
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
        if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
            self.text(name, 64)  # reports the control character
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

    def industry(self) -> tuple[str | None, str | None]:
        value = self.text("industry_code", 64)
        if value is None:
            return None, None
        division, class_code, problem = normalise_industry_code(value, self.lookups.industries)
        if problem:
            self.fail("industry_code", "unknown_industry" if "不存在" in problem else "invalid_industry", problem)
        return division, class_code

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
        if CONTROL_CHARACTERS.search(key):
            self.uscc()  # reports the control character
            return None
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
_TRIGGERS = enum_aliases(ACTION_TRIGGER_LABELS, "trigger")


def _checked(chunk, lookups: Lookups, kind: str, check) -> tuple[list[tuple], list[RowError]]:
    labels = _LABELS[kind]
    rows: list[tuple] = []
    errors: list[RowError] = []
    for index, rec in chunk:
        if isinstance(rec, BadRecord):
            errors.append((index, None, rec.code, printable(rec.message), rec.row))
            continue
        if not isinstance(rec, Mapping):
            errors.append((index, None, "not_an_object", "记录应为字段名到值的对象", None))
            continue
        r = _Record(index, rec, labels, lookups)
        row = check(r)
        if r.errors:
            errors.extend(r.errors)
        else:
            rows.append((*row, r.mask(kind), r.row))
    return rows, errors


def validate_entities(chunk, lookups: Lookups):
    def check(r: _Record) -> tuple:
        uscc = r.uscc()
        name = r.text("name", 200, True)
        entity_type = r.choice("entity_type", _ENTITY_TYPES, ENTITY_TYPE_LABELS, True)
        industry, industry_class = r.industry()
        region = r.code_in("region_code", lookups.regions, "region")
        capital = r.amount("registered_capital")
        founded = r.day("founded_on")
        status = r.choice("status", _ENTITY_STATUSES, ENTITY_STATUS_LABELS)
        changed = r.day("status_changed_on")
        if changed is not None and status is None and r.rec.get("status") is None:
            r.fail("status_changed_on", "status_required", "给出状态变更日期时须同时给出登记状态")
        r.after("status_changed_on", changed, founded, "founded_on")
        status = status or "active"
        deregistered = changed if status in DEREGISTERED_STATUSES else None
        return (r.index, uscc, name, entity_type, industry, industry_class, region, r.store_amount(capital),
                r.store_date(founded), status, r.store_date(changed), r.store_date(deregistered))
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
        found = r.code_in("item_code", items, "item", True)
        item = None
        if found is not None:
            item, item_kind = found
            if kind is not None and kind != item_kind:
                r.fail("kind", "kind_item_mismatch",
                       f"{ACTION_KIND_LABELS[kind]}与监管事项“{str(r.rec.get('item_code')).strip()}”的事项类别"
                       f"（{ITEM_KIND_LABELS.get(item_kind, item_kind)}）不符：行为类别须与事项类别一致")
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
        trigger = r.choice("trigger", _TRIGGERS, ACTION_TRIGGER_LABELS)
        return (r.index, external_id, kind, item, department, entity, r.store_date(started), r.store_date(decided),
                result, r.store_amount(amount), document, officers, trigger)
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
