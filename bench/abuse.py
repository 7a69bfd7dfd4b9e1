"""Abuse benchmark: fire each abusive request of issue 8 at a running server, print its status and time, and the p95
of a normal signed-in query measured at the same time from another process.

    python -m bench.abuse                                  # throwaway SQLite server with a small demo city
    python -m bench.abuse --backend postgresql --entities 2000
    python -m bench.abuse --url http://127.0.0.1:8000 --token TOKEN   # an already running server

Without `--url` a throwaway database is created (`bench.common`), migrated, given an `admin`, a token and a demo
city of `--entities` entities, and `regwatch serve` runs on a free port until the end (`REGWATCH_ENV=dev`, so the
session cookie works over plain http for the login attacks).

The probe (a separate process, `--probe`) asks `{ serverInfo { version } }` with the token and `/healthz` every
20 ms for the whole run and records each latency with its time; each attack's row shows the p95 of the probe's
requests that ran while the attack did, next to the p95 before any attack (baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

REGWATCH = str(Path(sys.executable).with_name("regwatch"))
NORMAL = {"query": "{ serverInfo { version } }"}


@dataclass
class Outcome:
    name: str
    status: str
    seconds: float
    started: float
    ended: float
    note: str = ""


# ---- the attacks -----------------------------------------------------------------------------------------------

def _fragments(levels: int = 20) -> str:
    parts = ["fragment F0 on ServerInfo { version }"]
    parts += [f"fragment F{i} on ServerInfo {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)]
    return f"{{ serverInfo {{ ...F{levels} }} }} " + " ".join(parts)


def _costly() -> str:
    node = ("edges { node { uscc actions(first: 100) { edges { node { id kind } } } "
            "complaints(first: 100) { edges { node { id } } } creditRecords(first: 100) { edges { node { id } } } } }")
    return "{ " + " ".join(f"a{i}: entities(first: 200) {{ {node} }}" for i in range(30)) + " }"


async def _raw_post(base: str, path: str, content_type: str, size: int, *, declare: bool) -> str:
    """POST `size` bytes over a raw connection, reading the answer while still sending (as a real attacker would):
    a server that refuses early answers before the body is through, then closes."""
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
    head = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Type: {content_type}", "Connection: close"]
    head.append(f"Content-Length: {size}" if declare else "Transfer-Encoding: chunked")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
    answer = asyncio.create_task(reader.read(4096))
    sent, chunk = 0, b" " * (256 << 10)
    try:
        while sent < size and not answer.done():
            part = chunk if declare else b"%x\r\n%s\r\n" % (len(chunk), chunk)
            writer.write(part)
            await writer.drain()
            sent += len(chunk)
        if not declare and not answer.done():
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    try:
        data = await asyncio.wait_for(answer, 60)
    except (TimeoutError, ConnectionError, OSError):
        data = b""
    writer.close()
    status = data.split(b"\r\n", 1)[0].decode("latin-1") or "no answer"
    code = ""
    if b'"code": "' in data or b'"code":"' in data:
        code = data.split(b'"code":', 1)[1].split(b",", 1)[0].strip(b' "}').decode()
    return f"{status} {code} — {sent / (1 << 20):.1f} MB of {size / (1 << 20):.0f} MB sent before the answer"


def _summary(response: httpx.Response) -> str:
    text = response.text
    try:
        body = response.json()
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            first = errors[0]
            code = (first.get("extensions") or {}).get("code")
            return f"{response.status_code} {code or ''} {first.get('message', '')[:70]}".strip()
    except (json.JSONDecodeError, ValueError):
        pass
    return f"{response.status_code} {text[:70]!r}"


async def _csrf(client: httpx.AsyncClient) -> str:
    import re

    page = await client.get("/login", headers={"accept": "text/html"})
    match = re.search(r'name="csrf[-_]token" (?:content|value)="([^"]+)"', page.text)
    return match.group(1) if match else ""


def attacks(token: str) -> list[tuple[str, Callable[[httpx.AsyncClient], Awaitable[str]]]]:
    auth = {"authorization": f"Bearer {token}"}

    async def explosion(c):
        return _summary(await c.post("/graphql", json={"query": _fragments()}))

    async def body_declared(c):
        return await _raw_post(str(c.base_url), "/graphql", "application/json", 200 << 20, declare=True)

    async def body_streamed(c):
        return await _raw_post(str(c.base_url), "/graphql", "application/json", 200 << 20, declare=False)

    async def three_bodies(c):
        results = await asyncio.gather(*(body_streamed(c) for _ in range(3)))
        return " | ".join(sorted(set(r.split(" — ")[0] for r in results))) + " (×3)"

    async def upload_declared(c):
        return await _raw_post(str(c.base_url), "/imports", "multipart/form-data; boundary=x", 400 << 20,
                               declare=True)

    async def costly(c):
        return _summary(await c.post("/graphql", json={"query": _costly()}, headers=auth))

    async def deep_json(c):
        deep = '{"query": "{ serverInfo { version } }", "variables": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}"
        return _summary(await c.post("/graphql", content=deep, headers={"content-type": "application/json"}))

    async def failing_logins(c):
        statuses: dict[int, int] = {}
        stop = time.monotonic() + 5

        async def one_client(n: int) -> None:
            async with httpx.AsyncClient(base_url=str(c.base_url), timeout=60) as own:
                i = 0
                while time.monotonic() < stop:
                    i += 1
                    token_ = await _csrf(own)
                    r = await own.post("/login", data={"username": f"admin{n}-{i}", "password": "wrong-Pass-1",
                                                       "csrf_token": token_})
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

        await asyncio.gather(*(one_client(n) for n in range(4)))
        return "4 clients × 5 s: " + ", ".join(f"{k}×{v}" for k, v in sorted(statuses.items()))

    async def rotating_forwarded_for(c):
        statuses = []
        async with httpx.AsyncClient(base_url=str(c.base_url), timeout=60) as own:
            for i in range(22):
                token_ = await _csrf(own)
                r = await own.post("/login", data={"username": f"rot{i}", "password": "x", "csrf_token": token_},
                                   headers={"x-forwarded-for": f"198.51.100.{i + 1}"})
                statuses.append(r.status_code)
        return f"22 attempts, last statuses {statuses[-3:]} (429 = the address is locked)"

    async def nul_login(c):
        token_ = await _csrf(c)
        return _summary(await c.post("/login", data={"username": "ad\x00min", "password": "x", "csrf_token": token_}))

    async def nul_search(c):
        r = await c.get("/entities", params={"search": "a\x00b"}, headers={**auth, "accept": "application/json"})
        return _summary(r)

    async def nul_path(c):
        return _summary(await c.get("/entities/a%00b", headers={**auth, "accept": "application/json"}))

    async def nul_graphql(c):
        return _summary(await c.post("/graphql", json={"query": '{ entities(search: "a\\u0000b") { totalCount } }'},
                                     headers=auth))

    async def long_search(c):
        return _summary(await c.post("/graphql", json={
            "query": "query($s: String) { entities(search: $s) { totalCount } }", "variables": {"s": "a" * 50_000}},
            headers=auth))

    async def undefined_fragment(c):
        return _summary(await c.post("/graphql", json={"query": "{ serverInfo { ...Nope } }"}))

    async def suggestions(c):
        r = await c.post("/graphql", json={"query": "{ serverInfo { versio } }"})
        return _summary(r) + ("  [suggests!]" if "Did you mean" in r.text else "  [no suggestion]")

    return [
        ("1 fragment explosion (anonymous, 20 levels)", explosion),
        ("2 200 MB body, Content-Length", body_declared),
        ("2 200 MB body, chunked", body_streamed),
        ("2 three 200 MB chunked bodies at once", three_bodies),
        ("2 400 MB upload, Content-Length", upload_declared),
        ("3 30 aliases × entities(200) × 3 × (100)", costly),
        ("4 JSON nested 100,000 deep", deep_json),
        ("5 4 clients failing logins", failing_logins),
        ("6 rotating X-Forwarded-For", rotating_forwarded_for),
        ("7 NUL in the login username", nul_login),
        ("7 NUL in a search box", nul_search),
        ("7 NUL in a path", nul_path),
        ("7 NUL in a GraphQL argument", nul_graphql),
        ("8 50,000-character search", long_search),
        ("9 undefined fragment", undefined_fragment),
        ("11 anonymous typo (suggestions?)", suggestions),
    ]


async def fire(url: str, token: str) -> list[Outcome]:
    out: list[Outcome] = []
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        for name, attack in attacks(token):
            started = time.time()
            t0 = time.perf_counter()
            try:
                status = await attack(client)
            except httpx.HTTPError as exc:
                status = f"{type(exc).__name__}: {exc}"[:90]
            out.append(Outcome(name, status, time.perf_counter() - t0, started, time.time()))
            await asyncio.sleep(0.5)  # let the probe see the server recover between attacks
    return out


# ---- the probe (another process) -------------------------------------------------------------------------------

def probe(url: str, token: str, path: Path, stop_file: Path) -> None:
    auth = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, timeout=60) as client, path.open("w") as fh:
        while not stop_file.exists():
            for method, target, kwargs in (("POST", "/graphql", {"json": NORMAL, "headers": auth}),
                                           ("GET", "/healthz", {})):
                started = time.time()
                t0 = time.perf_counter()
                with contextlib.suppress(httpx.HTTPError):
                    client.request(method, target, **kwargs)
                fh.write(f"{started} {(time.perf_counter() - t0) * 1000:.2f}\n")
            fh.flush()
            time.sleep(0.02)


def _p95(values: list[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.0f}" if values else "—"
    return f"{statistics.quantiles(values, n=20)[-1]:.0f}"


# ---- a throwaway server ----------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin_token(url: str) -> str:
    """An admin and a bearer token for it, straight through the domain (no first-run setup: no model training)."""
    from domain.db import Database
    from domain.identity.actor import SYSTEM
    from domain.identity.tokens import create_token
    from domain.identity.users import UserInput, create_user

    db = Database(url)
    try:
        with db.unit_of_work() as session:
            user = create_user(session, SYSTEM, UserInput(username="admin", roles=["admin"]), "Bench-Pass-2026!x")
            assert user.id is not None
            return create_token(session, SYSTEM, user.id, "bench")[1]
    finally:
        db.dispose()


def _serve(backend: str, entities: int, workdir: Path) -> tuple[str, str, subprocess.Popen, str]:
    from bench.common import create_database
    from domain.schema_version import upgrade_to_head

    url = create_database(backend, workdir, "abuse")
    upgrade_to_head(url)
    port = _free_port()
    # dev: the session cookie is not `Secure`, so the login attacks can carry their CSRF token over plain http
    env = {**os.environ, "REGWATCH_DATABASE_URL": url, "REGWATCH_SECRET_KEY": "bench-" + "x" * 40,
           "REGWATCH_VAR_DIR": str(workdir), "REGWATCH_ENV": "dev", "REGWATCH_PORT": str(port),
           "REGWATCH_SCORE_DAILY_AT": "off", "REGWATCH_LOG_LEVEL": "WARNING"}
    if entities:
        print(f"building a demo city of {entities} entities …", flush=True)
        subprocess.run([REGWATCH, "demo", "--entities", str(entities)], env=env, check=True, capture_output=True)
    token = _admin_token(url)
    server = subprocess.Popen([REGWATCH, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    return base, token, server, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (default: start a throwaway one)")
    parser.add_argument("--token", help="a bearer token of a signed-in user on that server")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--entities", type=int, default=200, help="demo city size for the throwaway server")
    parser.add_argument("--probe", nargs=4, metavar=("URL", "TOKEN", "OUT", "STOP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe(args.probe[0], args.probe[1], Path(args.probe[2]), Path(args.probe[3]))
        return

    with tempfile.TemporaryDirectory(prefix="regwatch-abuse-") as tmp:
        workdir = Path(tmp)
        server = db_url = None
        if args.url:
            if not args.token:
                parser.error("--url needs --token")
            url, token = args.url.rstrip("/"), args.token
        else:
            url, token, server, db_url = _serve(args.backend, args.entities, workdir)
        samples, stop_file = workdir / "probe.txt", workdir / "stop"
        prober = subprocess.Popen([sys.executable, "-m", "bench.abuse", "--probe", url, token, str(samples),
                                   str(stop_file)])
        try:
            time.sleep(2)  # the baseline
            outcomes = asyncio.run(fire(url, token))
        finally:
            stop_file.touch()
            prober.wait(timeout=60)
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
            if db_url is not None:
                from bench.common import drop_database

                drop_database(db_url)
        rows = [tuple(map(float, line.split())) for line in samples.read_text().splitlines() if line.strip()]
        first_attack = outcomes[0].started if outcomes else time.time()
        baseline = [ms for t, ms in rows if t < first_attack]
        print(f"\nserver {url}   normal query + /healthz p95 before the attacks: {_p95(baseline)} ms "
              f"({len(baseline)} requests)\n")
        print(f"{'attack':44} {'time ms':>9} {'p95 ms':>7}  answer")
        for o in outcomes:
            during = [ms for t, ms in rows if o.started <= t <= o.ended]
            print(f"{o.name:44} {o.seconds * 1000:9.0f} {_p95(during):>7}  {o.status}")


if __name__ == "__main__":
    main()
