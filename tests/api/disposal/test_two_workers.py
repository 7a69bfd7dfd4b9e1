"""Two server processes on one PostgreSQL database, a subscriber on each: an event written through one reaches
both (the outbox dispatcher NOTIFYs; every process LISTENs and feeds its own subscribers)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.domain.disposal.support import make_warning, make_world
from tests.identity.support import bearer, new_token

ROOT = Path(__file__).resolve().parents[3]
RECEIVE = "mutation($id: ID!) { receiveWarning(id: $id) { warning { status } errors { message } } }"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def workers(db, database_url, work_dir):
    if db.backend != "postgresql":
        pytest.skip("several worker processes share PostgreSQL; the embedded SQLite default is one process")
    env = {**os.environ, "REGWATCH_DATABASE_URL": database_url, "REGWATCH_SECRET_KEY": "w" * 48,
           "REGWATCH_VAR_DIR": str(work_dir), "REGWATCH_SCORE_DAILY_AT": "off", "REGWATCH_LOG_LEVEL": "WARNING"}
    ports = [_port(), _port()]
    procs = [subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "regwatch_app:create_app",
                               "--host", "127.0.0.1", "--port", str(p), "--log-level", "warning"],
                              cwd=ROOT, env=env) for p in ports]
    try:
        deadline = time.monotonic() + 180  # importing the app takes ~25 s each on a loaded 2-core machine
        for p in ports:
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{p}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("workers did not start")
                time.sleep(0.2)
        yield [f"127.0.0.1:{p}" for p in ports]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)


async def _subscribe(host, headers):
    import websockets

    ws = await websockets.connect(f"ws://{host}/graphql", subprotocols=["graphql-transport-ws"],
                                  additional_headers=headers)
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
        "query": "subscription { warningEvents { kind warningCode } }"}}))
    return ws


async def test_an_event_reaches_subscribers_on_every_worker(db, world_two, workers):
    world, w = world_two
    headers = bearer(new_token(db, world.handler_a.user_id, "ws"))
    sockets = [await _subscribe(host, headers) for host in workers]
    try:
        await asyncio.sleep(2.5)  # each worker's LISTEN connection is up
        async with httpx.AsyncClient(base_url=f"http://{workers[0]}") as client:
            answer = await client.post("/graphql", json={"query": RECEIVE, "variables": {"id": str(w.id)}},
                                       headers=headers)
        assert answer.json()["data"]["receiveWarning"]["warning"]["status"] == "in_progress"
        for ws in sockets:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 15))
                assert message["type"] == "next", message
                event = message["payload"]["data"]["warningEvents"]
                if event["kind"] == "receive":
                    assert event["warningCode"] == w.code
                    break
    finally:
        for ws in sockets:
            await ws.close()


@pytest.fixture
def world_two(db):
    world = make_world(db)
    return world, make_warning(db, world.dept_a)
