"""Buffered API-log writes: requests never wait for their own log row.

Rows queue in memory and a background thread inserts them in batches. `flush()` writes what is
queued at once; reading the log flushes first, so a process always sees its own requests.
"""

import logging
import queue
import threading
from typing import Any

from sqlalchemy import insert

from dropwire.apilog.models import ApiLog
from dropwire.core.db import Database

log = logging.getLogger("dropwire.apilog")


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
                except Exception:
                    log.exception("could not write %d API log rows", len(rows))
                    return

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()
