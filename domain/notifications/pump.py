"""The delivery loop: dispatch the outbox (to webhooks and live subscribers) and send due webhooks, in background
threads of each server process; on PostgreSQL also a LISTEN connection that feeds this process's bus from every
process's NOTIFY and clears this process's cache of bearer-token checks on every identity change (the cache is on
only while that connection is: domain.identity.token_cache). Also runnable once as the job "notifications_deliver"."""

from __future__ import annotations

import logging
import threading
from typing import Any

from domain.db import Database
from domain.identity import token_cache
from domain.jobs.service import JobContext, job_handler
from domain.notifications.bus import bus
from domain.notifications.webhooks import CHANNEL, deliver_due, dispatch_outbox, notified_messages

__all__ = ["DELIVER_JOB", "NotificationPump"]

log = logging.getLogger("regwatch.notifications")
DELIVER_JOB = "notifications_deliver"
LISTENER_NAME = "regwatch-listen"  # the listener's application_name (pg_stat_activity)


class NotificationPump:
    def __init__(self, db: Database, *, dispatch_seconds: float = 0.5, deliver_seconds: float = 2.0,
                 batch: int = 500) -> None:
        self.db = db
        self.dispatch_seconds = dispatch_seconds
        self.deliver_seconds = deliver_seconds
        self.batch = batch  # outbox rows per dispatch transaction, deliveries per delivery round
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by the dispatcher when it queued deliveries, so they go out at once
        self._threads: list[threading.Thread] = []
        self.listening = threading.Event()  # set once the PostgreSQL listener is connected
        self.listener_pid: int | None = None  # the listener connection's backend (PostgreSQL)

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

    # Both loops take a backlog (a first night's 100,000 issued warnings) a batch at a time, one short transaction
    # each (never the backlog in memory or under one lock), and go straight on to the next batch while batches
    # come back full; they wait their interval only once the queue is empty.

    def _dispatch_loop(self) -> None:
        while not self._stop.is_set():
            try:
                dispatched = len(dispatch_outbox(self.db, limit=self.batch))
                if dispatched:
                    self._wake.set()
                if dispatched >= self.batch:
                    continue  # more are waiting
            except Exception:
                log.exception("outbox dispatch failed")
            self._stop.wait(self.dispatch_seconds)

    def _deliver_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                if deliver_due(self.db, limit=self.batch).attempted >= self.batch:
                    continue  # more are due
            except Exception:
                log.exception("webhook delivery failed")
            self._wake.wait(self.deliver_seconds)

    def _listen_loop(self) -> None:
        import psycopg

        url = self.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        # bearer-token checks are cached in this process only while this connection listens for identity changes
        tokens = token_cache.cache_for_url(self.db.engine.url)
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True, application_name=LISTENER_NAME) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    conn.execute(f"LISTEN {token_cache.CHANNEL}")
                    self.listener_pid = conn.info.backend_pid
                    tokens.connected()  # after LISTEN is in force: cleared, then enabled
                    try:
                        self.listening.set()
                        while not self._stop.is_set():
                            for note in conn.notifies(timeout=0.5, stop_after=100):
                                if note.channel == token_cache.CHANNEL:
                                    tokens.clear()  # a token or user changed: every check is read afresh
                                    continue
                                try:
                                    for message in notified_messages(note.payload):
                                        bus.publish(message)
                                except ValueError:
                                    log.warning("unreadable notification payload on %s", CHANNEL)
                    finally:
                        tokens.disconnected()  # cleared and disabled at once: notifications may be missed now
            except Exception:
                self.listening.clear()
                log.exception("LISTEN connection lost; reconnecting")
                self._stop.wait(2.0)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
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
