"""The disposal inbox in the API benchmark (issue 14): one department's 待签收 tab, first 50, with entity and
department names, beside PostGraphile on the same tables, order and selection; and the inbox page.

    python -m bench.api --queries-module bench.api.warnings_queries --queries-module bench.api.disposal_queries \
        --only inbox

The city gets the 100,000 warnings of bench.api.warnings_queries (one per entity, a fifth closed, a fifth in
progress), seeded by that module's `seed_warnings` when absent.

What `python -m bench.api` cannot measure (its load runs one admin token and read-only queries) runs from this module
itself, on the same servers and harness pieces:

    python -m bench.api.disposal_queries --city-url postgresql://…/regwatch_bench_api [--duration 5] [--rounds 2]

- the handler's own inbox: a handler of the department (`bench-handler`, role handler) sees the warnings it is
  responsible for OR assists on (协办; `ASSISTS` warnings of other departments get the department as assisting once),
  through GraphQL (`inbox(tab: "pending", first: 50)` with its own token) and as the page, signed in as that user;
  beside the admin's department inbox and PostGraphile's (which has no OR without plugins: the department's alone);
- a transition under load: `receiveWarning` mutations, each on a different pending warning (a pool of `issued`
  warnings of the other departments, without assists, so the measured inboxes do not change; a run consumes
  3 × `--receives` + 4 of them), sent one at a time from this process — alone first, then while wrk (a separate
  process) drives the inbox query at c=4, answering errors only and then the warning as it now stands — p50 / p95,
  and the inbox's own p50 during them. Statements per receive counted in process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import httpx
import sqlalchemy as sa

from bench.api import harness
from bench.api.harness import Context, Measure, QueryPair, Row, register, register_page
from bench.api.warnings_queries import DEPARTMENT, seed_warnings

PAGE = 50
HANDLER = "bench-handler"
ASSISTS = 300  # warnings of other departments the bench department assists on
RECEIVES = 100  # receive mutations per measurement


def _regwatch(ctx: Context) -> str:
    seed_warnings(ctx)
    return (f'{{ inbox(tab: "pending", departmentCode: "{DEPARTMENT}", first: {PAGE}) {{ nodes {{ code level status '
            "receiptDueAt disposalDueAt entityName departmentName } } }")


def _postgraphile(ctx: Context) -> str:
    seed_warnings(ctx)
    return (f'{{ allRiskWarnings(first: {PAGE}, condition: {{departmentId: {ctx.department_id(DEPARTMENT)}, '
            'status: "issued"}, orderBy: [CREATED_AT_DESC, ID_DESC]) { nodes { code level status receiptDueAt '
            "disposalDueAt entityByEntityId { name } departmentByDepartmentId { name } } } }")


INBOX = register(QueryPair(f"inbox of {DEPARTMENT}, pending, first {PAGE}, entity + department", _regwatch,
                           _postgraphile, nodes=("inbox.nodes", "allRiskWarnings.nodes")))


def _page(ctx: Context) -> str:
    seed_warnings(ctx)
    return f"/disposal?tab=pending&department={ctx.department_id(DEPARTMENT)}"


register_page(_page)

HANDLER_INBOX = (f'{{ inbox(tab: "pending", first: {PAGE}) {{ nodes {{ code level status receiptDueAt disposalDueAt '
                 "entityName departmentName } } }")
RECEIVE = "mutation($id: ID!, $v: Int) { receiveWarning(id: $id, rowVersion: $v) { errors { message } } }"
# the same, answered with the warning as it now stands (its timeline, actions …: read only when selected)
RECEIVE_DETAIL = ("mutation($id: ID!, $v: Int) { receiveWarning(id: $id, rowVersion: $v) { errors { message } "
                  "warning { status rowVersion allowedActions events { kind } } } }")


# --- the handler and the assists -------------------------------------------------------------------------------

def seed_assists(ctx: Context) -> int:
    """`ASSISTS` pending warnings of other departments get the bench department as assisting (once)."""

    def seed() -> int:
        dept = ctx.department_id(DEPARTMENT)
        with ctx.engine.begin() as conn:
            have = int(conn.execute(sa.text("SELECT count(*) FROM warning_assist WHERE department_id = :d"),
                                    {"d": dept}).scalar_one())
            if have < ASSISTS:
                conn.execute(sa.text("""
                    INSERT INTO warning_assist (warning_id, department_id, added_by_name, added_at)
                    SELECT w.id, :d, 'bench', w.created_at FROM risk_warning w
                    WHERE w.department_id <> :d AND w.status = 'issued'
                      AND NOT EXISTS (SELECT 1 FROM warning_assist a WHERE a.warning_id = w.id)
                    ORDER BY w.id DESC LIMIT :n"""), {"d": dept, "n": ASSISTS - have})
        with ctx.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE warning_assist")
        return max(have, ASSISTS)

    return int(ctx.once("seed assists", seed))


def handler_token(url: str) -> str:
    """The department's handler (`HANDLER`, password harness.BENCH_PASSWORD) and a fresh bearer token of theirs."""
    return harness.bench_token(url, username=HANDLER, roles=("handler",), department_code=DEPARTMENT,
                               display_name="基准测试处置员")


def handler_cookie(regwatch_url: str) -> str:
    """Signed in as the handler through the login form (as harness.session_cookie does for the admin)."""
    jar: dict[str, str] = {}

    def keep(response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]

    def header() -> str:
        return "; ".join(f"{k}={v}" for k, v in jar.items())

    with httpx.Client(base_url=regwatch_url, timeout=30) as client:
        page = client.get("/login", headers={"accept": "text/html"})
        keep(page)
        match = re.search(r'name="csrf[-_]token" (?:content|value)="([^"]+)"', page.text)
        if not match:
            raise RuntimeError("no CSRF token on the login page")
        answer = client.post("/login", data={"username": HANDLER, "password": harness.BENCH_PASSWORD, "next": "/",
                                             "csrf_token": match.group(1)},
                             headers={"accept": "text/html", "cookie": header()})
        if answer.status_code != 303:
            raise RuntimeError(f"handler sign-in failed: {answer.status_code} {answer.text[:200]}")
        keep(answer)
        return header()


# --- receive under load ----------------------------------------------------------------------------------------

def receive_pool(ctx: Context, n: int) -> list[tuple[int, int]]:
    """`n` pending warnings (id, row_version) of the other departments, without assists."""
    with ctx.engine.connect() as conn:
        rows = conn.execute(sa.text("""
            SELECT w.id, w.row_version FROM risk_warning w
            WHERE w.status = 'issued' AND w.department_id <> :d
              AND NOT EXISTS (SELECT 1 FROM warning_assist a WHERE a.warning_id = w.id)
            ORDER BY w.id LIMIT :n"""), {"d": ctx.department_id(DEPARTMENT), "n": n}).all()
    if len(rows) < n:
        raise RuntimeError(f"only {len(rows)} pending warnings left for the receive pool (wanted {n})")
    return [(int(i), int(v)) for i, v in rows]


def _receive(client: httpx.Client, url: str, token: str, warning: tuple[int, int], query: str = RECEIVE) -> float:
    body = {"query": query, "variables": {"id": str(warning[0]), "v": warning[1]}}
    started = time.perf_counter()
    response = client.post(f"{url}/graphql", json=body, headers={"authorization": f"Bearer {token}"})
    took = time.perf_counter() - started
    data = response.json()
    if response.status_code != 200 or data.get("errors") or data["data"]["receiveWarning"]["errors"]:
        raise RuntimeError(f"receive {warning[0]}: {response.status_code} {json.dumps(data, ensure_ascii=False)}")
    return took * 1000


def _measure(times: list[float], seconds: float) -> Measure:
    ordered = sorted(times)
    return Measure(p50=statistics.median(ordered), p95=ordered[max(0, int(len(ordered) * 0.95) - 1)],
                   rps=len(ordered) / seconds if seconds else 0.0, requests=len(ordered), failures=0)


def receives(ctx: Context, pool: list[tuple[int, int]], query: str = RECEIVE) -> Measure:
    """Each warning of `pool` received, one request at a time."""
    with httpx.Client(timeout=60) as client:
        started = time.perf_counter()
        times = [_receive(client, ctx.regwatch_url, ctx.token, w, query) for w in pool]
        return _measure(times, time.perf_counter() - started)


@contextlib.contextmanager
def background_wrk(url: str, *, body: str, token: str, connections: int, seconds: int) -> Iterator[dict[str, Any]]:
    """wrk in its own process for `seconds` (longer than the block needs); its summary lands in the dict after."""
    lua = harness._LUA_DONE
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
    script.write('wrk.method = "POST"\n'
                 f"wrk.body = {harness._lua_string(body)}\n"
                 'wrk.headers["content-type"] = "application/json"\n'
                 f'wrk.headers["authorization"] = "Bearer {token}"\n' + lua)
    script.close()
    proc = subprocess.Popen(["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout",
                             "30s", "-s", script.name, f"{url}/graphql"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    result: dict[str, Any] = {}
    try:
        time.sleep(1.0)  # the load is running before the first measured request
        yield result
    finally:
        proc.send_signal(2)  # SIGINT: wrk stops and still prints its summary
        out, err = proc.communicate(timeout=60)
        os.unlink(script.name)
        if "WRKJSON " in out:
            data = json.loads(out.split("WRKJSON ", 1)[1].splitlines()[0])
            result.update(p50=data["p50"] / 1000, p95=data["p95"] / 1000, requests=data["requests"],
                          rps=data["requests"] / (data["duration"] / 1e6))
        else:
            result["error"] = err or out


def receive_statements(counter: harness.StatementCounter, token: str, pool: list[tuple[int, int]],
                       query: str = RECEIVE) -> int:
    """SQL statements of one receive, in process through the ASGI app (the first of `pool` warms, the second counts)."""
    import asyncio

    from tests.support import count_statements

    async def go() -> int:
        transport = httpx.ASGITransport(app=counter.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            async def one(w: tuple[int, int]) -> None:
                r = await client.post("/graphql", json={"query": query, "variables": {"id": str(w[0]), "v": w[1]}},
                                      headers={"authorization": f"Bearer {token}"})
                if r.status_code != 200 or r.json().get("errors") or r.json()["data"]["receiveWarning"]["errors"]:
                    raise RuntimeError(f"in-process receive: {r.status_code} {r.text[:300]}")

            await one(pool[0])
            with count_statements(counter.db) as seen:
                await one(pool[1])
            return seen.count

    return asyncio.run(go())


def page_statements(counter: harness.StatementCounter, path: str) -> int:
    """SQL statements of one view of `path` as the handler, in process (signed in through the login form)."""
    return counter.count(path=path, username=HANDLER)


# --- the run ---------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api.disposal_queries", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--city-url", required=True, help="the bench city (PostgreSQL), as for python -m bench.api")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved runs per server (medians reported)")
    parser.add_argument("--concurrency", default="1,4")
    parser.add_argument("--receives", type=int, default=RECEIVES, help="receive mutations per measurement")
    parser.add_argument("--load", type=int, default=4, help="wrk connections of the inbox load during receives")
    parser.add_argument("--entities", type=int, default=100_000, help="the city's size when it has to be built")
    args = parser.parse_args(argv)
    concurrency = [int(c) for c in args.concurrency.split(",")]
    url = args.city_url
    entities, _ = harness.prepare_city(url, args.entities)
    token, handler = harness.bench_token(url), handler_token(url)
    rows: list[Row] = []

    def show(row: Row) -> None:
        rows.append(row)
        print(harness.format_row(row), flush=True)

    with harness.regwatch(url, harness.free_port()) as regwatch_url, \
            harness.postgraphile(url, harness.free_port()) as postgraphile_url:
        ctx = Context(url, regwatch_url, postgraphile_url, token)
        seed_warnings(ctx)
        assisted = seed_assists(ctx)
        admin_cookie = harness.session_cookie(regwatch_url)
        cookie = handler_cookie(regwatch_url)
        counter = harness.StatementCounter(url, token, admin_cookie)
        mine = harness.StatementCounter(url, handler, cookie)
        print(f"bench.api.disposal_queries — {entities:,} entities, {ctx.scalar('SELECT count(*) FROM risk_warning'):,}"
              f" warnings, {assisted} assisted by {DEPARTMENT}; wrk {args.duration} s × {args.rounds} rounds, "
              f"interleaved, medians; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
              f"load average {os.getloadavg()[0]:.1f}")
        print(harness.HEADER, flush=True)
        # the admin's department inbox beside PostGraphile, and the handler's own (responsible OR assisting)
        rq, pq = harness.check_pair(ctx, INBOX)
        theirs_body = harness.graphql_body(pq)
        gql = {"content-type": "application/json", "accept": "application/json"}
        admin_sql, handler_sql = counter.count(query=rq), mine.count(query=HANDLER_INBOX)
        for c in concurrency:
            runs: dict[str, list[Measure]] = {"admin": [], "handler": [], "postgraphile": []}
            for _ in range(args.rounds):
                runs["admin"].append(harness.wrk(f"{regwatch_url}/graphql", connections=c, duration=args.duration,
                                                 body=harness.graphql_body(rq),
                                                 headers={**gql, "authorization": f"Bearer {token}"}))
                runs["handler"].append(harness.wrk(f"{regwatch_url}/graphql", connections=c, duration=args.duration,
                                                   body=harness.graphql_body(HANDLER_INBOX),
                                                   headers={**gql, "authorization": f"Bearer {handler}"}))
                runs["postgraphile"].append(harness.wrk(f"{postgraphile_url}/graphql", connections=c,
                                                        duration=args.duration, body=theirs_body, headers=gql))
            theirs = Measure.median(runs["postgraphile"])
            show(Row(INBOX.name + " (admin)", c, Measure.median(runs["admin"]), theirs, admin_sql))
            show(Row(f"handler's own inbox ({DEPARTMENT} OR assisting), pending, first {PAGE}; PostGraphile: "
                     "the department's alone", c, Measure.median(runs["handler"]), theirs, handler_sql))
        page = "/disposal?tab=pending"
        check = ctx.http.get(f"{regwatch_url}{page}", headers={"cookie": cookie, "accept": "text/html"})
        if check.status_code != 200 or "处置工作台" not in check.text:
            raise RuntimeError(f"handler page {page}: {check.status_code}")
        page_sql = page_statements(mine, page)
        for c in concurrency:
            measured = [harness.wrk(f"{regwatch_url}{page}", connections=c, duration=args.duration,
                                    headers={"cookie": cookie, "accept": "text/html"}) for _ in range(args.rounds)]
            show(Row(f"page {page} as the handler", c, Measure.median(measured), None, page_sql))
        # receive: alone, then under the inbox load of a separate wrk process
        n = args.receives
        pool = receive_pool(ctx, 3 * n + 4)
        receive_sql = receive_statements(counter, token, pool[:2])
        detail_sql = receive_statements(counter, token, pool[2:4], RECEIVE_DETAIL)
        pool = pool[4:]
        alone = receives(ctx, pool[:n])
        show(Row(f"receiveWarning, one at a time, {n} warnings, no other load", 1, alone, None, receive_sql))
        seconds = int(2 * n / max(alone.rps, 0.1) * 4) + 30
        with background_wrk(regwatch_url, body=harness.graphql_body(rq), token=token, connections=args.load,
                            seconds=seconds) as load:
            loaded = receives(ctx, pool[n:2 * n])
            detailed = receives(ctx, pool[2 * n:3 * n], RECEIVE_DETAIL)
        show(Row(f"receiveWarning, one at a time, {n} warnings, inbox load c={args.load} from wrk", 1, loaded, None,
                 receive_sql))
        show(Row(f"receiveWarning answering the warning (status, actions, timeline), {n} warnings, inbox load "
                 f"c={args.load}", 1, detailed, None, detail_sql))
        if "error" in load:
            print(f"(the background load failed: {load['error']})", file=sys.stderr)
        else:
            print(f"| (the inbox load during them: {load['requests']} requests) | {args.load} | "
                  f"{load['p50']:.1f} / {load['p95']:.1f} | {load['rps']:.0f} | — | — | — | {admin_sql} |")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        counter.close()
        mine.close()
        ctx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
