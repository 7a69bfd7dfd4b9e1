"""Webhook delivery throughput with a local receiver (issue 14): N outbox events dispatched, then delivered signed
to a real HTTP server on this machine; prints dispatch and delivery rates.

    python -m bench.webhooks --events 2000 [--backend postgresql]

`--backlog` is the first night instead: N outbox rows written in one transaction (as the automatic issue of a
scoring run writes them: set-based, so the seeding itself holds no rows in this process), then drained by the
server's own NotificationPump (dispatch and delivery threads, on PostgreSQL also its LISTEN connection) while a
writer commits a small change every 20 ms. Prints the drain rate, the peak RSS against the RSS before the drain,
the writer's commit latencies during the drain (does the drain block new writes?), and on PostgreSQL how many
NOTIFYs a separate listener heard for how many messages.

    python -m bench.webhooks --backlog --events 100000 [--backend postgresql]
"""

from __future__ import annotations

import argparse
import http.server
import json
import resource
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from domain.db import Database
from domain.identity.actor import SYSTEM
from domain.notifications import webhooks as wh
from domain.notifications.outbox import emit
from domain.schema_version import upgrade_to_head
from domain.types import UTCDateTime, utcnow
from tests.support import create_database, drop_database

_PAYLOAD = json.dumps({"warningCode": "YJ-2026-000001", "level": "orange", "status": "issued", "fromStatus": None,
                       "toStatus": "issued", "actorName": "system", "comment": "模型评分自动下发",
                       "rowVersion": 1}, ensure_ascii=False)


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed_backlog(db: Database, n: int) -> None:
    """N undispatched outbox rows in one transaction, set-based (no rows in Python)."""
    cast = "CAST(:payload AS json)" if db.backend == "postgresql" else ":payload"
    dept = "CAST('[1, 2]' AS json)" if db.backend == "postgresql" else "'[1, 2]'"
    stmt = sa.text(f"""INSERT INTO outbox_event (kind, warning_id, event_id, department_id, departments, payload,
            created_at)
        WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :n)
        SELECT 'issue', NULL, NULL, 1, {dept}, {cast}, :now FROM g""").bindparams(
        sa.bindparam("now", type_=UTCDateTime()))
    with db.engine.begin() as conn:
        conn.execute(stmt, {"n": n, "payload": _PAYLOAD, "now": utcnow()})


class _Listener:
    """A separate LISTEN connection on PostgreSQL: how many NOTIFYs, carrying how many messages."""

    def __init__(self, db: Database) -> None:
        import psycopg

        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.conn = psycopg.connect(url, autocommit=True)
        self.conn.execute(f"LISTEN {wh.CHANNEL}")
        self.notifies = 0
        self.messages = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for note in self.conn.notifies(timeout=0.2, stop_after=1000):
                self.notifies += 1
                data = json.loads(note.payload)
                self.messages += len(data) if isinstance(data, list) else 1

    def close(self) -> None:
        self._stop.set()
        self.thread.join(2)
        self.conn.close()


def backlog(db: Database, url: str, n: int, backend: str, received: list[None]) -> None:
    from domain.notifications.pump import NotificationPump

    with db.unit_of_work() as s:
        wh.create_subscription(s, SYSTEM, wh.SubscriptionInput(name="bench", url=url, secret="s" * 32))
    t = time.perf_counter()
    seed_backlog(db, n)
    seeded = time.perf_counter() - t
    listener = _Listener(db) if backend == "postgresql" else None
    writes: list[float] = []
    stop_writer = threading.Event()

    def writer() -> None:
        i = 0
        while not stop_writer.is_set():
            started = time.perf_counter()
            with db.unit_of_work() as s:
                emit(s, "urge", warning_id=None, department_id=1, payload={"n": -i})
            writes.append(time.perf_counter() - started)
            i += 1
            stop_writer.wait(0.1)

    rss_before, peak_before = _rss_mb(), _peak_mb()
    pump = NotificationPump(db)
    t0 = time.perf_counter()
    pump.start()
    writer_thread = threading.Thread(target=writer, daemon=True)
    writer_thread.start()
    dispatched_at = None
    rss_max = rss_before
    try:
        while len(received) < n + len(writes) or not stop_writer.is_set():
            time.sleep(0.2)
            rss_max = max(rss_max, _rss_mb())
            if dispatched_at is None:
                with db.engine.connect() as conn:
                    left = conn.execute(sa.text("SELECT count(*) FROM outbox_event WHERE dispatched_at IS NULL"))
                    if left.scalar_one() == 0:
                        dispatched_at = time.perf_counter() - t0
            if len(received) >= n and not stop_writer.is_set():
                stop_writer.set()
                writer_thread.join()
            if time.perf_counter() - t0 > 3600:
                raise RuntimeError(f"not drained after an hour: {len(received)} of {n + len(writes)}")
        took = time.perf_counter() - t0
    finally:
        stop_writer.set()
        pump.stop()
    ms = sorted(w * 1000 for w in writes)
    print(f"{backend}: backlog of {n:,} outbox rows seeded in one transaction ({seeded:.1f} s); drained by the pump: "
          f"all dispatched after {dispatched_at or took:.1f} s, {len(received):,} delivered in {took:.1f} s "
          f"({len(received) / took:,.0f} events/s end to end)")
    print(f"  RSS {rss_before:.0f} MB before the drain, at most {rss_max:.0f} MB during it (peak RSS "
          f"{peak_before:.0f} → {_peak_mb():.0f} MB)")
    print(f"  a writer committing every 100 ms during the drain: {len(ms)} commits, p50 {statistics.median(ms):.1f} ms,"
          f" p99 {ms[int(len(ms) * 0.99)]:.1f} ms, max {ms[-1]:.1f} ms")
    if listener is not None:
        time.sleep(0.5)
        listener.close()
        print(f"  LISTEN: {listener.notifies:,} NOTIFYs carried {listener.messages:,} messages")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--backlog", action="store_true", help="a first night's backlog drained by the pump")
    args = parser.parse_args()
    received: list[None] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["content-length"]))
            received.append(None)  # counted, not kept: the RSS measured is the pump's
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *a) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = create_database(Path(tempfile.mkdtemp()), "webhooks", backend=args.backend)
    receiver = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        upgrade_to_head(url)
        db = Database(url)
        if args.backlog:
            backlog(db, receiver, args.events, args.backend, received)
            db.dispose()
            return
        with db.unit_of_work() as s:
            wh.create_subscription(s, SYSTEM, wh.SubscriptionInput(name="bench", url=receiver, secret="s" * 32))
            for i in range(args.events):
                emit(s, "urge", warning_id=None, department_id=None, payload={"n": i})
        t0 = time.perf_counter()
        while wh.dispatch_outbox(db, limit=1000):
            pass
        t1 = time.perf_counter()
        with httpx.Client(timeout=10) as client:
            while wh.deliver_due(db, limit=500, client=client).attempted:
                pass
        t2 = time.perf_counter()
        assert len(received) == args.events, len(received)
        print(f"{args.backend}: {args.events} events dispatched in {t1 - t0:.2f} s "
              f"({args.events / (t1 - t0):.0f}/s); delivered in {t2 - t1:.2f} s ({args.events / (t2 - t1):.0f}/s, "
              "8 in parallel)")
        db.dispose()
    finally:
        drop_database(url)
        server.shutdown()


if __name__ == "__main__":
    main()
