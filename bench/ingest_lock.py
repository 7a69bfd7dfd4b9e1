"""How long a large import holds SQLite's write lock, and what concurrent writers see meanwhile (issue 8 #15).

    python -m bench.ingest_lock [--rows 600000] [--entities 50000] [--backend sqlite|postgresql]

Imports N supervision actions through `ingest_stream` while a second thread writes a small row (an audit entry
through the unit of work, as a GraphQL mutation would) every 50 ms. Prints the import's phases — stage (read,
validate, stage in temporary tables: no lock on the main database), open (batch row and its first errors: a
short write), merge (the upsert: the one long hold of the write lock), checkpoint (SQLite copies the WAL into the
database after the commit, holding no lock) — and the writer's latencies and failures. Two runs: the merge of new
rows, then the merge that updates every row.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.common import create_database, drop_database
from bench.ingest import _prepare, records


def _writer(db, stop: threading.Event, latencies: list, failures: list) -> None:
    """A small write every 50 ms through the unit of work, as a GraphQL mutation would; records what it saw."""
    from domain.audit.service import record_audit
    from domain.identity.actor import SYSTEM

    n = 0
    while not stop.is_set():
        began = time.perf_counter()
        try:
            with db.unit_of_work() as session:
                record_audit(session, SYSTEM, "bench.write", "bench", n, {"n": n})
            latencies.append((began, time.perf_counter() - began))
        except Exception as exc:  # what a caller would see
            failures.append(f"{type(exc).__name__}: {exc}"[:200])
        n += 1
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=600_000)
    parser.add_argument("--entities", type=int, default=50_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()

    from domain.db import Database
    from domain.identity.actor import SYSTEM
    from domain.supervision.ingest import ingest_stream

    with tempfile.TemporaryDirectory(prefix="regwatch-bench-") as tmp:
        url = create_database(args.backend, Path(tmp), "lock")
        try:
            _prepare(url, args.entities)
            db = Database(url)
            for run in ("insert", "update"):
                latencies: list[tuple[float, float]] = []  # (when, seconds)
                failures: list[str] = []
                stop = threading.Event()
                thread = threading.Thread(target=_writer, args=(db, stop, latencies, failures), daemon=True)
                thread.start()
                started = time.perf_counter()
                rows = records(args.rows, args.entities)
                if run == "update":  # every record changed, so every row is rewritten
                    rows = ({**r, "officers": "王五、赵六"} for r in rows)
                result = ingest_stream(db, SYSTEM, source="BENCH", kind="actions", records=rows, channel="cli")
                total = time.perf_counter() - started
                time.sleep(0.2)
                stop.set()
                thread.join()
                t = result.timings
                merge_from = started + t["stage"] + t["open"]
                during = [s for when, s in latencies if when >= merge_from - 0.05]
                p50 = statistics.median(s for _, s in latencies) * 1000
                print(f"{args.backend} {run} {args.rows:,} rows: accepted {result.accepted:,} in {total:.1f} s — "
                      f"stage {t['stage']:.1f} s, open {t['open']:.2f} s, merge (write lock) {t['merge']:.1f} s "
                      f"({t['merge_cpu']:.1f} s CPU), checkpoint (no lock) {t.get('checkpoint', 0):.1f} s")
                print(f"  concurrent writer: {len(latencies)} writes, p50 {p50:.0f} ms, "
                      f"max {max(s for _, s in latencies) * 1000:.0f} ms; during the merge max "
                      f"{max(during, default=0) * 1000:.0f} ms; failures {len(failures)}"
                      + (f" (first: {failures[0]})" if failures else ""), flush=True)
            db.dispose()
        finally:
            drop_database(url)


if __name__ == "__main__":
    main()
