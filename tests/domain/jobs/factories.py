"""Job kinds that exist only for tests, registered for one test and removed after it (no test leaves a kind behind).

    with test_job_kinds({"test.count": count_job}):
        ...

or, in a module, `_kinds = job_kinds_fixture({...})` to register them around every test of that module.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest

from domain.jobs.service import Handler, job_handler, registered_kinds, remove_job_handler

__all__ = ["job_kinds_fixture", "test_job_kinds"]


@contextmanager
def test_job_kinds(handlers: Mapping[str, Handler]) -> Iterator[None]:
    clash = set(handlers) & set(registered_kinds())
    assert not clash, f"job kinds already registered: {clash}"
    for kind, fn in handlers.items():
        job_handler(kind)(fn)
    try:
        yield
    finally:
        for kind in handlers:
            remove_job_handler(kind)


test_job_kinds.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test pytest should collect


def job_kinds_fixture(handlers: Mapping[str, Handler]):
    """An autouse fixture registering `handlers` around each test of the module that assigns it."""
    @pytest.fixture(autouse=True)
    def _registered_job_kinds() -> Iterator[None]:
        with test_job_kinds(handlers):
            yield
    return _registered_job_kinds
