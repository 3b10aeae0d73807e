"""What a run compares its rows with: the stored (id, digest) of each key, read ahead.

A feed's rows were created in the order of its file, and vendors keep that order from one file
to the next: the rows a batch needs follow the last one the previous batch found. So the feed's
rows are streamed in id order (a range of the (feed, id) index, several times cheaper than
looking each key up) by a thread of their own, a few pages ahead of the parser: the database
works while Python parses. Keys the stream misses (new items, a reordered file) are looked up
by key; a file whose batches mostly miss the stream stops using it.
"""

import queue
import threading
from bisect import bisect_right
from collections.abc import Sequence

from sqlalchemy import select

from dropwire.core.db import Database
from dropwire.feeds.models import InventoryFeedVariant
from dropwire.feeds.upsert import among

FV = InventoryFeedVariant
Stored = tuple[str, int, str | None]  # external id, feed-variant id, content digest
_AHEAD = 3  # pages read ahead of the parser


class _Pages:
    """A thread reading the feed's rows after an id, page by page, into a bounded queue."""

    def __init__(self, database: Database, feed_id: int, after: int, page: int) -> None:
        self.pages: queue.Queue[list[Stored] | BaseException | None] = queue.Queue(_AHEAD)
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=self._read,
            args=(database, feed_id, after, page),
            name=f"feed-{feed_id}-stored",
            daemon=True,
        )
        self.thread.start()

    def _read(self, database: Database, feed_id: int, after: int, page: int) -> None:
        try:
            while not self.stopped.is_set():
                with database.session(write=False) as session:
                    rows: list[Stored] = [
                        (row[0], row[1], row[2])
                        for row in session.connection().execute(
                            select(FV.external_id, FV.id, FV.content_hash)
                            .where(FV.inventory_feed_id == feed_id, FV.id > after)
                            .order_by(FV.id)
                            .limit(page)
                        )
                    ]
                if not rows:
                    break
                self._put(rows)
                after = rows[-1][1]
            self._put(None)
        except BaseException as exc:  # handed to the reader, which raises it
            self._put(exc)

    def _put(self, item: list[Stored] | BaseException | None) -> None:
        while not self.stopped.is_set():
            try:
                self.pages.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def next(self) -> list[Stored] | None:
        item = self.pages.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()


class StoredReader:
    """The stored (id, digest) of a batch's keys; `close` when the run ends."""

    def __init__(self, database: Database, feed_id: int, page: int) -> None:
        self.database = database
        self.feed_id = feed_id
        self.page = page
        self.after = 0  # every row the stream still holds has a greater id
        self.buffer: list[Stored] = []
        self.ids: list[int] = []  # the buffer's ids, for bisecting
        self.pages: _Pages | None = None
        self.ended = False
        with database.session(write=False) as session:
            stored_one = select(FV.id).where(FV.inventory_feed_id == feed_id).limit(1)
            self.first = session.scalar(stored_one) is None
        self.ranged = not self.first

    def read(self, keys: Sequence[str]) -> dict[str, tuple[int, str | None]]:
        found: dict[str, tuple[int, str | None]] = {}
        if self.first:  # the feed had no items when the run began (a row pushed meanwhile is
            return found  # still compared by the upsert)
        wanted = set(keys)
        if self.ranged:
            window = self._window(len(keys) + len(keys) // 10 + 10)
            for external_id, feed_variant_id, content_hash in window:
                if external_id in wanted:
                    found[external_id] = (feed_variant_id, content_hash)
            if found:
                self._skip_to(max(feed_variant_id for feed_variant_id, _ in found.values()))
            if window and len(found) < len(keys) // 4:
                self._stop_stream()  # this file is not in the stored order
                self.ranged = False
        missing = wanted - found.keys()
        if missing:
            with self.database.session(write=False) as session:
                looked_up = session.connection().execute(
                    select(FV.external_id, FV.id, FV.content_hash).where(
                        FV.inventory_feed_id == self.feed_id,
                        among(session, column=FV.external_id, values=missing),
                    )
                )
                for external_id, feed_variant_id, content_hash in looked_up:
                    found[external_id] = (feed_variant_id, content_hash)
            if self.ranged and len(missing) == len(wanted) and found:
                # nothing in the stream (a block of items left the file): resume at these
                self._restart(min(feed_variant_id for feed_variant_id, _ in found.values()) - 1)
        return found

    def written(self) -> None:
        """The run wrote rows: what was read ahead may be older than them; read it again."""
        if self.ranged and (self.pages is not None or self.buffer):
            self._restart(self.after)

    def close(self) -> None:
        self._stop_stream()

    def _window(self, size: int) -> list[Stored]:
        while len(self.buffer) < size and not self.ended:
            if self.pages is None:
                self.pages = _Pages(self.database, self.feed_id, self._last_read(), self.page)
            page = self.pages.next()
            if page is None:
                self.ended = True
                break
            self.buffer.extend(page)
            self.ids.extend(row[1] for row in page)
        return self.buffer[:size]

    def _last_read(self) -> int:
        return self.ids[-1] if self.ids else self.after

    def _skip_to(self, after: int) -> None:
        self.after = after
        cut = bisect_right(self.ids, after)
        del self.buffer[:cut]
        del self.ids[:cut]

    def _restart(self, after: int) -> None:
        self._stop_stream()
        self.after = after
        self.buffer, self.ids, self.ended = [], [], False

    def _stop_stream(self) -> None:
        if self.pages is not None:
            self.pages.stop()
            self.pages = None
