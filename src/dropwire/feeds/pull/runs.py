"""Pull-feed runs: queue one, claim it, download, guard, apply batch by batch, clean up.

A run downloads the feed's file to a temporary file, reads it with a streaming parser and sends
the rows to write through the feed's one upsert path (`feeds.upsert.apply_items`), a batch's
worth per transaction together with the run's counters, so a run that stops part-way says exactly
which batches (and rows) were applied. Rows whose content digest equals the stored one (read
ahead by `stored.StoredReader`) are counted as unchanged without being validated or written
(`diffPrevious`); plainly valid rows skip the schema (`mapping.plain_feed_variant`), the others
are validated by it. Items missing from the file go to 0 (`fetchCleanup`) only after a complete
run in which every row could be identified. Before anything is applied, a file that would drop or
zero more than `cleanupGuardPercent` of the feed's items is held for a person to approve or
discard: such a run reads its file once, keeping the rows to write until the guard has seen it
all (a re-run changes few), and reads it again only when too many changed to keep.
"""

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dropwire.apilog.redaction import masked_url
from dropwire.core.db import Database, settings_of
from dropwire.core.errors import DomainError, NotFound
from dropwire.core.outbound import AddressPolicy
from dropwire.core.queueing import skipping_locked
from dropwire.core.settings import Settings
from dropwire.core.time import utcnow
from dropwire.core.unit_of_work import call_after_commit
from dropwire.feeds.errors import NotAPullFeed, RunInProgress, RunNotHeld, RunSuperseded
from dropwire.feeds.items import incoming
from dropwire.feeds.models import (
    ACTIVE_RUN_STATUSES,
    InventoryFeed,
    InventoryFeedRun,
    InventoryFeedVariant,
    ResourceType,
    RunStatus,
)
from dropwire.feeds.pull.mapping import (
    FeedMapping,
    RowError,
    external_id_of,
    parse_mapping,
    plain_feed_variant,
    quantity_of,
    to_feed_variant,
)
from dropwire.feeds.pull.parsers import FileProblem, detect_encoding, records
from dropwire.feeds.pull.sources import Limits, SourceError, download
from dropwire.feeds.pull.stored import StoredReader
from dropwire.feeds.upsert import (
    FeedItem,
    ItemResult,
    Outcome,
    among,
    apply_items,
    content_digest,
    count_items,
)

Run = InventoryFeedRun
FV = InventoryFeedVariant
LEASE = timedelta(minutes=5)
HELD_FOR = timedelta(days=7)
ERROR_LIMIT = 100
GOOD = (RunStatus.succeeded, RunStatus.partial)
_SEP = "\x1f"  # between a row's values in its digest
_CLEANUP_PAGE = 20_000  # feed-variant ids read at a time to find those missing from the file
_DEFERRED_ROWS = 50_000  # rows to write a guarded run keeps from its first reading (~25 MB)
_TALLY_EVERY = 2.0  # seconds: the run's counters (and lease) are saved at least this often


class RunProgress(Protocol):
    """What a foreground run (the CLI's progress bar) hears as it goes."""

    def downloaded(self, size: int) -> None: ...

    def read(self, rows: int) -> None: ...


# --- asking for runs ---------------------------------------------------------------------


def request_run(session: Session, *, feed: InventoryFeed, trigger: str = "manual") -> Run:
    """Queue a run of a pull feed; refused while another run of the feed is queued or running."""
    if feed.resource_type == ResourceType.webhook or not feed.resource_location:
        raise NotAPullFeed(
            "resourceLocation", "this feed is not a pull feed (resourceType csv|xml|json + URL)"
        )
    fail_stale_runs(session, now=utcnow(), feed_id=feed.id)
    active = session.scalar(
        select(Run).where(Run.inventory_feed_id == feed.id, Run.status.in_(ACTIVE_RUN_STATUSES))
    )
    if active is not None:
        raise RunInProgress(f"run {active.id} of this feed is still {active.status}")
    run = Run(inventory_feed_id=feed.id, status=RunStatus.queued, trigger=trigger, errors=[])
    session.add(run)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # another request queued one a moment ago
        raise RunInProgress("another run of this feed was just queued") from None
    return run


def get_run(session: Session, *, run_id: int, feed_ids: Iterable[int] | None = None) -> Run:
    run = session.get(Run, run_id)
    if run is None or (feed_ids is not None and run.inventory_feed_id not in set(feed_ids)):
        raise NotFound("Inventory feed run", run_id)
    return run


def approve_run(session: Session, *, run: Run) -> Run:
    """A person vouches for a held file: the run is queued again and the guard stands aside."""
    if run.status != RunStatus.held:
        raise RunNotHeld(f"only a held run can be approved; run {run.id} is {run.status}")
    newer = session.scalar(
        select(Run.id).where(
            Run.inventory_feed_id == run.inventory_feed_id, Run.id > run.id, Run.status.in_(GOOD)
        )
    )
    if newer is not None:
        raise RunSuperseded(f"run {newer} of this feed applied a newer file; discard this one")
    run.status = RunStatus.queued
    run.approved = True
    run.finished_at = None
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise RunInProgress("another run of this feed is queued or running") from None
    return run


def discard_run(session: Session, *, run: Run) -> Run:
    if run.status != RunStatus.held:
        raise RunNotHeld(f"only a held run can be discarded; run {run.id} is {run.status}")
    run.status = RunStatus.discarded
    run.finished_at = utcnow()
    session.flush()
    _drop_held_file_after_commit(session, run.id)
    return run


def held_file(settings: Settings, run_id: int) -> Path:
    """Where a held run keeps its file until it is approved (and applied), discarded or expires.

    The spool directory must be shared by the workers of every machine
    (`DROPWIRE_FEED_SPOOL_DIR`) for an approved run to find the file wherever it is claimed.
    """
    return _spool_dir(settings) / f"dropwire-feed-run-{run_id}.held"


def _spool_dir(settings: Settings) -> Path:
    return Path(settings.feed_spool_dir or tempfile.gettempdir())


def _drop_held_file_after_commit(session: Session, run_id: int) -> None:
    held = held_file(settings_of(session), run_id)
    call_after_commit(
        session, key=f"feeds.held-file:{run_id}", callback=lambda: held.unlink(missing_ok=True)
    )


def _expire_held(session: Session, now: datetime) -> None:
    """Held runs nobody decided on within HELD_FOR are discarded and their files deleted."""
    for run in session.scalars(
        select(Run).where(Run.status == RunStatus.held, Run.finished_at < now - HELD_FOR)
    ):
        run.status = RunStatus.discarded
        run.problem = f"{run.problem}; discarded: nobody approved it within {HELD_FOR.days} days"
        run.finished_at = now
        _drop_held_file_after_commit(session, run.id)


def claim_next_run(database: Database, worker: str) -> int | None:
    """Take the oldest queued run (any worker, any machine); fail runs whose worker vanished."""
    now = utcnow()
    with database.transaction() as session:
        fail_stale_runs(session, now=now)
        _expire_held(session, now)
        stmt = select(Run.id).where(Run.status == RunStatus.queued).order_by(Run.id).limit(1)
        run_id = session.scalars(skipping_locked(session, stmt=stmt)).first()
        if run_id is None:
            return None
        session.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(
                status=RunStatus.running,
                locked_by=worker,
                lease_expires_at=now + LEASE,
                started_at=now,
            )
        )
        return run_id


def fail_stale_runs(session: Session, *, now: datetime, feed_id: int | None = None) -> None:
    """Runs whose worker stopped renewing the lease (it died or lost the database) fail, naming
    the batches they applied; the feed may then run again. Not requeued: the file would be
    fetched again anyway, and the next run (scheduled or manual) does exactly that."""
    stmt = select(Run).where(Run.status == RunStatus.running, Run.lease_expires_at < now)
    if feed_id is not None:
        stmt = stmt.where(Run.inventory_feed_id == feed_id)
    for stale in session.scalars(stmt.with_for_update(skip_locked=True)):
        stale.status = RunStatus.failed
        stale.finished_at = now
        stale.locked_by = None
        stale.lease_expires_at = None
        stale.problem = f"the worker running it stopped; {_applied(stale.batches_applied, stale)}"
    session.flush()


def _applied(batches: int, run: Run) -> str:
    if not batches:
        return "no batch was applied"
    return f"batches 1-{batches} were applied (rows up to {run.rows_applied_through})"


# --- running -----------------------------------------------------------------------------


class _IdSet:
    """Feed-variant ids seen in the file, as a bitmap: 1,000,000 items cost ~1 MB."""

    def __init__(self) -> None:
        self.bits = bytearray()

    def add(self, value: int) -> None:
        index = value >> 3
        if index >= len(self.bits):
            self.bits.extend(bytes(index - len(self.bits) + 1 + (1 << 16)))
        self.bits[index] |= 1 << (value & 7)

    def __contains__(self, value: int) -> bool:
        index = value >> 3
        return index < len(self.bits) and bool(self.bits[index] & (1 << (value & 7)))


@dataclass
class _Segment:
    """Rows read and not yet written: rows to apply, rows that failed, the batches they end and
    the last row of those; written in one transaction, so the run's counters can say exactly
    which rows were applied."""

    items: list[FeedItem] = field(default_factory=list)
    failed: list[tuple[int, str | None, str, str]] = field(default_factory=list)
    batches: int = 0
    through: int = 0


@dataclass
class _Tally:
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    zero: int = 0
    batches: int = 0
    through: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    seen: _IdSet = field(default_factory=_IdSet)
    failed_keys: set[str] = field(default_factory=set)
    unidentified: int = 0  # failed rows without a key: cleanup would zero them wrongly
    analyzed_at: int = 0  # rows this run had created when the table's statistics were renewed
    written_at: float = 0.0  # when the counters were last saved (time.monotonic)
    stored: StoredReader | None = None  # while the file is read
    pending: _Segment = field(default_factory=lambda: _Segment())
    pending_keys: set[str] = field(default_factory=set)  # keys of rows read, not yet written
    deferred: list[_Segment] = field(default_factory=list)  # a guarded run's first pass
    deferred_rows: int = 0

    def error(self, row: int, field_name: str, message: str) -> None:
        self.failed += 1
        if len(self.errors) < ERROR_LIMIT:
            self.errors.append({"row": row, "field": field_name, "message": message[:500]})


class _Stop(Exception):
    def __init__(self, status: RunStatus, problem: str) -> None:
        super().__init__(problem)
        self.status = status
        self.problem = problem


def execute_run(database: Database, run_id: int, progress: RunProgress | None = None) -> Run:
    """Carry out a claimed (running) run to its end; returns the finished run."""
    settings = database.settings
    with database.session(write=False) as session:
        run = get_run(session, run_id=run_id)
        feed = session.get(InventoryFeed, run.inventory_feed_id)
        approved, held_bytes = run.approved, run.bytes
    tally = _Tally()
    handle, name = tempfile.mkstemp(prefix=f"dropwire-feed-{run_id}-", dir=_spool_dir(settings))
    os.close(handle)
    path = Path(name)
    kept = held_file(settings, run_id)
    try:
        if feed is None:
            raise _Stop(RunStatus.failed, "the feed was deleted")
        mapping = _mapping(feed)
        if approved:  # apply the very file a person looked at, never a fresh download
            if not kept.exists() or kept.stat().st_size != held_bytes:
                raise _Stop(
                    RunStatus.failed,
                    f"the held file is no longer in the spool ({kept}); fetch the feed again",
                )
            path.unlink()
            path = kept
        else:
            limits = Limits(
                max_bytes=settings.feed_max_bytes,
                connect_timeout=settings.feed_connect_timeout,
                read_timeout=settings.feed_read_timeout,
                policy=AddressPolicy.from_settings(settings),
            )
            try:
                size = download(
                    feed.resource_location or "",
                    path,
                    limits,
                    token=feed.authentication_token,
                    progress=progress.downloaded if progress else None,
                )
            except SourceError as exc:
                raise _Stop(RunStatus.failed, str(exc)) from exc
            _save(database, run_id, bytes=size)
        encoding = detect_encoding(path) if feed.resource_type == ResourceType.csv else "utf-8"
        _save(database, run_id, encoding=encoding, lease_expires_at=utcnow() + LEASE)
        baseline = None if approved else _guard_baseline(database, feed)
        if baseline is None:
            _apply_file(database, run_id, feed, mapping, path, encoding, tally, progress)
        else:  # read once, writing nothing, until the guard has seen the whole file
            kept_all = _apply_file(
                database, run_id, feed, mapping, path, encoding, tally, progress, deferred=True
            )
            reasons = baseline.reasons(feed, tally.rows_read, tally.zero)
            if reasons:
                tally = _Tally(rows_read=tally.rows_read, zero=tally.zero)  # shown on the run
                path.replace(kept)  # kept for approval: approving applies this very file
                path = kept
                raise _Stop(RunStatus.held, "; ".join(reasons) + "; nothing was applied")
            if kept_all:
                _write_deferred(database, run_id, feed, tally)
            else:  # too many rows to write to keep them all: read the file again
                tally = _Tally()
                _apply_file(database, run_id, feed, mapping, path, encoding, tally, progress)
        complete_problem = _cleanup(database, run_id, feed, tally)
        status = RunStatus.partial if tally.failed else RunStatus.succeeded
        return _finish(database, run_id, tally, status, complete_problem)
    except _Stop as stop:
        problem = stop.problem
        if stop.status is RunStatus.failed and tally.batches:
            problem += f"; {_applied_text(tally)}"
        elif stop.status is RunStatus.failed:
            problem += "; nothing was applied"
        return _finish(database, run_id, tally, stop.status, problem)
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"[:2000] + f"; {_applied_text(tally)}"
        return _finish(database, run_id, tally, RunStatus.failed, problem)
    finally:
        if path != kept:
            path.unlink(missing_ok=True)
        if approved:  # applied, or failed for good: an approved run never runs twice
            kept.unlink(missing_ok=True)


def _applied_text(tally: _Tally) -> str:
    if not tally.batches:
        return "nothing was applied"
    return f"batches 1-{tally.batches} were applied (rows up to {tally.through})"


def _mapping(feed: InventoryFeed) -> FeedMapping:
    try:
        mapping = parse_mapping(feed.resource_type, feed.mapping, feed.csv_has_header)
    except DomainError as exc:
        detail = "; ".join(p.message for p in exc.errors) or exc.message
        raise _Stop(RunStatus.failed, f"mapping: {detail}") from exc
    if mapping is None:
        raise _Stop(RunStatus.failed, "this feed is not a pull feed")
    return mapping


def _rows(
    feed: InventoryFeed,
    mapping: FeedMapping,
    path: Path,
    encoding: str,
) -> Any:
    try:
        yield from records(feed, mapping, path, encoding)
    except FileProblem as exc:
        raise _Stop(RunStatus.failed, str(exc)) from exc


@dataclass(frozen=True)
class _GuardBaseline:
    """What a new file is judged against: the feed's items now and its last good run."""

    percent: int
    existing: int
    last_good_run: int | None
    last_good_rows: int
    zero_before: int

    def reasons(self, feed: InventoryFeed, rows: int, zero: int) -> list[str]:
        """Why this file should wait for a person (empty: go ahead)."""
        percent = self.percent
        allowed = self.existing * percent / 100
        reasons: list[str] = []
        if self.last_good_run is not None and rows < self.last_good_rows * (1 - percent / 100):
            reasons.append(
                f"the file has {rows} rows against {self.last_good_rows} in run "
                f"{self.last_good_run} (down more than {percent}%)"
            )
        if feed.fetch_cleanup and self.existing - rows > allowed:
            reasons.append(
                f"{self.existing - rows} of the feed's {self.existing} items are missing from "
                "the file and would go to 0"
            )
        if zero - self.zero_before > allowed:
            reasons.append(
                f"{zero} rows have quantity 0 against {self.zero_before} before: "
                f"more than {percent}% of the feed's {self.existing} items would go to 0"
            )
        return reasons


def _guard_baseline(database: Database, feed: InventoryFeed) -> _GuardBaseline | None:
    """None when the feed has no guard or nothing a file could drop (a first run)."""
    percent = feed.cleanup_guard_percent
    if percent <= 0:
        return None
    with database.session(write=False) as session:
        existing = count_items(session, feed_id=feed.id)
        if not existing:
            return None
        last_good = session.scalars(
            select(Run)
            .where(Run.inventory_feed_id == feed.id, Run.status.in_(GOOD))
            .order_by(Run.id.desc())
            .limit(1)
        ).first()
        zero_before: int | None = last_good.rows_zero if last_good is not None else None
        if zero_before is None:
            zero_before = session.scalar(
                select(func.count())
                .select_from(FV)
                .where(FV.inventory_feed_id == feed.id, FV.inventory_quantity == 0)
            )
    return _GuardBaseline(
        percent=percent,
        existing=existing,
        last_good_run=last_good.id if last_good is not None else None,
        last_good_rows=last_good.rows_read if last_good is not None else 0,
        zero_before=zero_before or 0,
    )


def _apply_file(
    database: Database,
    run_id: int,
    feed: InventoryFeed,
    mapping: FeedMapping,
    path: Path,
    encoding: str,
    tally: _Tally,
    progress: RunProgress | None,
    *,
    deferred: bool = False,
) -> bool:
    """Read the file and write what changed, a batch's worth per transaction.

    `deferred` (a guarded run's first pass): nothing is written; the rows to write are kept for
    `_write_deferred` while there are at most `_DEFERRED_ROWS` of them (a re-run changes few), so
    the file is read once; beyond that only rows and zeros are counted. Returns whether every row
    to write was kept.
    """
    size = database.settings.feed_batch_size
    tally.stored = StoredReader(database, feed.id, page=size) if feed.diff_previous else None
    try:
        batch: list[tuple[int, dict[str, Any]]] = []
        keeping = True
        notation = feed.decimal_notation  # read once: an ORM attribute costs more than a local
        for row, raw in _rows(feed, mapping, path, encoding):
            tally.rows_read += 1
            if quantity_of(raw, notation) == 0:
                tally.zero += 1
            if not keeping:
                continue
            batch.append((row, raw))
            if len(batch) >= size:
                _read_batch(feed, batch, tally)
                batch = []
                if deferred:
                    keeping = _defer(database, run_id, tally, size)
                elif len(tally.pending.items) >= size or _tally_due(tally):
                    _write_pending(database, run_id, feed, tally)
                    _renew_statistics(database, tally)
                if progress:
                    progress.read(tally.rows_read)
        if keeping and batch:
            _read_batch(feed, batch, tally)
        if progress:
            progress.read(tally.rows_read)
        if not deferred:
            _write_pending(database, run_id, feed, tally)
            return True
        if keeping:
            tally.deferred.append(tally.pending)
            tally.pending = _Segment()
        return keeping
    finally:
        if tally.stored is not None:
            tally.stored.close()
            tally.stored = None


def _tally_due(tally: _Tally) -> bool:
    return time.monotonic() - tally.written_at >= _TALLY_EVERY


def _defer(database: Database, run_id: int, tally: _Tally, size: int) -> bool:
    """Keep the pending rows for later (a batch's worth at a time); False once too many are."""
    pending = tally.pending
    if len(pending.items) >= size:
        tally.deferred.append(pending)
        tally.deferred_rows += len(pending.items) + len(pending.failed)
        tally.pending = _Segment()
    if _tally_due(tally):  # the lease, and how far the reading is
        _save(database, run_id, rows_read=tally.rows_read, lease_expires_at=utcnow() + LEASE)
        tally.written_at = time.monotonic()
    if tally.deferred_rows + len(tally.pending.items) <= _DEFERRED_ROWS:
        return True
    tally.deferred, tally.pending = [], _Segment()
    if tally.stored is not None:
        tally.stored.close()  # the rest of this reading only counts
    return False


def _renew_statistics(database: Database, tally: _Tally) -> None:
    """PostgreSQL: ANALYZE the feed variants each time this run has doubled what it created.

    A first import grows the table faster than autovacuum notices; with statistics of an empty
    table the planner looks a batch's keys up by feed id alone and filters every row of the feed,
    so each batch costs more than the one before (100,000 rows took minutes instead of seconds).
    """
    if database.engine.dialect.name != "postgresql":
        return
    if tally.created < max(2 * database.settings.feed_batch_size, 2 * tally.analyzed_at):
        return
    with database.transaction() as session:
        session.execute(text(f"ANALYZE {FV.__tablename__}"))
    tally.analyzed_at = tally.created


def _salt(feed: InventoryFeed) -> str:
    """What shapes a row besides its text: a changed mapping or notation re-reads every row."""
    shape = [feed.resource_type, feed.decimal_notation, feed.delimiter, feed.mapping]
    return json.dumps(shape, sort_keys=True, default=str) + "|"


def _digest(salt: str, raw: dict[str, Any]) -> str:
    """The row's content digest. A row of plain text (CSV, XML) is digested as its joined
    names and values, several times cheaper than as JSON; a value holding the separator, a
    missing value or a JSON row takes the JSON form (another prefix: the two never meet)."""
    try:
        values = _SEP.join(raw.values())
    except TypeError:  # None (a short CSV row) or a JSON value
        return content_digest(salt, raw)
    if values.count(_SEP) != len(raw) - 1:
        return content_digest(salt, raw)
    text = f"{salt}text:{_SEP.join(raw)}\x1e{values}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _read_batch(
    feed: InventoryFeed,
    batch: list[tuple[int, dict[str, Any]]],
    tally: _Tally,
) -> None:
    """Sort a batch's rows: unchanged (counted), failed, or pending for the next write.

    Rows whose digest equals the stored one are set aside first, read without a lock (as a
    concurrent push would be ordered after this run). The rows to write gather across batches
    until a batch's worth is pending (or `_TALLY_EVERY` passed): a re-run that changes 1% of a
    file costs a few write transactions, not one per batch read.
    """
    salt = _salt(feed)
    keyed: list[tuple[int, str, dict[str, Any], str]] = []
    pending = tally.pending
    failed = pending.failed
    for row, raw in batch:
        key = external_id_of(raw)
        if key is None:
            failed.append((row, None, "vendorSku" if "vendorSku" in raw else "item", "missing"))
            continue
        keyed.append((row, key, raw, _digest(salt, raw)))
    stored: dict[str, tuple[int, str | None]] = {}
    if tally.stored is not None and keyed:
        stored = tally.stored.read([key for _, key, _, _ in keyed])
    items = pending.items
    notation = feed.decimal_notation
    for row, key, raw, digest in keyed:
        known = stored.get(key)
        if known is not None and known[1] == digest and key not in tally.pending_keys:
            tally.unchanged += 1
            tally.seen.add(known[0])
            continue
        plain = plain_feed_variant(raw, notation)
        if plain is not None:
            items.append(FeedItem(plain[0], plain[1], digest, row))
        else:
            try:
                data = to_feed_variant(raw, notation)
            except RowError as exc:
                failed.append((row, key, exc.field, exc.message))
                continue
            items.append(FeedItem(data.external_id, incoming(data), digest, row))
        # stored digests read before this item is written must not judge a later row with it
        tally.pending_keys.add(key)
    pending.batches += 1
    pending.through = batch[-1][0]


def _write_pending(database: Database, run_id: int, feed: InventoryFeed, tally: _Tally) -> None:
    _write_segment(database, run_id, feed, tally, tally.pending)
    tally.pending = _Segment()
    tally.pending_keys = set()


def _write_deferred(database: Database, run_id: int, feed: InventoryFeed, tally: _Tally) -> None:
    """A guarded run let through: the rows its one reading kept, in the file's order."""
    for segment in tally.deferred:
        _write_segment(database, run_id, feed, tally, segment)
        _renew_statistics(database, tally)
    tally.deferred = []
    tally.pending_keys = set()


def _write_segment(
    database: Database, run_id: int, feed: InventoryFeed, tally: _Tally, segment: _Segment
) -> None:
    """One transaction: the segment's rows through the upsert, and the run's counters with them.

    Afterwards every row up to `tally.through` is applied, unchanged or failed."""
    if not segment.batches:
        return
    with database.transaction() as session:
        current = session.get(InventoryFeed, feed.id)
        if current is None:
            raise _Stop(RunStatus.failed, "the feed was deleted during the run")
        results = apply_items(
            session,
            feed=current,
            items=segment.items,
            actor=f"feed run {run_id}",
            reassert=not feed.diff_previous,
        )
        _count(results, segment.failed, tally)
        tally.batches += segment.batches
        tally.through = segment.through
        _write_tally(session, run_id, tally)
    tally.written_at = time.monotonic()
    if tally.stored is not None:
        tally.stored.written()


def _count(
    results: list[ItemResult], failed: list[tuple[int, str | None, str, str]], tally: _Tally
) -> None:
    for result in results:
        if result.outcome is Outcome.failed:
            error = result.error
            assert error is not None
            name = error.errors[0].field if error.errors else "item"
            failed.append((result.row, result.external_id, name, error.message))
            continue
        assert result.feed_variant_id is not None
        tally.seen.add(result.feed_variant_id)
        if result.outcome is Outcome.created:
            tally.created += 1
        elif result.outcome is Outcome.updated:
            tally.updated += 1
        else:
            tally.unchanged += 1
    for row, key, name, message in sorted(failed, key=lambda f: f[0]):
        tally.error(row, name, message)
        if key is None:
            tally.unidentified += 1
        else:
            tally.failed_keys.add(key)


def _write_tally(session: Session, run_id: int, tally: _Tally, **extra: Any) -> None:
    session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(
            rows_read=tally.rows_read,
            rows_created=tally.created,
            rows_updated=tally.updated,
            rows_unchanged=tally.unchanged,
            rows_failed=tally.failed,
            rows_zero=tally.zero,
            batches_applied=tally.batches,
            rows_applied_through=tally.through,
            errors=list(tally.errors),
            lease_expires_at=utcnow() + LEASE,
            **extra,
        )
        .execution_options(synchronize_session=False)
    )


def _cleanup(database: Database, run_id: int, feed: InventoryFeed, tally: _Tally) -> str | None:
    """After a complete run: items not in the file go to 0. Returns why it was skipped, if so."""
    if not feed.fetch_cleanup:
        return None
    if tally.unidentified:
        return (
            f"cleanup skipped: {tally.unidentified} rows had no externalId/vendorSku, so missing "
            "items cannot be told apart"
        )
    after = 0
    cleaned = 0
    size = database.settings.feed_batch_size
    while True:  # the feed's ids read plainly, in long pages: most were in the file
        with database.session(write=False) as session:
            ids = (
                session.connection()
                .execute(
                    select(FV.id)
                    .where(FV.inventory_feed_id == feed.id, FV.id > after)
                    .where(FV.inventory_quantity != 0)
                    .order_by(FV.id)
                    .limit(_CLEANUP_PAGE)
                )
                .scalars()
                .all()
            )
        if not ids:
            break
        after = ids[-1]
        missing = [feed_variant_id for feed_variant_id in ids if feed_variant_id not in tally.seen]
        for start in range(0, len(missing), size):
            with database.transaction() as session:
                items = [
                    FeedItem(external_id, {"inventory_quantity": 0})
                    for external_id in session.scalars(
                        select(FV.external_id)
                        .where(among(session, column=FV.id, values=missing[start : start + size]))
                        .order_by(FV.id)
                    )
                    if external_id not in tally.failed_keys
                ]
                if not items:
                    continue
                current = session.get(InventoryFeed, feed.id)
                assert current is not None
                results = apply_items(
                    session, feed=current, items=items, actor=f"feed run {run_id} cleanup"
                )
                cleaned += sum(1 for r in results if r.outcome is Outcome.updated)
                session.execute(update(Run).where(Run.id == run_id).values(rows_cleaned=cleaned))
    return None


def _save(database: Database, run_id: int, **values: Any) -> None:
    with database.transaction() as session:
        session.execute(update(Run).where(Run.id == run_id).values(**values))


def _finish(
    database: Database, run_id: int, tally: _Tally, status: RunStatus, problem: str | None
) -> Run:
    with database.transaction() as session:
        values: dict[str, Any] = {
            "status": status,
            "problem": masked_url(problem),  # an error may quote the feed's URL
            "finished_at": utcnow(),
            "locked_by": None,
            "lease_expires_at": None,
        }
        _write_tally(session, run_id, tally)
        session.execute(update(Run).where(Run.id == run_id).values(**values))
        run = session.get(Run, run_id)
        assert run is not None
        session.refresh(run)
        return run


def run_now(
    database: Database, feed_id: int, *, trigger: str = "cli", progress: RunProgress | None = None
) -> Run:
    """Queue and carry out a run in the caller's thread (the CLI)."""
    with database.transaction() as session:
        feed = session.get(InventoryFeed, feed_id)
        if feed is None:
            raise NotFound("Inventory feed", feed_id)
        run = request_run(session, feed=feed, trigger=trigger)
        run_id = run.id
        run.status = RunStatus.running
        run.locked_by = f"cli:{os.getpid()}"
        run.started_at = utcnow()
        run.lease_expires_at = utcnow() + LEASE
    return execute_run(database, run_id, progress)
