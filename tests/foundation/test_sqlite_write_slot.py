"""SQLite's write slot: processes take turns at it, a frozen holder means busy (not a hang), and
the job worker's writes let a waiting API writer go first without ever being starved.

Two `SqliteWriteSlot`s on one path stand for two processes: `flock` locks belong to an open
file, and each slot opens its own."""

import subprocess
import sys
import threading
import time
from pathlib import Path

from dropwire.core.db import SqliteWriteSlot, defer_sqlite_writes_in_this_thread


def slots(tmp_path: Path, count: int) -> list[SqliteWriteSlot]:
    return [SqliteWriteSlot(str(tmp_path / "shop.db")) for _ in range(count)]


def test_another_process_waits_for_its_turn_and_gets_it_when_released(tmp_path):
    holder, other = slots(tmp_path, 2)
    assert holder.acquire(timeout=1)
    assert not other.acquire(timeout=0.05)  # busy: the caller answers 503, never hangs
    holder.release()
    assert other.acquire(timeout=1)
    other.release()


def test_a_process_that_dies_holding_the_slot_frees_it(tmp_path):
    script = (
        "import sys, time\n"
        "from dropwire.core.db import SqliteWriteSlot\n"
        f"slot = SqliteWriteSlot({str(tmp_path / 'shop.db')!r})\n"
        "slot.acquire(timeout=5)\n"
        "print('holding', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "holding"
        (mine,) = slots(tmp_path, 1)
        assert not mine.acquire(timeout=0.05)
        child.kill()
        child.wait(timeout=10)
        assert mine.acquire(timeout=5)
        mine.release()
    finally:
        child.kill()


def test_a_deferring_writer_lets_a_waiting_writer_go_first(tmp_path, monkeypatch):
    # deferring for as long as the test may take (the bound has its own test below): a busy
    # machine can hold this thread past the real bound before the holder lets go
    monkeypatch.setattr(SqliteWriteSlot, "MOST_DEFERRED", 60.0)
    holder, api, worker = slots(tmp_path, 3)
    order: list[str] = []

    def write(slot: SqliteWriteSlot, name: str, defers: bool) -> None:
        if defers:
            defer_sqlite_writes_in_this_thread()
        assert slot.acquire(timeout=10)
        order.append(name)
        time.sleep(0.01)
        slot.release()

    assert holder.acquire(timeout=1)
    api_thread = threading.Thread(target=write, args=(api, "api", False))
    api_thread.start()
    # announced where another process sees it (the shared lock on the waiting file, taken just
    # after the count this loop used to read: a thread preempted between the two let the
    # worker find nobody announced, under CI's load)
    while not worker._others_waiting():
        time.sleep(0.001)
    worker_thread = threading.Thread(target=write, args=(worker, "worker", True))
    worker_thread.start()
    time.sleep(0.02)  # the worker is deferring to the announced writer by now
    holder.release()
    api_thread.join(timeout=10)
    worker_thread.join(timeout=10)
    assert order == ["api", "worker"]


def test_a_deferring_writer_is_never_starved(tmp_path):
    waiting_forever, worker = slots(tmp_path, 2)
    waiting_forever._announce(+1)  # another process's writer that keeps announcing itself
    taken: list[float] = []

    def write() -> None:
        defer_sqlite_writes_in_this_thread()
        started = time.monotonic()
        assert worker.acquire(timeout=10)
        taken.append(time.monotonic() - started)
        worker.release()

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(timeout=10)
    waiting_forever._announce(-1)
    assert taken and SqliteWriteSlot.MOST_DEFERRED <= taken[0] < 5
