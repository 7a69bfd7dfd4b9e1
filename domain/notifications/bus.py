"""The in-process event bus: subscribers (GraphQL subscriptions, the inbox's live updates) in this process.

Messages come from the outbox dispatcher: directly on SQLite (one process), through PostgreSQL LISTEN/NOTIFY
when several worker processes share the database, so every subscriber hears every event whichever process
wrote it. Publishing is thread-safe (the dispatcher runs in a worker thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

__all__ = ["EventBus", "bus"]


class EventBus:
    def __init__(self, max_queue: int = 1000) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[dict[str, Any]]]] = set()
        self.max_queue = max_queue

    def publish(self, message: dict[str, Any]) -> int:
        with self._lock:
            targets = list(self._subscribers)
        for loop, queue in targets:
            def put(q: asyncio.Queue[dict[str, Any]] = queue) -> None:
                if q.qsize() < self.max_queue:  # a stalled subscriber loses messages, never the process memory
                    q.put_nowait(message)
            with contextlib.suppress(RuntimeError):  # its loop has closed
                loop.call_soon_threadsafe(put)
        return len(targets)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._subscribers.add(entry)
        try:
            yield queue
        finally:
            with self._lock:
                self._subscribers.discard(entry)


bus = EventBus()
