"""Who is acting: resolved once per request (or CLI call) and passed into every domain function."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ANONYMOUS", "ROLES", "SYSTEM", "Actor"]

ROLES = ("admin", "analyst", "handler", "viewer")


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    roles: frozenset[str] = field(default_factory=frozenset)
    department_id: int | None = None
    request_id: str | None = None
    client_addr: str | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None or self.username == "system"

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def with_request(self, request_id: str | None, client_addr: str | None) -> Actor:
        return Actor(self.user_id, self.username, self.roles, self.department_id, request_id, client_addr)


ANONYMOUS = Actor(user_id=None, username="anonymous")
# The operator at the console and scheduled jobs: trusted like an admin, recorded as "system".
SYSTEM = Actor(user_id=None, username="system", roles=frozenset({"admin", "analyst"}))
