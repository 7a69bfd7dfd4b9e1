"""Calling the API as an integrator: the bearer header of a token."""

from __future__ import annotations

__all__ = ["bearer"]


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}
