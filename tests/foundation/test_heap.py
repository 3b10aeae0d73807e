"""A running app's process freezes its start-up heap and widens the collector's young
generation (`core.heap`); stopping the app undoes both."""

import gc

from fastapi.testclient import TestClient

from dropwire.core import heap


def test_a_running_app_settles_the_heap_and_a_stopped_one_undoes_it(app):
    before = gc.get_threshold()
    with TestClient(app):
        assert gc.get_threshold()[0] == heap.YOUNG_GENERATION
        assert gc.get_threshold()[1:] == before[1:]
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_wider_young_generation_collects_less_often():
    """What the setting is for: fewer young collections for the same short-lived objects."""

    def collections_while_allocating() -> int:
        gc.collect()
        counts = [0]

        def count(phase: str, info: dict) -> None:
            if phase == "start" and info["generation"] == 0:
                counts[0] += 1

        kept = []  # a batch's objects live until it ends
        gc.callbacks.append(count)
        try:
            for _ in range(200_000):
                kept.append({"row": [1]})
        finally:
            gc.callbacks.remove(count)
        return counts[0]

    default = collections_while_allocating()
    heap.settle()
    try:
        settled = collections_while_allocating()
    finally:
        heap.unsettle()
    assert settled * 10 < default
