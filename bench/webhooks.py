"""Webhook delivery throughput with a local receiver (issue 14): N outbox events dispatched, then delivered signed
to a real HTTP server on this machine; prints dispatch and delivery rates.

    python -m bench.webhooks --events 2000 [--backend postgresql]
"""

from __future__ import annotations

import argparse
import http.server
import tempfile
import threading
import time
from pathlib import Path

import httpx

from domain.db import Database
from domain.identity.actor import SYSTEM
from domain.notifications import webhooks as wh
from domain.notifications.outbox import emit
from domain.schema_version import upgrade_to_head
from tests.support import create_database, drop_database


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["content-length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = create_database(Path(tempfile.mkdtemp()), "webhooks", backend=args.backend)
    try:
        upgrade_to_head(url)
        db = Database(url)
        with db.unit_of_work() as s:
            wh.create_subscription(s, SYSTEM, wh.SubscriptionInput(
                name="bench", url=f"http://127.0.0.1:{server.server_address[1]}/", secret="s" * 32))
            for i in range(args.events):
                emit(s, "urge", warning_id=None, department_id=None, payload={"n": i})
        t0 = time.perf_counter()
        while wh.dispatch_outbox(db, limit=1000):
            pass
        t1 = time.perf_counter()
        with httpx.Client(timeout=10) as client:
            while wh.deliver_due(db, limit=500, client=client).attempted:
                pass
        t2 = time.perf_counter()
        assert len(received) == args.events, len(received)
        print(f"{args.backend}: {args.events} events dispatched in {t1 - t0:.2f} s "
              f"({args.events / (t1 - t0):.0f}/s); delivered in {t2 - t1:.2f} s ({args.events / (t2 - t1):.0f}/s, "
              "8 in parallel)")
        db.dispose()
    finally:
        drop_database(url)
        server.shutdown()


if __name__ == "__main__":
    main()
