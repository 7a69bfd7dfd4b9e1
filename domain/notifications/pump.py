"""The delivery loop: dispatch the outbox (to webhooks and live subscribers) and send due webhooks, in background
threads of each server process; on PostgreSQL also a LISTEN connection that feeds this process's bus from every
process's NOTIFY. Also runnable once as the job "notifications_deliver"."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from domain.db import Database
from domain.jobs.service import JobContext, job_handler
from domain.notifications.bus import bus
from domain.notifications.webhooks import CHANNEL, deliver_due, dispatch_outbox

__all__ = ["DELIVER_JOB", "NotificationPump"]

log = logging.getLogger("regwatch.notifications")
DELIVER_JOB = "notifications_deliver"


class NotificationPump:
    def __init__(self, db: Database, *, dispatch_seconds: float = 0.5, deliver_seconds: float = 2.0) -> None:
        self.db = db
        self.dispatch_seconds = dispatch_seconds
        self.deliver_seconds = deliver_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.listening = threading.Event()  # set once the PostgreSQL listener is connected

    def start(self) -> None:
        self._stop.clear()
        self._spawn("notifications-dispatch", self._dispatch_loop)
        self._spawn("notifications-deliver", self._deliver_loop)
        if self.db.backend == "postgresql":
            self._spawn("notifications-listen", self._listen_loop)
        else:
            self.listening.set()

    def _spawn(self, name: str, target: Any) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _dispatch_loop(self) -> None:
        while not self._stop.is_set():
            try:
                if dispatch_outbox(self.db):
                    continue  # more may be waiting
            except Exception:
                log.exception("outbox dispatch failed")
            self._stop.wait(self.dispatch_seconds)

    def _deliver_loop(self) -> None:
        while not self._stop.is_set():
            try:
                deliver_due(self.db)
            except Exception:
                log.exception("webhook delivery failed")
            self._stop.wait(self.deliver_seconds)

    def _listen_loop(self) -> None:
        import psycopg

        url = self.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5, stop_after=100):
                            try:
                                bus.publish(json.loads(note.payload))
                            except ValueError:
                                log.warning("unreadable notification payload on %s", CHANNEL)
            except Exception:
                self.listening.clear()
                log.exception("LISTEN connection lost; reconnecting")
                self._stop.wait(2.0)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads.clear()


@job_handler(DELIVER_JOB)
def _deliver_job(ctx: JobContext) -> dict[str, Any]:
    """Dispatch the outbox and attempt due deliveries once (the CLI's or the scheduler's way)."""
    dispatched = len(dispatch_outbox(ctx.db, limit=5000))
    stats = deliver_due(ctx.db, limit=1000)
    ctx.progress(1, 1, f"分发 {dispatched} 条事件，投递 {stats.attempted} 次，成功 {stats.delivered} 次", force=True)
    return {"dispatched": dispatched, "attempted": stats.attempted, "delivered": stats.delivered,
            "failed": stats.failed, "dead": stats.dead}
