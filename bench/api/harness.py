"""The machinery of bench.api: query pairs, the two servers, wrk runs, statement counts, the report table."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

__all__ = ["PAGES", "QUERIES", "Context", "Measure", "QueryPair", "register", "register_page"]

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(__file__).resolve().parent / ".cache"
POSTGRAPHILE_VERSION = "4"
BENCH_USER = "bench-admin"
BENCH_PASSWORD = "Bench-Regwatch-2026!"

Text = str | Callable[["Context"], str]


@dataclass
class QueryPair:
    """One question asked of both servers: Regwatch's query and PostGraphile's equivalent (same rows, same
    related names). `nodes` names the node lists to compare (dotted paths into `data`)."""

    name: str
    regwatch: Text
    postgraphile: Text
    nodes: tuple[str, str] | None = None
    #: the name of the pair this one is a deeper page of: the two are then also measured against each other,
    #: interleaved round by round on each server (see `measure_depth`)
    deeper_than: str | None = None


QUERIES: list[QueryPair] = []
PAGES: list[Text] = []


def register(pair: QueryPair) -> QueryPair:
    QUERIES.append(pair)
    return pair


def register_page(path: Text) -> None:
    """A page (GET, signed in as an admin) measured on Regwatch alone."""
    PAGES.append(path)


def _text(value: Text, ctx: Context) -> str:
    return value(ctx) if callable(value) else value


def _dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[part]
    return data


class Context:
    """What a query pair may need: SQL look-ups on the city, both GraphQL endpoints, a memo for cursors."""

    def __init__(self, db_url: str, regwatch_url: str, postgraphile_url: str, token: str) -> None:
        self.db_url = db_url
        self.regwatch_url = regwatch_url
        self.postgraphile_url = postgraphile_url
        self.token = token
        self.engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
        self.memo: dict[str, Any] = {}
        self.http = httpx.Client(timeout=60)

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar_one()

    def department_id(self, code: str) -> int:
        return int(self.scalar("SELECT id FROM department WHERE code = :c", c=code))

    def once(self, key: str, fn: Callable[[], Any]) -> Any:
        if key not in self.memo:
            self.memo[key] = fn()
        return self.memo[key]

    def _post(self, url: str, query: str, variables: dict | None, headers: dict[str, str]) -> dict:
        response = self.http.post(url, json={"query": query, "variables": variables or {}}, headers=headers)
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"{url}: {response.status_code} {json.dumps(body, ensure_ascii=False)[:600]}")
        return body["data"]

    def regwatch(self, query: str, variables: dict | None = None) -> dict:
        return self._post(f"{self.regwatch_url}/graphql", query, variables,
                          {"authorization": f"Bearer {self.token}"})

    def postgraphile(self, query: str, variables: dict | None = None) -> dict:
        return self._post(f"{self.postgraphile_url}/graphql", query, variables, {})

    def close(self) -> None:
        self.http.close()
        self.engine.dispose()


# --- the city ------------------------------------------------------------------------------------------------

def prepare_city(url: str, entities: int) -> tuple[int, float | None]:
    """Migrate, build the demo city when empty, VACUUM ANALYZE; the entity count and the build seconds."""
    from bench.score import _city
    from domain.schema_version import upgrade_to_head

    upgrade_to_head(url)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            have = int(conn.exec_driver_sql("SELECT COUNT(*) FROM entity").scalar_one())
        built = None
        if have == 0:
            print(f"building the demo city of {entities:,} entities …", flush=True)
            built = _city(url, entities)  # builds, then VACUUM ANALYZE
        else:
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        with engine.connect() as conn:
            have = int(conn.exec_driver_sql("SELECT COUNT(*) FROM entity").scalar_one())
        return have, built
    finally:
        engine.dispose()


def bench_token(url: str, *, username: str = BENCH_USER, roles: tuple[str, ...] = ("admin",),
                department_code: str | None = None, display_name: str = "基准测试") -> str:
    """A user for the benchmark (an admin unless told; password BENCH_PASSWORD), made when missing, and a fresh
    bearer token of theirs."""
    from sqlmodel import col

    from domain.db import Database
    from domain.identity.actor import SYSTEM
    from domain.identity.models import Department, User
    from domain.identity.tokens import create_token
    from domain.identity.users import UserInput, create_user

    db = Database(url)
    try:
        with db.unit_of_work() as s:
            user = s.execute(sa.select(User).where(col(User.username) == username)).scalar_one_or_none()
            if user is None:
                dept = None if department_code is None else s.execute(
                    sa.select(col(Department.id)).where(col(Department.code) == department_code)).scalar_one()
                user = create_user(s, SYSTEM, UserInput(username=username, roles=list(roles), department_id=dept,
                                                        display_name=display_name), BENCH_PASSWORD)
            assert user.id is not None
            return create_token(s, SYSTEM, user.id, f"bench {time.strftime('%Y%m%d-%H%M%S')}")[1]
    finally:
        db.dispose()


# --- servers -------------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"{url}: no answer after {timeout} s")


def install_postgraphile(cache: Path = CACHE) -> Path:
    """postgraphile@4 under `cache` (npm, once); the path of its CLI."""
    folder = cache / "postgraphile"
    cli = folder / "node_modules" / ".bin" / "postgraphile"
    if not cli.exists():
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "package.json").exists():
            (folder / "package.json").write_text('{"name": "regwatch-bench-postgraphile", "private": true}\n')
        print(f"installing postgraphile@{POSTGRAPHILE_VERSION} into {folder} …", flush=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
                        f"postgraphile@{POSTGRAPHILE_VERSION}"], cwd=folder, check=True)
    return cli


@contextlib.contextmanager
def postgraphile(db_url: str, port: int, cache: Path = CACHE) -> Iterator[str]:
    cli = install_postgraphile(cache)
    # read-only: every transaction of its pool is READ ONLY
    conn = db_url + ("&" if "?" in db_url else "?") + "options=-c%20default_transaction_read_only%3Don"
    log = open(Path(tempfile.gettempdir()) / f"bench-postgraphile-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([str(cli), "-c", conn, "--schema", "public", "--host", "127.0.0.1",
                             "--port", str(port), "--disable-default-mutations", "--disable-query-log",
                             "--disable-graphiql"], stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "NODE_ENV": "production"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/graphql", proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@contextlib.contextmanager
def regwatch(db_url: str, port: int) -> Iterator[str]:
    var = Path(tempfile.mkdtemp(prefix="bench-regwatch-"))
    log = open(var / "serve.log", "w")  # noqa: SIM115
    env = {**os.environ, "REGWATCH_ENV": "prod", "REGWATCH_DATABASE_URL": db_url,
           "REGWATCH_SECRET_KEY": secrets.token_hex(32), "REGWATCH_VAR_DIR": str(var),
           "REGWATCH_SCORE_DAILY_AT": "off", "REGWATCH_LOG_LEVEL": "WARNING"}
    exe = Path(sys.executable).parent / "regwatch"
    proc = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/login", proc)
        settle(db_url)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
        shutil.rmtree(var, ignore_errors=True)


def settle(db_url: str, timeout: float = 600) -> None:
    """Wait until the server's background work is done before it is measured: no job queued or running (the
    overdue sweep runs at startup, and on a freshly seeded city writes an overdue event for every late warning) and
    the outbox dispatched (which those events fill); otherwise the measurements share the CPU with that backlog."""
    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    deadline = time.monotonic() + timeout
    try:
        time.sleep(1.0)  # the lifespan schedules and starts the sweep
        while True:
            with engine.connect() as conn:
                busy = conn.exec_driver_sql(
                    "SELECT (SELECT count(*) FROM job WHERE status IN ('queued', 'running')) "
                    "+ (SELECT count(*) FROM outbox_event WHERE dispatched_at IS NULL)").scalar_one()
            if not busy:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server's background work did not settle in {timeout:.0f} s ({busy} left)")
            time.sleep(1.0)
    finally:
        engine.dispose()


def session_cookie(regwatch_url: str) -> str:
    """Sign in through the login form as the bench admin; the Cookie header a browser would send. (Production
    cookies are Secure, which httpx would not send back over plain HTTP, so they are carried by hand.)"""

    def cookies(response: httpx.Response, jar: dict[str, str]) -> dict[str, str]:
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]
        return jar

    def header(jar: dict[str, str]) -> str:
        return "; ".join(f"{k}={v}" for k, v in jar.items())

    with httpx.Client(base_url=regwatch_url, timeout=30) as client:
        page = client.get("/login", headers={"accept": "text/html"})
        jar = cookies(page, {})
        match = re.search(r'name="csrf[-_]token" (?:content|value)="([^"]+)"', page.text)
        if not match:
            raise RuntimeError("no CSRF token on the login page")
        answer = client.post("/login", data={"username": BENCH_USER, "password": BENCH_PASSWORD, "next": "/",
                                             "csrf_token": match.group(1)},
                             headers={"accept": "text/html", "cookie": header(jar)})
        if answer.status_code != 303:
            raise RuntimeError(f"sign-in failed: {answer.status_code} {answer.text[:200]}")
        return header(cookies(answer, jar))


# --- load ----------------------------------------------------------------------------------------------------

@dataclass
class Measure:
    p50: float  # ms
    p95: float
    rps: float
    requests: int
    failures: int

    @staticmethod
    def median(runs: list[Measure]) -> Measure:
        return Measure(statistics.median(r.p50 for r in runs), statistics.median(r.p95 for r in runs),
                       statistics.median(r.rps for r in runs), sum(r.requests for r in runs),
                       sum(r.failures for r in runs))


_LUA_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKJSON {\\"p50\\":%d,\\"p95\\":%d,\\"requests\\":%d,\\"duration\\":%d,"
    .. "\\"failures\\":%d}\\n", latency:percentile(50), latency:percentile(95), summary.requests,
    summary.duration, e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def _lua_string(text: str) -> str:
    level = "=" * 4
    while f"]{level}]" in text:
        level += "="
    return f"[{level}[{text}]{level}]"


def wrk(url: str, *, connections: int, duration: int, body: str | None = None,
        headers: dict[str, str] | None = None) -> Measure:
    lines = []
    if body is not None:
        lines += ['wrk.method = "POST"', f"wrk.body = {_lua_string(body)}"]
    for name, value in (headers or {}).items():
        lines.append(f"wrk.headers[ {_lua_string(name)} ] = {_lua_string(value)}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n" + _LUA_DONE)
    try:
        done = subprocess.run(["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s",
                               "--timeout", "30s", "-s", script.name, url], capture_output=True, text=True)
        if done.returncode != 0 or "WRKJSON " not in done.stdout:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
        out = done.stdout
    finally:
        os.unlink(script.name)
    data = json.loads(out.split("WRKJSON ", 1)[1].splitlines()[0])
    return Measure(p50=data["p50"] / 1000, p95=data["p95"] / 1000,
                   rps=data["requests"] / (data["duration"] / 1e6), requests=data["requests"],
                   failures=data["failures"])


GQL_HEADERS = {"content-type": "application/json", "accept": "application/json"}


def graphql_body(query: str) -> str:
    return json.dumps({"query": query}, ensure_ascii=False)


# --- statements per request ----------------------------------------------------------------------------------

class StatementCounter:
    """Regwatch's app in-process on the same database, to count the SQL statements one request sends."""

    def __init__(self, db_url: str, token: str, cookie: str) -> None:
        from domain.db import Database
        from domain.settings import Settings
        from regwatch_app import create_app

        self.db = Database(db_url)
        settings = Settings(database_url=db_url, secret_key="bench-" + "x" * 40, env="dev",
                            var_dir=Path(tempfile.mkdtemp(prefix="bench-count-")), log_level="WARNING")
        self.app = create_app(settings, run_jobs=False, database=self.db)
        self.token = token
        self.cookie = cookie
        # the server's notification listener, so bearer tokens are checked as `regwatch serve` checks them (cached
        # while the listener is connected: domain.identity.token_cache); statements are counted as served
        from domain.notifications.pump import NotificationPump

        self.pump_db = Database(db_url)  # its own engines: its statements are not counted
        self.pump = NotificationPump(self.pump_db)
        self.pump.start()
        self.pump.listening.wait(10)

    def count(self, *, query: str | None = None, path: str | None = None, cookie: str | None = None,
              username: str = BENCH_USER) -> int:
        """Statements of one request: `query` with the bench token, or the page at `path` signed in as
        `username` (password BENCH_PASSWORD) through this app's own login form."""
        import asyncio

        from tests.support import count_statements

        async def go() -> int:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                if query is not None:
                    await client.post("/graphql", json={"query": query},
                                      headers={"authorization": f"Bearer {self.token}"})  # warm
                    with count_statements(self.db) as counter:
                        r = await client.post("/graphql", json={"query": query},
                                              headers={"authorization": f"Bearer {self.token}"})
                else:
                    assert path is not None
                    # this app has its own secret: sign in to it through its login form
                    page = await client.get("/login", headers={"accept": "text/html"})
                    match = re.search(r'name="csrf[-_]token" (?:content|value)="([^"]+)"', page.text)
                    assert match, "no CSRF token on the login page"
                    await client.post("/login", data={"username": username, "password": BENCH_PASSWORD,
                                                      "next": "/", "csrf_token": match.group(1)},
                                      headers={"accept": "text/html"})
                    await client.get(path, headers={"accept": "text/html"})
                    with count_statements(self.db) as counter:
                        r = await client.get(path, headers={"accept": "text/html"})
                if r.status_code != 200:
                    raise RuntimeError(f"in-process {query or path}: {r.status_code} {r.text[:300]}")
                return counter.count

        return asyncio.run(go())

    def close(self) -> None:
        self.pump.stop()
        self.pump_db.dispose()
        self.db.dispose()


# --- the run -------------------------------------------------------------------------------------------------

@dataclass
class Row:
    name: str
    connections: int
    regwatch: Measure
    postgraphile: Measure | None
    statements: int | None
    extra: dict[str, Any] = field(default_factory=dict)


def check_pair(ctx: Context, pair: QueryPair) -> tuple[str, str]:
    rq, pq = _text(pair.regwatch, ctx), _text(pair.postgraphile, ctx)
    r, p = ctx.regwatch(rq), ctx.postgraphile(pq)
    if pair.nodes:
        rn, pn = _dig(r, pair.nodes[0]), _dig(p, pair.nodes[1])
        if len(rn) != len(pn):
            raise RuntimeError(f"{pair.name}: Regwatch answers {len(rn)} nodes, PostGraphile {len(pn)}")
    return rq, pq


def measure(ctx: Context, pairs: list[QueryPair], pages: list[Text], *, concurrency: list[int], duration: int,
            rounds: int, counter: StatementCounter | None, cookie: str | None) -> list[Row]:
    rows: list[Row] = []
    gql_headers = GQL_HEADERS
    for pair in pairs:
        rq, pq = check_pair(ctx, pair)
        statements = counter.count(query=rq) if counter else None
        for c in concurrency:
            mine: list[Measure] = []
            theirs: list[Measure] = []
            for _ in range(rounds):  # interleaved: R, P, R, P …
                mine.append(wrk(f"{ctx.regwatch_url}/graphql", connections=c, duration=duration,
                                body=graphql_body(rq), headers={**gql_headers,
                                                                "authorization": f"Bearer {ctx.token}"}))
                theirs.append(wrk(f"{ctx.postgraphile_url}/graphql", connections=c, duration=duration,
                                  body=graphql_body(pq), headers=gql_headers))
            row = Row(pair.name, c, Measure.median(mine), Measure.median(theirs), statements)
            rows.append(row)
            print(format_row(row), flush=True)
    for page in pages:
        path = _text(page, ctx)
        check = ctx.http.get(f"{ctx.regwatch_url}{path}", headers={"cookie": cookie or "", "accept": "text/html"})
        if check.status_code != 200:
            raise RuntimeError(f"page {path}: {check.status_code}")
        statements = counter.count(path=path) if counter else None
        for c in concurrency:
            runs = [wrk(f"{ctx.regwatch_url}{path}", connections=c, duration=duration,
                        headers={"cookie": cookie or "", "accept": "text/html"}) for _ in range(rounds)]
            row = Row(f"page {path}", c, Measure.median(runs), None, statements)
            rows.append(row)
            print(format_row(row), flush=True)
    return rows


@dataclass
class DepthRow:
    """A deep page against its first page on each server, the two measured interleaved (first, deep, first, deep …)
    so that the machine's drift over a run does not land on one of them."""

    name: str
    connections: int
    regwatch: tuple[Measure, Measure]  # first, deep
    postgraphile: tuple[Measure, Measure]


def measure_depth(ctx: Context, pairs: list[QueryPair], *, concurrency: list[int], duration: int,
                  rounds: int) -> list[DepthRow]:
    """Every pair that is a deeper page of another pair in `pairs`, against that pair: p50 and throughput ratios of
    the deep page to the first page, on Regwatch and on PostGraphile (the target is Regwatch's deep page within
    1.2× of its first page; PostGraphile's own ratio shows what the database alone does)."""
    by_name = {p.name: p for p in pairs}
    rows: list[DepthRow] = []
    gql = GQL_HEADERS
    mine = {**gql, "authorization": f"Bearer {ctx.token}"}
    for deep in pairs:
        first = by_name.get(deep.deeper_than or "")
        if first is None:
            continue
        (rf, pf), (rd, pd) = check_pair(ctx, first), check_pair(ctx, deep)
        for c in concurrency:
            runs: dict[str, list[Measure]] = {"rf": [], "rd": [], "pf": [], "pd": []}
            for _ in range(rounds):
                for key, url, query, headers in (("rf", ctx.regwatch_url, rf, mine), ("rd", ctx.regwatch_url, rd, mine),
                                                 ("pf", ctx.postgraphile_url, pf, gql),
                                                 ("pd", ctx.postgraphile_url, pd, gql)):
                    runs[key].append(wrk(f"{url}/graphql", connections=c, duration=duration,
                                         body=graphql_body(query), headers=headers))
            m = {k: Measure.median(v) for k, v in runs.items()}
            row = DepthRow(deep.name, c, (m["rf"], m["rd"]), (m["pf"], m["pd"]))
            rows.append(row)
            print(format_depth_row(row), flush=True)
    return rows


DEPTH_HEADER = ("| deep page against its first page | c | Regwatch first / deep p50 ms | Regwatch deep ÷ first p50 / "
                "req/s | PostGraphile first / deep p50 ms | PostGraphile deep ÷ first p50 / req/s |\n"
                "|---|---|---|---|---|---|")


def format_depth_row(row: DepthRow) -> str:
    (rf, rd), (pf, pd) = row.regwatch, row.postgraphile
    return (f"| {row.name} | {row.connections} | {rf.p50:.1f} / {rd.p50:.1f} | {rd.p50 / rf.p50:.2f}× / "
            f"{rd.rps / rf.rps:.2f}× | {pf.p50:.1f} / {pd.p50:.1f} | {pd.p50 / pf.p50:.2f}× / {pd.rps / pf.rps:.2f}× |")


def format_row(row: Row) -> str:
    r, p = row.regwatch, row.postgraphile
    fail = f" ({r.failures} failed)" if r.failures else ""
    if p is None:
        return (f"| {row.name} | {row.connections} | {r.p50:.1f} / {r.p95:.1f} | {r.rps:.0f}{fail} | — | — | — | "
                f"{row.statements if row.statements is not None else '?'} |")
    pfail = f" ({p.failures} failed)" if p.failures else ""
    return (f"| {row.name} | {row.connections} | {r.p50:.1f} / {r.p95:.1f} | {r.rps:.0f}{fail} | "
            f"{p.p50:.1f} / {p.p95:.1f} | {p.rps:.0f}{pfail} | {r.p50 / p.p50:.2f}× / {r.rps / p.rps:.2f}× | "
            f"{row.statements if row.statements is not None else '?'} |")


HEADER = ("| query | c | Regwatch p50 / p95 ms | Regwatch req/s | PostGraphile p50 / p95 ms | PostGraphile req/s | "
          "ratio p50 / req/s | SQL per request |\n|---|---|---|---|---|---|---|---|")
