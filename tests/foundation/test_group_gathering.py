"""How a group transaction gathers its units: everything queued, then the callers it expects."""

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
