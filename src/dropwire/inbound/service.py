"""Accept async items durably, then apply each one as a job and log what became of it."""

import hmac
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Table, event, inspect
from sqlalchemy.orm import Session, UOWTransaction

from dropwire.apilog.models import ApiLog, Direction, LogStatus
from dropwire.apilog.redaction import loggable, redact_text
from dropwire.auth.service import digest
from dropwire.core.db import settings_of
from dropwire.core.errors import DomainError
from dropwire.core.group_commit import Row
from dropwire.core.inserts import insert_rows
from dropwire.core.schemas import input_report
from dropwire.core.time import utcnow
from dropwire.core.unit_of_work import call_after_commit
from dropwire.core.wiring import wired, wiring_of
from dropwire.inbound.registry import Applied, HashOwners, InboundKind, Owner, external_id_of
from dropwire.jobs import service as jobs
from dropwire.jobs.models import Job, JobState
from dropwire.jobs.registry import JobKind

MAX_ITEMS = 50
MAX_ATTEMPTS = 5
API_LOGS = cast(Table, ApiLog.__table__)
Credentials = tuple[int, int | None]
"""(owner id, channel id) of an authenticated hash: a custom channel's or an inventory feed's."""


class HashCache:
    """Recently authenticated hashes (by digest, never the value) → their owner.

    Authenticating a hash is a read that decides whether anything is written, so it runs
    before any write transaction, and most requests skip it: an entry lives `seconds`. This
    process forgets every entry as soon as a feed or custom channel's hash, `enabled` flag or
    existence changes (at its flush and again at its commit); another process sees such a change
    within `seconds` (the TTL bounds the staleness: a rotated or deleted hash keeps working there
    that long). Unknown hashes are not cached, so a new hash works at once everywhere.
    """

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._entries: dict[tuple[Owner, str], tuple[float, Credentials]] = {}
        self._lock = threading.Lock()
        self.generation = 0  # bumped by every invalidation; a lookup older than it is not kept

    def get(self, owner: Owner, presented: str, seconds: float) -> Credentials | None:
        if seconds <= 0:
            return None
        entry = self._entries.get((owner, digest(presented)))
        if entry is None or entry[0] + seconds < time.monotonic():
            return None
        return entry[1]

    def put(self, owner: Owner, presented: str, found: Credentials, generation: int) -> None:
        """Keep a lookup made at `generation`, unless an invalidation happened since."""
        with self._lock:
            if generation != self.generation:
                return  # the row may have changed after our read: don't keep what we read
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
            self._entries[(owner, digest(presented))] = (time.monotonic(), found)

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()


HASH_CACHE = HashCache()


@event.listens_for(Session, "after_flush")
def _forget_changed_owners(session: Session, _flush: UOWTransaction) -> None:
    """A flush that rotates, disables or deletes a hash's owner empties the cache now (so this
    process stops trusting it) and again at commit (a lookup in between read the old row).
    The packages owning hashes name those rows and columns (`HashOwner.watched`): inbound reads
    no domain's tables itself."""
    wiring = wiring_of(session)
    if HashOwners not in wiring:
        return  # a process that authenticates no hash caches none
    owners = wiring.part(HashOwners)
    watched = owners.watched
    changed = any(isinstance(obj, owners.watched_types) for obj in session.deleted) or any(
        any(inspect(obj).attrs[name].history.has_changes() for name in watched[type(obj)])
        for obj in session.dirty
        if type(obj) in watched
    )
    if changed:
        HASH_CACHE.invalidate()
        call_after_commit(session, key="inbound.owners", callback=HASH_CACHE.invalidate)


def same_secret(stored: str, presented: str) -> bool:
    """Constant-time, so the answer's timing says nothing about how much of a hash matched."""
    return hmac.compare_digest(stored.encode(), presented.encode())


def authenticate(session: Session, *, owner: Owner, presented: str) -> Credentials | None:
    """(owner id, channel id) for a valid hash of the right kind of owner, else None.

    Only reads: call it on a read session, before any write transaction. A hash found is kept
    in `HASH_CACHE` (the caller asks the cache first). The owner's package says how to find it
    (its `HashOwner`, wired by the entry points).
    """
    lookup = wired(session, kind=HashOwners).lookup(owner)
    if not presented or lookup is None:
        return None
    generation = HASH_CACHE.generation
    found = lookup(session, presented)
    if found is not None:
        HASH_CACHE.put(owner, presented, found, generation)
    return found


@dataclass(frozen=True)
class Accept:
    """One request's accepted items, waiting to be queued."""

    kind: InboundKind
    owner_id: int
    items: list[Any]
    endpoint: str


def _creating(session: Session, accepts: list[Accept]) -> set[int]:
    """The `id()`s of items that would create their record (new records are queued first):
    one read per kind and owner, whatever the number of requests and items."""
    named: dict[tuple[str, int], list[dict[str, Any]]] = {}
    kinds: dict[str, InboundKind] = {}
    for accept in accepts:
        kinds[accept.kind.name] = accept.kind
        named.setdefault((accept.kind.name, accept.owner_id), []).extend(
            item
            for item in accept.items
            if isinstance(item, dict) and accept.kind.record_key(accept.owner_id, item) is not None
        )
    creating: set[int] = set()
    for (kind_name, owner_id), items in named.items():
        if items:
            flags = kinds[kind_name].creating(session, owner_id, items)
            creating.update(id(item) for item, flag in zip(items, flags, strict=True) if flag)
    return creating


def _planned(accept: Accept, creating: set[int]) -> list[dict[str, Any]]:
    """The jobs of a request (kind, payload, priority, ordering key).

    A kind with a batch twin gets one job for the request; others one job per item.
    """
    kind, owner_id, items = accept.kind, accept.owner_id, accept.items
    if kind.apply_batch is not None and kind.owner_key is not None:
        creates = any(id(item) in creating for item in items)
        payload = {"ownerId": owner_id, "items": items, "endpoint": accept.endpoint}
        return [_job(kind, payload, creates, kind.owner_key(owner_id))]
    planned = []
    for index, item in enumerate(items):
        record = kind.record_key(owner_id, item) if isinstance(item, dict) else None
        payload = {"ownerId": owner_id, "item": item, "endpoint": accept.endpoint, "index": index}
        planned.append(_job(kind, payload, id(item) in creating, record))
    return planned


def _job(
    kind: InboundKind, payload: dict[str, Any], creates: bool, ordering_key: str | None
) -> dict[str, Any]:
    return {
        "kind": kind.name,
        "payload": payload,
        "priority": jobs.PRIORITY_CREATE if creates else jobs.PRIORITY_UPDATE,
        "ordering_key": ordering_key,
    }


def accept(
    session: Session, *, kind: InboundKind, owner_id: int, items: list[Any], endpoint: str
) -> int:
    """Queue the items in the caller's transaction (so a 200 means it is stored)."""
    request = Accept(kind, owner_id, items, endpoint)
    for job in _planned(request, _creating(session, [request])):
        jobs.enqueue(session, **job, max_attempts=MAX_ATTEMPTS)
    return len(items)


def accepted_rows(session: Session, *, accepts: list[Accept]) -> list[Sequence[Row]]:
    """Per request, the job rows `accept` would add, for a group commit to insert at once.

    Only reads (`session` may be a read session): one query per kind and owner decides which
    items create records. The rows are what `jobs.enqueue` stores for a job without a dedupe
    key; whoever commits them must wake the workers after the commit.
    """
    creating = _creating(session, accepts)
    now = utcnow()
    table = Job.__table__
    assert isinstance(table, Table)
    fixed = {
        "state": JobState.queued,
        "attempts": 0,
        "max_attempts": MAX_ATTEMPTS,
        "run_at": now,
        "created_at": now,
        "updated_at": now,
    }
    return [
        [(table, {**job, **fixed}) for job in _planned(request, creating)] for request in accepts
    ]


def _log(
    session: Session,
    kind: InboundKind,
    payload: dict[str, Any],
    status: LogStatus,
    problem: str | None,
    external_id: str | None,
    item: Any = None,
) -> None:
    session.add(ApiLog(**_log_row(session, kind, payload, status, problem, external_id, item)))


def _log_row(
    session: Session,
    kind: InboundKind,
    payload: dict[str, Any],
    status: LogStatus,
    problem: str | None,
    external_id: str | None,
    item: Any = None,
) -> dict[str, Any]:
    """The API-log row of one async item: what became of it."""
    owner_id = int(payload["ownerId"])
    if item is None:
        item = payload.get("item")
    limit = settings_of(session).api_log_body_bytes
    return {
        "direction": Direction.inbound_async,
        "method": "POST",
        "endpoint": str(payload.get("endpoint", ""))[:512],
        "status": status,
        "http_status": None,
        "problem": redact_text(problem) if problem else None,
        "payload": loggable(item, limit) if status is not LogStatus.success else None,
        "channel_id": owner_id if kind.owner is Owner.custom_channel else None,
        "inventory_feed_id": owner_id if kind.owner is Owner.inventory_feed else None,
        "external_id": external_id,
        "kind": kind.name,
        "api_user_id": None,
        "api_user_name": None,
        "duration_ms": None,
        "request_id": None,
    }


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors()[:5]:
            field = ".".join(str(p) for p in error.get("loc", ()))
            message = (
                "unknown field" if error.get("type") == "extra_forbidden" else error.get("msg")
            )
            parts.append(f"{field}: {message}")
        return "Invalid item: " + "; ".join(parts)
    if isinstance(exc, DomainError):
        details = "; ".join(f"{p.field}: {p.message}" for p in exc.errors)
        return exc.message + (f" ({details})" if details and details not in exc.message else "")
    return str(exc)


def job_kind(kind: InboundKind) -> JobKind:
    """The job that applies `kind`'s accepted items (`kind.apply`, or `apply_batch`)."""

    def on_dead(session: Session, payload: dict[str, Any], error: str) -> None:
        for item in payload["items"] if "items" in payload else [payload.get("item")]:
            external = external_id_of(item) if isinstance(item, dict) else None
            problem = f"gave up after retries: {error}"
            _log(session, kind, payload, LogStatus.error, problem, external, item)

    def run_all(session: Session, payloads: list[dict[str, Any]]) -> None:
        """Several requests' jobs: one `apply_batch` per owner, their items in queue order."""
        by_owner: dict[int, list[dict[str, Any]]] = {}
        for payload in payloads:
            if "items" in payload:
                by_owner.setdefault(int(payload["ownerId"]), []).append(payload)
            else:  # a job queued one item at a time (before requests became one job)
                run(session, payload)
        for owner_id, requests in by_owner.items():
            _run_batch(session, kind, owner_id, requests)

    def run(session: Session, payload: dict[str, Any]) -> None:
        if "items" in payload:
            _run_batch(session, kind, int(payload["ownerId"]), [payload])
            return
        item = payload.get("item")
        if not isinstance(item, dict):
            _log(session, kind, payload, LogStatus.error, "each item must be a JSON object", None)
            return
        external = external_id_of(item)
        try:
            with (
                input_report(strict=settings_of(session).strict_input) as report,
                session.begin_nested(),
            ):
                applied = kind.apply(session, int(payload["ownerId"]), item)
        except (DomainError, ValidationError) as exc:
            _log(session, kind, payload, LogStatus.error, _problem(exc), external)
            return
        status = LogStatus.skipped if applied.skipped else LogStatus.success
        notes = ["unchanged: nothing to apply"] if applied.skipped else []
        if report.ignored:
            notes.append(f"ignored fields: {', '.join(report.ignored)}")
        problem = "; ".join(notes) or None
        _log(session, kind, payload, status, problem, applied.external_id or external)

    return JobKind(kind.name, run, on_dead, run_all if kind.apply_batch else None)


def _run_batch(
    session: Session, kind: InboundKind, owner_id: int, requests: list[dict[str, Any]]
) -> None:
    """Apply the items of one owner's requests, in order, as one batch; each item logged alone."""
    assert kind.apply_batch is not None
    entries = [(payload, item) for payload in requests for item in payload["items"]]
    objects = [item for _, item in entries if isinstance(item, dict)]
    try:
        with session.begin_nested():
            outcomes: list[Applied | Exception] = kind.apply_batch(session, owner_id, objects)
    except DomainError as exc:  # the owner itself is unusable (e.g. the feed was deleted)
        outcomes = [exc] * len(objects)
    by_position = iter(outcomes)
    rows: list[dict[str, Any]] = []
    for payload, item in entries:
        if not isinstance(item, dict):
            not_object = "each item must be a JSON object"
            rows.append(_log_row(session, kind, payload, LogStatus.error, not_object, None, item))
            continue
        outcome = next(by_position)
        external = external_id_of(item)
        if isinstance(outcome, Exception):
            failure = _problem(outcome)
            rows.append(_log_row(session, kind, payload, LogStatus.error, failure, external, item))
            continue
        status = LogStatus.skipped if outcome.skipped else LogStatus.success
        notes = ["unchanged: nothing to apply"] if outcome.skipped else []
        problem = "; ".join([*notes, *([outcome.note] if outcome.note else [])]) or None
        external = outcome.external_id or external
        rows.append(_log_row(session, kind, payload, status, problem, external, item))
    if rows:  # one statement (`insert_rows`), not a step per row
        now = utcnow()
        insert_rows(session.connection(), API_LOGS, [row | {"created_at": now} for row in rows])
