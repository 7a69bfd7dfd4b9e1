"""API benchmark: Regwatch beside PostGraphile 4 on the same PostgreSQL demo city, the same queries, one run.

    python -m bench.api [--entities 100000] [--city-url postgresql://…] [--duration 5] [--rounds 2]
                        [--concurrency 1,4] [--only actions,entities] [--no-pages] [--markdown out.md]

1. The city: `--city-url` is reused (built there when it holds no entities), otherwise a database
   `regwatch_bench_api_<entities>` on the benchmark server is built once with the demo generator and kept. Either
   way it is migrated to head and `VACUUM ANALYZE`d.
2. PostGraphile 4 is installed with npm into `bench/api/.cache/postgraphile` (a benchmark tool, never a dependency
   of the app) and started read-only (`default_transaction_read_only=on`, no mutations, `NODE_ENV=production`).
3. `regwatch serve` runs with one worker and production settings (`REGWATCH_ENV=prod`).
4. `wrk` (Debian's; `apt-get install wrk`) drives both from its own process, for every query pair at every
   concurrency, the two servers interleaved round by round; each response is checked once beforehand (no
   GraphQL errors, the same number of nodes from both servers). Then the HTMX pages of the same lists.
5. Printed: p50 / p95 (ms), requests/s, SQL statements per Regwatch request (counted in-process through the
   ASGI app on the same database), and Regwatch's ratio to PostGraphile (p50: lower is better; throughput:
   higher is better).
6. A pair registered with `deeper_than=<name of another pair>` (the actions page 100 against the first page) is
   then measured against that pair on each server, the two interleaved round by round (first, deep, first, deep),
   and the deep ÷ first ratios printed in a second table: the target is a deep page within 1.2× of the first page,
   and measured minutes apart in the main table the two drift with the machine.

Adding a query pair (the lists being built next — warnings, disposal, clues, statistics — add theirs)::

    from bench.api import QueryPair, register

    register(QueryPair(
        name="warnings inbox",
        regwatch='{ warnings(departmentCode: "SZ-SCJG", first: 50) { totalCount nodes { code level } } }',
        postgraphile=lambda ctx: '{ allWarnings(first: 50, condition: {departmentId: %d}, '
                                 'orderBy: [ISSUED_AT_DESC, ID_DESC]) { totalCount nodes { code level } } }'
                                 % ctx.department_id("SZ-SCJG"),
        nodes=("warnings", "allWarnings")))   # paths to compare node counts (optional)

in `bench/api/queries.py` (or any module named with `--queries-module`), and `register_page("/warnings")` for a
page. A query may be a string or a function of the :class:`Context` (ids, cursors, SQL look-ups).
"""

from __future__ import annotations

from bench.api.harness import PAGES, QUERIES, Context, QueryPair, register, register_page

__all__ = ["PAGES", "QUERIES", "Context", "QueryPair", "register", "register_page"]
