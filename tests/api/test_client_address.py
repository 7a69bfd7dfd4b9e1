"""Which address a request comes from: X-Forwarded-For counts only from REGWATCH_TRUSTED_PROXIES (issue 8 point 6)."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from sqlmodel import select

from cli.platform import SERVER_OPTIONS
from domain.audit.models import AuditLog
from tests.web.identity.factories import csrf_token


def _failed_login_addresses(db) -> list[str | None]:
    with db.unit_of_work("read") as s:
        return list(s.exec(select(AuditLog.client_addr).where(AuditLog.action == "login.failed")))


async def _fail_login(client: httpx.AsyncClient, forwarded_for: str) -> None:
    token = await csrf_token(client)
    response = await client.post("/login", data={"username": "nobody", "password": "x", "csrf_token": token},
                                 headers={"x-forwarded-for": forwarded_for})
    assert response.status_code == 401


@pytest.fixture
def served(app):
    """The app under uvicorn with the options `regwatch serve` uses (not the test fixture's defaults)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                           **SERVER_OPTIONS))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


async def test_a_forwarded_for_header_from_a_local_client_is_not_believed_by_default(served, db):
    async with httpx.AsyncClient(base_url=served) as client:
        await _fail_login(client, "203.0.113.77")
    assert _failed_login_addresses(db) == ["127.0.0.1"]  # a client rotating the header is still one address


async def test_a_forwarded_for_header_from_a_trusted_proxy_names_the_client(settings, db):
    from regwatch_app import create_app

    app = create_app(dataclasses.replace(settings, trusted_proxies=("127.0.0.1",)), run_jobs=False, database=db)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await _fail_login(client, "203.0.113.77")
    untrusted = httpx.ASGITransport(app=app, client=("192.0.2.1", 5000))
    async with httpx.AsyncClient(transport=untrusted, base_url="http://testserver") as client:
        await _fail_login(client, "203.0.113.78")
    assert _failed_login_addresses(db) == ["203.0.113.77", "192.0.2.1"]
