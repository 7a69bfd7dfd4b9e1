"""python -m bench.api — see bench/api/__init__.py."""

from __future__ import annotations

import argparse
import importlib
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from bench.api import harness
from bench.common import PG_ADMIN_URL


def _ensure_database(name: str) -> str:
    admin = sa.create_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--city-url", help="a PostgreSQL database to reuse (built there when empty)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved runs per server (medians reported)")
    parser.add_argument("--concurrency", default="1,4")
    parser.add_argument("--only", help="comma-separated substrings of query names to run")
    parser.add_argument("--no-pages", action="store_true")
    parser.add_argument("--queries-module", action="append", default=["bench.api.queries"],
                        help="modules that register query pairs (repeatable)")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install -y wrk", file=sys.stderr)
        return 2
    for module in dict.fromkeys(args.queries_module):
        importlib.import_module(module)
    pairs = harness.QUERIES
    if args.only:
        wanted = [w.strip() for w in args.only.split(",")]
        pairs = [p for p in pairs if any(w in p.name for w in wanted)]
    concurrency = [int(c) for c in args.concurrency.split(",")]

    url = args.city_url or _ensure_database(f"regwatch_bench_api_{args.entities}")
    entities, built = harness.prepare_city(url, args.entities)
    token = harness.bench_token(url)
    with harness.regwatch(url, harness.free_port()) as regwatch_url, \
            harness.postgraphile(url, harness.free_port()) as postgraphile_url:
        ctx = harness.Context(url, regwatch_url, postgraphile_url, token)
        cookie = harness.session_cookie(regwatch_url)
        counter = harness.StatementCounter(url, token, cookie)
        actions = ctx.scalar("SELECT count(*) FROM supervision_action")
        pg_version = ctx.scalar("SHOW server_version")
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        title = (f"bench.api — {entities:,} entities, {actions:,} actions"
                 f"{f' (built in {built:.0f} s)' if built else ''}; PostgreSQL {pg_version}, Node {node}, "
                 f"Python {platform.python_version()}; wrk {args.duration:g} s × {args.rounds} rounds per server, "
                 f"interleaved, medians; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        print(title)
        print(harness.HEADER, flush=True)
        rows = harness.measure(ctx, pairs, [] if args.no_pages else harness.PAGES, concurrency=concurrency,
                               duration=args.duration, rounds=args.rounds, counter=counter, cookie=cookie)
        depth: list[harness.DepthRow] = []
        if any(p.deeper_than for p in pairs):
            print("\n" + harness.DEPTH_HEADER, flush=True)
            depth = harness.measure_depth(ctx, pairs, concurrency=concurrency, duration=args.duration,
                                          rounds=args.rounds)
        counter.close()
        ctx.close()
    if args.markdown:
        args.markdown.write_text(title + "\n\n" + harness.HEADER + "\n" +
                                 "\n".join(harness.format_row(r) for r in rows) + "\n" +
                                 ("\n" + harness.DEPTH_HEADER + "\n" +
                                  "\n".join(harness.format_depth_row(r) for r in depth) + "\n" if depth else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
