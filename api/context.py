"""The per-request GraphQL context: database session, caller, DataLoaders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from domain.db import Database, conflict_from
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
    _session: AsyncSession | None = None
    # Sibling fields and DataLoaders resolve concurrently; one AsyncSession must not be used by two at once.
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self.db.async_session()
        return self._session

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a sync domain read on this request's session."""
        async with self._lock:
            session = await self.session()
            return await session.run_sync(lambda s: fn(s, *args, **kwargs))

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a sync domain change and commit it; on any error nothing of it stays."""
        async with self._lock:
            session = await self.session()
            try:
                result = await session.run_sync(lambda s: fn(s, *args, **kwargs))
                await session.commit()
                return result
            except sa.exc.IntegrityError as exc:
                await session.rollback()
                raise conflict_from(exc) from exc
            except BaseException:
                await session.rollback()
                raise

    def loader(self, name: str, factory: Callable[[], T]) -> T:
        if name not in self.loaders:
            self.loaders[name] = factory()
        return self.loaders[name]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


Info = StrawberryInfo[Context, None]
