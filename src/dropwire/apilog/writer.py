"""Buffered API-log writes: requests never wait for their own log row.

Rows queue in memory and a background thread inserts them in batches. `flush()` writes what is
queued at once; reading the log flushes first, so a process always sees its own requests. While
the database is away the rows wait for it (a transient failure is one log line, and the rows are
written once it is back); the queue is bounded, so a long outage drops the oldest rows, counted.
"""

import logging
import queue
import threading
from typing import Any

from prometheus_client import Counter
from sqlalchemy import insert

from dropwire.apilog.models import ApiLog
from dropwire.core.db import Database
from dropwire.core.transient import noted

log = logging.getLogger("dropwire.apilog")

MAX_WAITING = 100_000
"""API-log rows held in memory at most while the database is away."""

DROPPED = Counter(
    "dropwire_api_log_rows_dropped_total", "API-log rows dropped: the database was away too long"
)


class ApiLogWriter:
    def __init__(self, database: Database, interval: float = 0.25, batch: int = 500) -> None:
        self._database = database
        self._interval = interval
        self._batch = batch
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="api-log-writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.flush()

    def add(self, row: dict[str, Any]) -> None:
        self._queue.put(row)

    def flush(self) -> None:
        with self._lock:
            while True:
                rows: list[dict[str, Any]] = []
                while len(rows) < self._batch:
                    try:
                        rows.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                if not rows:
                    return
                try:
                    with self._database.transaction() as session:
                        session.execute(insert(ApiLog), rows)
                except Exception as exc:
                    if noted(exc, "api_log") is None:
                        log.exception("could not write %d API log rows", len(rows))
                        return
                    self._keep(rows)  # the database is away: again at the next flush
                    return

    def _keep(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self._queue.put(row)
        while self._queue.qsize() > MAX_WAITING:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
            DROPPED.inc()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()
