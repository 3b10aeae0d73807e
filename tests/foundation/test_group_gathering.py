"""How a group transaction gathers its units: everything queued, then the callers it expects."""

import asyncio
import threading
import time

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
