"""Accept async items durably, then apply each one as a job and log what became of it."""

import hmac
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert
from sqlalchemy.orm import Session

from dropwire.apilog.models import ApiLog, Direction, LogStatus
from dropwire.apilog.redaction import loggable, redact_text
from dropwire.channels.service import custom_channel_by_hash
from dropwire.core.errors import DomainError
from dropwire.core.schemas import input_report
from dropwire.core.settings import get_settings
from dropwire.feeds.service import feed_by_hash
from dropwire.inbound.registry import Applied, InboundKind, Owner, external_id_of
from dropwire.jobs import service as jobs
from dropwire.jobs.registry import handler

MAX_ITEMS = 50


def authenticate(session: Session, owner: Owner, presented: str) -> tuple[int, int | None] | None:
    """(owner id, channel id) for a valid hash of the right kind of owner, else None."""
    if not presented:
        return None
    if owner is Owner.custom_channel:
        custom = custom_channel_by_hash(session, presented)
        if custom is None or not hmac.compare_digest(
            custom.webhook_hash.encode(), presented.encode()
        ):
            return None
        return custom.channel_id, custom.channel_id
    feed = feed_by_hash(session, presented)
    if feed is None or not hmac.compare_digest(feed.hash.encode(), presented.encode()):
        return None
    return feed.id, None


def accept(
    session: Session, kind: InboundKind, owner_id: int, items: list[dict[str, Any]], endpoint: str
) -> int:
    """Queue the items in the caller's transaction (so a 200 means it is stored).

    A kind with a batch twin gets one job for the request; others one job per item.
    """
    if kind.apply_batch is not None and kind.owner_key is not None:
        creates = any(
            isinstance(item, dict)
            and kind.record_key(owner_id, item) is not None
            and kind.creates(session, owner_id, item)
            for item in items
        )
        jobs.enqueue(
            session,
            kind.name,
            {"ownerId": owner_id, "items": items, "endpoint": endpoint},
            priority=jobs.PRIORITY_CREATE if creates else jobs.PRIORITY_UPDATE,
            ordering_key=kind.owner_key(owner_id),
            max_attempts=5,
        )
        return len(items)
    for index, item in enumerate(items):
        record = kind.record_key(owner_id, item) if isinstance(item, dict) else None
        creates = (
            isinstance(item, dict) and record is not None and kind.creates(session, owner_id, item)
        )
        jobs.enqueue(
            session,
            kind.name,
            {"ownerId": owner_id, "item": item, "endpoint": endpoint, "index": index},
            priority=jobs.PRIORITY_CREATE if creates else jobs.PRIORITY_UPDATE,
            ordering_key=record,
            max_attempts=5,
        )
    return len(items)


def _log(
    session: Session,
    kind: InboundKind,
    payload: dict[str, Any],
    status: LogStatus,
    problem: str | None,
    external_id: str | None,
    item: Any = None,
) -> None:
    session.add(ApiLog(**_log_row(kind, payload, status, problem, external_id, item)))


def _log_row(
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
    limit = get_settings().api_log_body_bytes
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


def register_job_handler(kind: InboundKind) -> None:
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

    @handler(kind.name, on_dead=on_dead, batch=run_all if kind.apply_batch else None)
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
                input_report(strict=get_settings().strict_input) as report,
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
            rows.append(_log_row(kind, payload, LogStatus.error, not_object, None, item))
            continue
        outcome = next(by_position)
        external = external_id_of(item)
        if isinstance(outcome, Exception):
            failure = _problem(outcome)
            rows.append(_log_row(kind, payload, LogStatus.error, failure, external, item))
            continue
        status = LogStatus.skipped if outcome.skipped else LogStatus.success
        problem = "unchanged: nothing to apply" if outcome.skipped else None
        external = outcome.external_id or external
        rows.append(_log_row(kind, payload, status, problem, external, item))
    if rows:  # one executemany: the ORM would build a statement per size of batch
        session.execute(insert(ApiLog), rows)
