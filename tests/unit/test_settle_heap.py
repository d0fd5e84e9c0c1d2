"""A process's main loop first takes what start-up built out of the collector's full passes
(tidings.app.settle_heap): the objects that live as long as the process are not walked
again and again under load."""

from __future__ import annotations

import gc

from tidings.app import run_event_loop


async def _frozen_now() -> int:
    return gc.get_freeze_count()


def test_the_main_loop_runs_with_the_start_up_heap_frozen() -> None:
    gc.unfreeze()
    try:
        built_at_start = [object() for _ in range(1000)]
        assert gc.get_freeze_count() == 0
        assert run_event_loop(_frozen_now()) >= len(built_at_start)
    finally:
        gc.unfreeze()  # the rest of this test process collects as before
