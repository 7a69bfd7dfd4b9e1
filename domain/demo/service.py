"""Building the demo Suzhou city in a database: departments, integration accounts, data sources, then every record
through the real ingestion path (`domain.supervision.ingest.ingest_stream`), validation included.

Idempotent: the same seed and end date give the same records under the same keys (USCC, source + external id),
so running it again updates rather than duplicates. A few deliberately broken records go in with each chunk so
the batches show real validation errors, and each source's batches are dated to its last push (one system went
quiet weeks ago), so integration status looks like a city's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
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
from domain.jobs.service import JobContext, job_handler
from domain.reference.service import load_reference_data
from domain.supervision.ingest import ingest_stream
from domain.supervision.models import Entity
from domain.types import local_today, utcnow

__all__ = [
    "DEFAULT_ENTITIES",
    "DEFAULT_SEED",
    "MAX_ENTITIES",
    "DemoSummary",
    "build_demo_city",
    "has_entities",
    "prepare_demo_city",
]

DEFAULT_ENTITIES = 20_000
DEFAULT_SEED = 2026
MAX_ENTITIES = 5_000_000
_STREAM_CHUNK = 10_000
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

    Only what is missing is created (departments and users through the identity service, so they are audited).
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
        user_id = None
        if spec["kind"] != "manual":  # hand entry is done by staff, not by an integration account
            username = f"svc-{spec['code']}"
            user = users.get(username) or create_user(session, actor, UserInput(
                username=username, display_name=f"{spec['name']}接口账号", roles=["viewer"],
                department_id=dept.id if dept else None))
            created["users"] += username not in users
            user_id = user.id
        session.add(DataSource(code=spec["code"], name=spec["name"], kind=spec["kind"],
                               department_id=dept.id if dept else None, user_id=user_id,
                               expected_feeds=list(spec["feeds"])))
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
    if kind == "actions" and source == "manual":
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


def _records(chunk: DemoChunk, kind: str, source: str, received_until: date) -> Iterator[dict]:
    """The stream's records up to the day the source last pushed, then its broken ones."""
    date_field = _DATE_FIELD[kind]
    faults = _faults(kind, source)
    samples: list[dict] = []
    for rec in _stream(chunk, kind, source):
        day = rec[date_field]
        if day is not None and day > received_until:
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
    """Generate the city and load it through the ingestion path, chunk by chunk; returns what went in."""
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

    silent = {s["code"]: s["silent_days"] for s in P.SOURCES}
    batch_ids: dict[str, list[int]] = {code: [] for code in silent}

    def run(kind: str, source: str, records: Iterable[dict], on_progress: Callable[[int], None] | None = None):
        result = ingest_stream(db, actor, source=source, kind=kind, records=records, channel="demo",
                               chunk_size=_STREAM_CHUNK, job_id=job_id, on_progress=on_progress)
        for target, value in ((summary.received, result.received), (summary.accepted, result.accepted),
                              (summary.rejected, result.rejected)):
            target[kind] = target.get(kind, 0) + value
        summary.batches += 1
        batch_ids[source].append(result.batch_id)
        return result

    run("items", "phase-one", city.item_records())
    streams = _streams()
    for chunk in city.chunks():
        n = len(chunk.entities)
        total_records = n + len(chunk.actions) + len(chunk.complaints) + len(chunk.credit)
        done_records = 0
        for kind, source in streams:
            received_until = city.end_date - timedelta(days=int(silent[source]))
            label = f"chunk {chunk.index + 1}/{city.chunk_count}: {kind} from {source}"
            step = _chunk_progress(report, entities, chunk.start, n, done_records, total_records, label)
            done_records += run(kind, source, _records(chunk, kind, source, received_until), step).received
        report(chunk.start + n, entities, f"chunk {chunk.index + 1}/{city.chunk_count} loaded")

    with db.unit_of_work() as session:
        _date_batches(session, batch_ids, silent)
        record_audit(session, actor, "demo.build", "demo", None, summary.as_dict())
    summary.seconds = time.monotonic() - started
    return summary


def _chunk_progress(report: Callable[[int, int | None, str], None], entities: int, start: int, size: int,
                    base: int, total: int, label: str) -> Callable[[int], None]:
    """Progress in entities: the chunk's share of records loaded so far, mapped onto its entities."""
    def step(done: int) -> None:
        report(start + int(size * min(base + done, total) / max(total, 1)), entities, label)
    return step


def _date_batches(session: Session, batch_ids: dict[str, list[int]], silent: dict[str, float]) -> None:
    """Date each source's batches to its last push, so freshness reads like a running city."""
    now = utcnow()
    table = IngestionBatch.__table__
    for source, ids in batch_ids.items():
        if not ids:
            continue
        when = now - timedelta(days=silent[source])
        session.execute(sa.update(table).where(table.c.id.in_(ids)).values(created_at=when, finished_at=when))


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
