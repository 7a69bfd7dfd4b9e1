"""Building the demo Suzhou city in a database: departments, integration accounts, data sources, then every record
through the real ingestion path (`domain.supervision.ingest.ingest_stream`), validation included.

Idempotent: the same seed and end date give the same records under the same keys (USCC, source + external id),
so running it again updates rather than duplicates. Each source delivers like a real one — an initial history load,
then a push every night for the last RECENT_DAYS, each batch dated to its push (one system went quiet weeks ago)
— and a few deliberately broken records ride along, so integration status and batch errors look like a city's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from domain.audit.service import record_audit
from domain.db import Database
from domain.demo import profiles as P
from domain.demo.generator import DemoChunk, DemoCity
from domain.errors import InvalidInput
from domain.identity.actor import Actor
from domain.identity.departments import DepartmentInput, create_department
from domain.identity.models import Department, User
from domain.identity.policy import require
from domain.identity.users import UserInput, create_user
from domain.integration.models import DataSource, IngestionBatch
from domain.integration.service import create_data_source
from domain.jobs.service import JobContext, job_handler
from domain.reference.service import load_reference_data
from domain.supervision.ingest import ingest_stream
from domain.supervision.models import Entity
from domain.types import LOCAL_TZ, UTCDateTime, local_today, table_of, utcnow

__all__ = [
    "DEFAULT_ENTITIES",
    "DEFAULT_SEED",
    "MAX_ENTITIES",
    "RECENT_DAYS",
    "DemoSummary",
    "build_demo_city",
    "has_entities",
    "prepare_demo_city",
]

DEFAULT_ENTITIES = 20_000
DEFAULT_SEED = 2026
MAX_ENTITIES = 5_000_000
_STREAM_CHUNK = 10_000
RECENT_DAYS = 7  # the last week arrives as nightly pushes, one batch per source and night with data
_DATE_FIELD = {"entities": "founded_on", "actions": "started_on", "complaints": "received_on", "credit": "listed_on"}


@dataclass
class DemoSummary:
    entities: int
    seed: int
    end_date: date
    received: dict[str, int] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"entities": self.entities, "seed": self.seed, "end_date": self.end_date.isoformat(),
                "received": self.received, "accepted": self.accepted, "rejected": self.rejected,
                "batches": self.batches, "seconds": round(self.seconds, 1)}


def has_entities(session: Session) -> bool:
    return session.exec(select(Entity.id).limit(1)).first() is not None


# --- directory: departments, integration accounts, data sources ----------------------------------------------

def prepare_demo_city(session: Session, actor: Actor, city: DemoCity) -> dict[str, int]:
    """Reference data, the departments, one integration user per connected system, the data sources.

    Only what is missing is created, through the identity and integration services (so it is all audited).
    """
    require(actor, "departments.manage")
    load_reference_data(session.connection())
    existing = {d.code: d for d in session.exec(select(Department))}
    created = {"departments": 0, "users": 0, "sources": 0}
    for row in city.departments():  # parents come first in the file
        if row["code"] in existing:
            continue
        parent = existing[row["parent_code"]].id if row["parent_code"] else None
        existing[row["code"]] = create_department(session, actor, DepartmentInput(
            code=row["code"], name=row["name"], level=row["level"], region_code=row["region_code"],
            parent_id=parent))
        created["departments"] += 1

    sources = {s.code for s in session.exec(select(DataSource))}
    users = {u.username: u for u in session.exec(select(User))}
    for spec in P.SOURCES:
        if spec["code"] in sources:
            continue
        dept = existing[spec["department"]] if spec["department"] else None
        username = None
        if spec["kind"] != "manual":  # hand entry is done by staff, not by an integration account
            username = f"svc-{spec['code']}"
            if username not in users:
                users[username] = create_user(session, actor, UserInput(
                    username=username, display_name=f"{spec['name']}接口账号", roles=["viewer"],
                    department_id=dept.id if dept else None))
                created["users"] += 1
        # the item catalogue changes rarely: it comes from the phase-one platform but runs on no freshness clock
        create_data_source(session, actor, code=spec["code"], name=spec["name"], kind=spec["kind"],
                           department_code=spec["department"], username=username,
                           expected_feeds=[f for f in spec["feeds"] if f != "items"],
                           description=spec["description"])
        created["sources"] += 1
    session.flush()
    return created


# --- records, with the few broken ones each chunk carries ---------------------------------------------------

def _bad_check_character(rec: dict) -> dict:
    code = rec["uscc"]
    wrong = "0" if code[-1] != "0" else "1"
    return {**rec, "uscc": code[:-1] + wrong}


def _faults(kind: str, source: str) -> list[Callable[[dict], dict]]:
    """Realistic mistakes seen in department exports, per stream; each turns a good record into a bad one."""
    if kind == "entities":
        return [_bad_check_character, lambda r: {**r, "industry_code": "99"},
                lambda r: {**r, "region_code": "320599"}]
    if kind == "actions" and source == "scjg-system":
        return [lambda r: {**r, "uscc": _bad_check_character(r)["uscc"]},
                lambda r: {**r, "kind": "penalty", "penalty_amount": None, "decided_on": r["started_on"],
                           "result": None}]
    if kind == "actions" and source == "yjgl-system":
        return [lambda r: {**r, "item_code": "320500-YJGL-JC-999"}]
    if kind == "actions" and source == "MANUAL":
        return [lambda r: {**r, "kind": "inspection", "result": "合格率高"}]
    if kind == "complaints":
        return [lambda r: {**r, "received_on": local_today() + timedelta(days=30), "responded_on": None}]
    if kind == "credit":
        return [lambda r: {**r, "removed_on": r["listed_on"] - timedelta(days=3)}]
    return []


def _stream(chunk: DemoChunk, kind: str, source: str) -> Iterator[dict]:
    if kind == "entities":
        yield from chunk.entity_records()
    elif kind == "actions":
        yield from chunk.action_records(source)
    elif kind == "complaints":
        yield from chunk.complaint_records()
    elif kind == "credit":
        yield from chunk.credit_records()


@dataclass(frozen=True)
class _Feed:
    """How one source delivered: an initial history load, then a push every night for its last RECENT_DAYS."""

    order: int
    last_day: date  # the last day whose records it sent (nothing after: it went quiet)
    history_until: date  # records up to this day arrived in the initial load

    def push_time(self, day: date, now: datetime) -> datetime:
        """The nightly push carrying ``day``'s records: just after 02:00 the next morning, Suzhou time."""
        local = datetime.combine(day + timedelta(days=1), dt_time(2, (7 * self.order) % 60), tzinfo=LOCAL_TZ)
        return min(local.astimezone(UTC), now)


def _feeds(end_date: date) -> dict[str, _Feed]:
    feeds = {}
    for order, spec in enumerate(P.SOURCES):
        last_day = end_date - timedelta(days=1 + spec["quiet_days"])  # today's records arrive tonight
        feeds[spec["code"]] = _Feed(order, last_day, last_day - timedelta(days=RECENT_DAYS))
    return feeds


def _with_fault(records: list[dict], kind: str, source: str, n: int, tag: str) -> list[dict]:
    """The records plus the ``n``-th broken variant of the first one (if this stream has any)."""
    faults = _faults(kind, source)
    if not faults or not records:
        return records
    bad = faults[n % len(faults)](records[0])
    if "external_id" in bad:
        bad["external_id"] = f"X{tag}-{bad['external_id']}"
    return [*records, bad]


def _history(chunk: DemoChunk, kind: str, source: str, feed: _Feed,
             recent: dict[date, list[dict]]) -> Iterator[dict]:
    """The records of the initial load, then this chunk's broken ones; the last days' records go to ``recent``."""
    date_field = _DATE_FIELD[kind]
    faults = _faults(kind, source)
    samples: list[dict] = []
    for rec in _stream(chunk, kind, source):
        day = rec[date_field]
        if day > feed.last_day:
            continue
        if day > feed.history_until:
            recent.setdefault(day, []).append(rec)
            continue
        if len(samples) < len(faults):
            samples.append(rec)
        yield rec
    for n, (fault, sample) in enumerate(zip(faults, samples, strict=False)):
        bad = fault(sample)
        if "external_id" in bad:
            bad["external_id"] = f"X{chunk.index:03d}{n:02d}-{bad['external_id']}"
        yield bad


def _streams() -> list[tuple[str, str]]:
    """(kind, source) in load order: entities before what refers to them."""
    order = [("entities", "dc-entity-base")]
    order += [("actions", s["code"]) for s in P.SOURCES if "actions" in s["feeds"]]
    order += [("complaints", "phase-one"), ("credit", "dc-credit-base")]
    return order


# --- the whole city -----------------------------------------------------------------------------------------

def build_demo_city(db: Database, actor: Actor, *, entities: int = DEFAULT_ENTITIES, seed: int = DEFAULT_SEED,
                    end_date: date | None = None, job_id: int | None = None,
                    progress: Callable[[int, int | None, str], None] | None = None) -> DemoSummary:
    """Generate the city and load it through the ingestion path: the history chunk by chunk, then each source's
    nightly pushes of its last days. Returns what went in."""
    if not 1 <= entities <= MAX_ENTITIES:
        raise InvalidInput(f"entities must be between 1 and {MAX_ENTITIES}, got {entities}", field="entities",
                           code="out_of_range")
    require(actor, "data.ingest")
    started = time.monotonic()
    city = DemoCity(entities=entities, seed=seed, end_date=end_date or local_today())
    summary = DemoSummary(entities=entities, seed=seed, end_date=city.end_date)
    report = progress or (lambda done, total, message: None)

    with db.unit_of_work() as session:
        created = prepare_demo_city(session, actor, city)
    report(0, entities, f"directory ready ({created['departments']} departments, {created['sources']} sources)")

    now = utcnow()
    feeds = _feeds(city.end_date)
    pushed: list[tuple[int, datetime]] = []  # batch id, when its source sent it

    def run(kind: str, source: str, records: Iterable[dict], when: datetime,
            on_progress: Callable[[int], None] | None = None) -> int:
        result = ingest_stream(db, actor, source=source, kind=kind, records=records, channel="demo",
                               chunk_size=_STREAM_CHUNK, job_id=job_id, on_progress=on_progress)
        for target, value in ((summary.received, result.received), (summary.accepted, result.accepted),
                              (summary.rejected, result.rejected)):
            target[kind] = target.get(kind, 0) + value
        summary.batches += 1
        pushed.append((result.batch_id, when))
        return result.received

    phase_one = feeds["phase-one"]
    run("items", "phase-one", city.item_records(), phase_one.push_time(phase_one.history_until, now))
    streams = _streams()
    recent: dict[tuple[str, str], dict[date, list[dict]]] = {stream: {} for stream in streams}
    for chunk in city.chunks():
        n = len(chunk.entities)
        total_records = n + len(chunk.actions) + len(chunk.complaints) + len(chunk.credit)
        done_records = 0
        for kind, source in streams:
            feed = feeds[source]
            label = f"chunk {chunk.index + 1}/{city.chunk_count}: {kind} from {source}"
            step = _chunk_progress(report, entities, chunk.start, n, done_records, total_records, label)
            records = _history(chunk, kind, source, feed, recent[(kind, source)])
            done_records += run(kind, source, records, feed.push_time(feed.history_until, now), step)
        report(chunk.start + n, entities, f"chunk {chunk.index + 1}/{city.chunk_count} loaded")

    days = sorted({day for by_day in recent.values() for day in by_day})
    for i, day in enumerate(days):
        report(entities, entities, f"nightly pushes of {day.isoformat()}")
        for j, (kind, source) in enumerate(streams):
            night = recent[(kind, source)].pop(day, [])
            if not night:
                continue
            if (i + j) % 4 == 0:  # now and then a push carries a broken record
                night = _with_fault(night, kind, source, i, day.strftime("%Y%m%d"))
            run(kind, source, night, feeds[source].push_time(day, now))

    with db.unit_of_work() as session:
        _date_batches(session, pushed)
        record_audit(session, actor, "demo.build", "demo", None, summary.as_dict())
    summary.seconds = time.monotonic() - started
    return summary


def _chunk_progress(report: Callable[[int, int | None, str], None], entities: int, start: int, size: int,
                    base: int, total: int, label: str) -> Callable[[int], None]:
    """Progress in entities: the chunk's share of records loaded so far, mapped onto its entities."""
    def step(done: int) -> None:
        report(start + int(size * min(base + done, total) / max(total, 1)), entities, label)
    return step


def _date_batches(session: Session, pushed: list[tuple[int, datetime]]) -> None:
    """Date each batch to when its source sent it; a source created by this run went live just before."""
    batches = table_of(IngestionBatch)
    session.execute(
        sa.update(batches).where(batches.c.id == sa.bindparam("batch_id"))
        .values(created_at=sa.bindparam("when", type_=UTCDateTime()),
                finished_at=sa.bindparam("when", type_=UTCDateTime())),
        [{"batch_id": batch_id, "when": when} for batch_id, when in pushed])
    first_push = dict(session.execute(
        sa.select(batches.c.source_id, sa.func.min(batches.c.created_at)).group_by(batches.c.source_id)).all())
    for source in session.exec(select(DataSource)):
        first = first_push.get(source.id)
        if first is not None and source.created_at > first:
            source.created_at = first - timedelta(hours=6)


@job_handler("demo")
def demo_job(ctx: JobContext) -> dict[str, Any]:
    """Job: build the demo city (params: entities, seed, end_date as YYYY-MM-DD)."""
    params = ctx.params
    end = params.get("end_date")
    summary = build_demo_city(
        ctx.db, ctx.actor, entities=int(params.get("entities", DEFAULT_ENTITIES)),
        seed=int(params.get("seed", DEFAULT_SEED)), end_date=date.fromisoformat(end) if end else None,
        job_id=ctx.job_id, progress=lambda done, total, message: ctx.progress(done, total, message))
    ctx.progress(summary.entities, summary.entities, "done", force=True)
    return summary.as_dict()
