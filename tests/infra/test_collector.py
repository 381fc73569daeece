"""The collector settings of the API and worker processes (infra/collector.py)."""

import gc
from collections.abc import Iterator

import pytest

from infra.collector import YOUNG_GENERATION_THRESHOLD, tune_collector


@pytest.fixture
def collector_restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@pytest.mark.usefixtures("collector_restored")
def test_what_exists_is_frozen_and_the_young_generation_collected_less_often() -> None:
    _, middle, oldest = gc.get_threshold()
    kept: list[object] = [[]]  # a list is always tracked
    assert any(found is kept for found in gc.get_objects())
    tune_collector()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, middle, oldest)
    # Frozen: in no generation the collector walks.
    assert not any(found is kept for found in gc.get_objects())
    # The collector still frees cycles made afterwards.
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1
