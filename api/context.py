"""The per-request GraphQL context: database session, caller, DataLoaders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from domain.db import Database
from domain.identity.actor import ANONYMOUS, Actor
from domain.settings import Settings

__all__ = ["Context", "Info"]

T = TypeVar("T")


@dataclass
class Context:
    request: Request
    response: Response | None
    db: Database
    settings: Settings
    actor: Actor = ANONYMOUS
    request_id: str | None = None
    # DataLoaders by name, created lazily per request so batches never leak across callers.
    loaders: dict[str, Any] = field(default_factory=dict)
    # results read ahead of the fields that show them (e.g. an entity's nested windows, read with the entity), by
    # the key their field builds: the field answers at once instead of through a loader
    primed: dict[Any, Any] = field(default_factory=dict)
    _session: Session | None = None
    # Sibling fields and DataLoaders resolve concurrently; one session must not be used by two at once. The lock
    # is per request (one per Context), and the work itself runs in a worker thread, so requests never wait on it.
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def session(self) -> Session:
        # reads in autocommit on PostgreSQL (no BEGIN/ROLLBACK round trips); the first write or dry run moves the
        # session to transactions (domain.db.read_session, leave_autocommit)
        if self._session is None:
            self._session = self.db.read_session()
        return self._session

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a sync domain read on this request's session (in a worker thread)."""
        async with self._lock:
            return await self.db.run_in(self.session(), fn, *args, work="read", **kwargs)

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a sync domain change and commit it; on any error nothing of it stays (the database's unit of work)."""
        async with self._lock:
            return await self.db.run_in(self.session(), fn, *args, work="commit", **kwargs)

    async def dry_run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a change for its validation only; nothing of it is kept."""
        async with self._lock:
            return await self.db.run_in(self.session(), fn, *args, work="dry_run", **kwargs)

    def loader(self, name: str, factory: Callable[[], T]) -> T:
        if name not in self.loaders:
            self.loaders[name] = factory()
        return self.loaders[name]

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await self.db.run_in(session, lambda s: s.close(), work="read")


Info = StrawberryInfo[Context, None]
