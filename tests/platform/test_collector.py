"""regwatch_app.tune_collector: a serving process freezes its start-up heap and collects young objects less often."""

from __future__ import annotations

import gc

from regwatch_app import GC_YOUNG_THRESHOLD, tune_collector


def test_the_startup_heap_is_frozen_and_the_young_threshold_raised():
    before = gc.get_threshold()
    try:
        gc.unfreeze()
        assert gc.get_freeze_count() == 0
        tune_collector()
        assert gc.get_freeze_count() > 10_000  # modules, the schema, … moved to the permanent generation
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, before[1], before[2])
        # reference cycles made afterwards are still collected
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
