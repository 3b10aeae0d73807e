"""How group transactions and group commits gather: what is queued, then the callers expected."""

import asyncio
import queue
import threading
import time

from dropwire.core.group_commit import _STOP as STOP
from dropwire.core.group_commit import GroupCommitter, gather
from dropwire.core.group_commit import _Entry as _Commit
from dropwire.core.group_transaction import GroupTransactions, UnitKind, _Entry

KIND = UnitKind("test.echo", lambda _session, requests: list(requests))


def entry(number: int) -> _Entry:
    return _Entry(KIND, number)


def test_what_is_queued_goes_in_without_waiting(database):
    combiner = GroupTransactions(database, window=5.0)
    for number in (2, 3, 4):
        combiner._queue.put(entry(number))
    started = time.monotonic()
    group = combiner._gather(entry(1))  # one caller expected: no reason to wait
    assert [e.request for e in group] == [1, 2, 3, 4]
    assert time.monotonic() - started < 1.0


def test_it_waits_for_as_many_callers_as_the_last_commit_had(database):
    combiner = GroupTransactions(database, window=5.0)
    combiner._callers = 3
    combiner._queue.put(entry(2))
    late = threading.Timer(0.05, lambda: combiner._queue.put(entry(3)))
    late.start()
    started = time.monotonic()
    group = combiner._gather(entry(1))
    assert [e.request for e in group] == [1, 2, 3]  # the late caller made it in
    assert time.monotonic() - started < 2.5  # and nobody waited for the window's end


def test_it_waits_no_longer_than_the_window_for_callers_that_left(database):
    combiner = GroupTransactions(database, window=0.05)
    combiner._callers = 8
    group = combiner._gather(entry(1))
    assert [e.request for e in group] == [1]


def test_a_unit_whose_caller_stopped_waiting_is_dropped_and_the_others_go_on(database):
    applied: list[int] = []
    release = threading.Event()

    def apply_all(_session, requests):
        if 1 in requests:
            release.wait(5)  # the first group holds the thread while unit 2 is queued
        applied.extend(requests)
        return list(requests)

    kind = UnitKind("test.slow", apply_all)
    combiner = GroupTransactions(database, window=0.0)

    async def scenario() -> tuple[int, int]:
        first = asyncio.ensure_future(combiner.run_async(kind, 1))
        await asyncio.sleep(0.1)
        second = asyncio.ensure_future(combiner.run_async(kind, 2))
        await asyncio.sleep(0.1)
        second.cancel()  # the caller went away while its unit was queued
        await asyncio.sleep(0.1)  # the cancellation reaches the queued unit's future
        release.set()
        return await first, await combiner.run_async(kind, 3)

    assert asyncio.run(scenario()) == (1, 3)  # the thread lived on
    assert applied == [1, 3]


def test_group_commit_stops_gathering_once_the_callers_of_the_last_commit_are_in(database):
    committer = GroupCommitter(database, window=5.0)
    committer._callers = 3
    for number in (2, 3):
        committer._queue.put(_accept(number))
    started = time.monotonic()
    group, stopping = committer._gather(_accept(1))
    assert [entry.request for entry in group] == [1, 2, 3]  # the others were queued: one group
    assert not stopping
    assert time.monotonic() - started < 2.5  # without waiting the window out


def test_group_commit_waits_the_window_for_callers_that_are_still_coming(database):
    committer = GroupCommitter(database, window=5.0)
    committer._callers = 2
    late = threading.Timer(0.05, lambda: committer._queue.put(_accept(2)))
    late.start()
    group, _ = committer._gather(_accept(1))
    assert [entry.request for entry in group] == [1, 2]


def test_a_stop_ends_the_group_it_is_taken_in():
    source: queue.SimpleQueue[object] = queue.SimpleQueue()
    for item in ("b", STOP, "c"):
        source.put(item)
    assert gather(source, "a", window=5.0, limit=10, expected=10) == (["a", "b"], True)
    assert source.get_nowait() == "c"  # what follows the stop stays queued


def test_a_group_holds_no_more_than_its_limit():
    source: queue.SimpleQueue[int] = queue.SimpleQueue()
    for number in range(2, 10):
        source.put(number)
    assert gather(source, 1, window=5.0, limit=4, expected=1) == ([1, 2, 3, 4], False)
    assert source.qsize() == 5


def _accept(number: int) -> _Commit:
    """A request as the committer queues it; gathering reads none of its fields."""
    return _Commit(lambda _session, requests: [[] for _ in requests], number, None, None, None)
