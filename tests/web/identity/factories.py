"""Signing in over HTTP as a browser does (the login form with its CSRF token), for page and API tests."""

from __future__ import annotations

import re

import httpx

from tests.domain.identity.factories import PASSWORD

__all__ = ["csrf_token", "login"]

_CSRF = re.compile(r'name="csrf[-_]token" (?:content|value)="([^"]+)"')


async def csrf_token(client: httpx.AsyncClient) -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    response = await client.get("/login", headers={"accept": "text/html"}, follow_redirects=True)
    match = _CSRF.search(response.text)
    assert match, f"no CSRF token on {response.url} ({response.status_code})"
    return match.group(1)


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD, *,
                next_url: str = "/") -> httpx.Response:
    """Sign in through the login form (with its CSRF token), as a browser does; returns the form's answer."""
    token = await csrf_token(client)
    return await client.post("/login", data={"username": username, "password": password, "next": next_url,
                                              "csrf_token": token}, headers={"accept": "text/html"})
