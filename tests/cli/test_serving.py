"""The server process's app: create_app's, with the long-lived startup heap frozen out of the collector's reach."""

from __future__ import annotations

import gc

import httpx

from cli.serving import create_server_app


async def test_the_server_app_freezes_its_startup_heap_and_serves_as_create_app_does(settings, db):
    app = create_server_app(settings=settings, run_jobs=False, database=db)
    gc.unfreeze()
    before = gc.get_freeze_count()
    try:
        async with app.router.lifespan_context(app):
            frozen = gc.get_freeze_count()
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
                response = await client.get("/healthz")
        assert before == 0 and frozen > 10_000, (before, frozen)  # the modules, schema, mappers: far more than this
        assert response.status_code == 200
    finally:
        gc.unfreeze()  # frozen objects are never collected: give them back to the test process
