"""Sends due deliveries after commit: one place makes outbound requests.

A claim marks deliveries `delivering` (with a lease) and commits; the HTTP call happens outside
any transaction; the outcome is recorded in a new one. A delivery never overtakes an earlier
unfinished one with the same coalesce key (one channel variant's updates arrive in order).

A lease covers the longest a send may take: before each send (or batch) that could outlast what
is left of it, the lease is renewed for that send's worst case, only where this sender still
holds it (the delivery is `delivering` with the attempt count its claim gave it). A sender that
lost a delivery to another after its lease ran out sends nothing of it, so no message goes twice.
"""

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, lazyload

from dropwire.core.db import Database
from dropwire.core.outbound import (
    AddressPolicy,
    Resolver,
    TargetRefused,
    guarded_client,
    system_resolver,
    without_credentials,
)
from dropwire.core.queueing import first_in_line, skipping_locked
from dropwire.core.schemas import check_url
from dropwire.core.time import utcnow
from dropwire.delivery import transports
from dropwire.delivery.kinds import DEFAULT_TIMEOUT, EventKinds
from dropwire.delivery.models import (
    UNFINISHED,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    WebhookEndpoint,
)
from dropwire.delivery.signing import signature

log = logging.getLogger("dropwire.delivery")

# Wait before attempt n+1 after attempt n failed (the first attempt is immediate).
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
EXCERPT = 500
# A claim's lease: twice a webhook POST's worst case (connect, write, read), so a round's
# first sends need no renewal.
LEASE_SECONDS = DEFAULT_TIMEOUT * 6


@dataclass(frozen=True)
class Lease:
    attempts: int  # the count the claim set: the delivery is still this sender's while it holds
    until: datetime


@dataclass
class Claimed:
    """A round's claimed deliveries, in sending order, and the lease this sender holds on each."""

    ids: list[int]
    leases: dict[int, Lease]


def event_kinds(database: Database) -> EventKinds:
    return database.wiring.part(EventKinds)


def claim(database: Database, limit: int = 20) -> Claimed:
    now = utcnow()
    with database.transaction() as session:
        expired = (Delivery.state == DeliveryState.delivering, Delivery.lease_expires_at < now)
        session.execute(  # a sender died mid-attempt; that attempt counts against the cap
            update(Delivery)
            .where(*expired, Delivery.attempts >= MAX_ATTEMPTS)
            .values(
                state=DeliveryState.dead,
                lease_expires_at=None,
                last_error="gave up: the last attempt never reported back",
            )
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Delivery)
            .where(*expired)
            .values(state=DeliveryState.pending, lease_expires_at=None)
            .execution_options(synchronize_session=False)
        )
        stmt = (
            select(Delivery.id)
            .where(Delivery.state == DeliveryState.pending, Delivery.next_attempt_at <= now)
            .where(
                first_in_line(
                    Delivery, "coalesce_key", UNFINISHED, in_progress=DeliveryState.delivering
                )
            )
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
        )
        ids = list(session.scalars(skipping_locked(session, stmt=stmt)))
        until = now + timedelta(seconds=LEASE_SECONDS)
        attempts: dict[int, int] = {}
        if ids:
            renewed = session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(
                    state=DeliveryState.delivering,
                    attempts=Delivery.attempts + 1,
                    lease_expires_at=until,
                )
                .returning(Delivery.id, Delivery.attempts)
                .execution_options(synchronize_session=False)
            )
            attempts = dict(renewed.all())
        return Claimed(ids, {id_: Lease(attempts[id_], until) for id_ in ids})


def hold(database: Database, claimed: "Claimed", ids: list[int], seconds: float) -> list[int]:
    """Those of `ids` this sender still holds, their leases now good for `seconds` more; a
    delivery another sender took over once its lease ran out is no longer among them."""
    until = utcnow() + timedelta(seconds=seconds)
    if all(claimed.leases[id_].until >= until for id_ in ids):
        return ids  # the leases taken outlast this send: no statement
    by_attempt: dict[int, list[int]] = {}
    for id_ in ids:
        by_attempt.setdefault(claimed.leases[id_].attempts, []).append(id_)
    kept: set[int] = set()
    with database.transaction() as session:
        for attempts, some in by_attempt.items():
            kept.update(
                session.scalars(
                    update(Delivery)
                    .where(
                        Delivery.id.in_(some),
                        Delivery.state == DeliveryState.delivering,
                        Delivery.attempts == attempts,
                    )
                    .values(lease_expires_at=until)
                    .returning(Delivery.id)
                    .execution_options(synchronize_session=False)
                )
            )
    for id_ in kept:
        claimed.leases[id_] = Lease(claimed.leases[id_].attempts, until)
    lost = [id_ for id_ in ids if id_ not in kept]
    if lost:
        log.warning("deliveries %s were taken over after their lease ran out: not sent", lost)
    return [id_ for id_ in ids if id_ in kept]


def _retry_after(response: httpx.Response) -> timedelta | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        return max(timedelta(0), parsedate_to_datetime(value) - utcnow())
    except (TypeError, ValueError):
        return None


def _next_attempt(attempts: int, at_least: timedelta | None) -> datetime:
    wait = RETRY_SCHEDULE[min(attempts - 1, len(RETRY_SCHEDULE) - 1)]
    wait = wait * random.uniform(0.9, 1.1)  # jitter: don't let failed deliveries retry in lockstep
    if at_least is not None:
        wait = max(wait, at_least)
    return utcnow() + wait


@dataclass
class Outcome:
    status: int | None = None
    error: str | None = None
    excerpt: str | None = None
    latency_ms: float = 0.0
    retry_after: timedelta | None = None
    reply: object = None
    disabled: bool = False  # the endpoint is switched off
    unsendable: bool = False  # can't ever be sent (bad URL, forbidden address, refused for good)
    deferred: bool = False  # not tried: back in line, the attempt not counted
    on_delivered: Callable[[Session], None] | None = None  # a transport's follow-up on success


# Errors that no retry can cure: the URL is malformed, uses another protocol, or carries
# something no HTTP request may (a header value with a line break).
_UNSENDABLE = (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError)


def _by_transport(
    database: Database,
    transport: transports.Transport,
    message: transports.Message,
    client: httpx.Client,
    outcome: Outcome,
) -> None:
    """A registered transport sends through the relay's guarded client."""
    try:
        sent = transport(database, message, client)
    except TargetRefused as exc:
        outcome.error, outcome.unsendable = str(exc)[:EXCERPT], True
        return
    except _UNSENDABLE as exc:
        outcome.error = f"cannot be sent: {type(exc).__name__}: {exc}"[:EXCERPT]
        outcome.unsendable = True
        return
    except Exception as exc:  # a transport's bug must not leave the delivery leased forever
        log.error("transport for delivery %s failed: %s", message.id, type(exc).__name__)
        outcome.error = f"{type(exc).__name__}: {exc}"[:EXCERPT]
        return
    _take(outcome, sent)


def _take(outcome: Outcome, sent: transports.Sent) -> None:
    outcome.status, outcome.excerpt, outcome.error = sent.status, sent.excerpt, sent.error
    outcome.retry_after, outcome.on_delivered = sent.retry_after, sent.on_delivered
    outcome.unsendable, outcome.deferred = sent.permanent, sent.deferred


def _message_of(delivery: Delivery) -> transports.Message:
    return transports.Message(
        id=delivery.id,
        version=delivery.version,
        event=delivery.event,
        url=delivery.url,
        body=delivery.body,
        channel_id=delivery.channel_id,
        subject_type=delivery.subject_type,
        subject_id=delivery.subject_id,
        attempts=delivery.attempts,
    )


def longest(database: Database, transport: str | None, event: str) -> float:
    """Seconds one send of this delivery (or a batch of its transport) may take at worst."""
    declared = database.wiring.part(transports.Transports).lease(transport)
    if declared is not None:
        return declared(database.settings)
    return event_kinds(database).of(event).timeout * 3


def send(
    database: Database, delivery_id: int, client: httpx.Client, claimed: Claimed | None = None
) -> DeliveryState:
    """Send one claimed delivery and record the attempt; with `claimed`, only while this sender
    still holds it (its lease renewed first when this send could outlast it)."""
    with database.session(write=False) as session:
        delivery = session.get(Delivery, delivery_id, options=[lazyload(Delivery.attempt_log)])
        assert delivery is not None
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
        assert endpoint is not None
        transport = database.wiring.part(transports.Transports).get(delivery.transport)
        message = _message_of(delivery)
        outcome = Outcome(disabled=endpoint.disabled_at is not None)
        secret, hash_header = endpoint.secret, delivery.hash_header
        seconds = longest(database, delivery.transport, delivery.event)
    if claimed is not None and not hold(database, claimed, [delivery_id], seconds):
        return DeliveryState.delivering  # another sender has it now
    started = time.perf_counter()
    if outcome.disabled:
        outcome.error = "endpoint disabled after a 410 answer; re-enable it to resume"
    elif transport is not None:
        _by_transport(database, transport, message, client, outcome)
    else:
        body = json.dumps(message.body, separators=(",", ":")).encode()
        message_id = f"msg_{message.id}_{message.version}"
        url, kind = message.url, event_kinds(database).of(message.event)
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(secret, message_id, timestamp, body),
        }
        if hash_header:
            headers["onport-hash"] = hash_header
            headers["jetti-hash"] = hash_header
        try:
            check_url(url, ("http", "https"))  # stored before validation, or edited by hand
            target, auth = without_credentials(url)
            response = client.post(
                target,
                content=body,
                headers=headers,
                timeout=kind.timeout,
                auth=auth or httpx.USE_CLIENT_DEFAULT,
            )
            outcome.status = response.status_code
            outcome.excerpt = response.text[:EXCERPT]
            if response.status_code == 429:
                outcome.retry_after = _retry_after(response)
            if response.is_success and kind.on_delivered is not None:
                try:
                    outcome.reply = response.json()
                except ValueError:
                    outcome.reply = None
        except TargetRefused as exc:
            outcome.error, outcome.unsendable = str(exc)[:EXCERPT], True
        except ValueError as exc:
            outcome.error, outcome.unsendable = f"cannot be sent: the URL {exc}", True
        except _UNSENDABLE as exc:
            outcome.error = f"cannot be sent: {type(exc).__name__}: {exc}"[:EXCERPT]
            outcome.unsendable = True
        except httpx.TimeoutException:
            outcome.error = f"timed out after {kind.timeout:.0f} s"
        except httpx.HTTPError as exc:
            outcome.error = f"{type(exc).__name__}: {exc}"[:EXCERPT]
        if outcome.unsendable:
            log.warning("delivery %s given up at once: %s", delivery_id, outcome.error)
    outcome.latency_ms = round((time.perf_counter() - started) * 1000, 2)
    return _record(database, delivery_id, outcome)


def _record(database: Database, delivery_id: int, outcome: Outcome) -> DeliveryState:
    with database.transaction() as session:
        return _apply(database, session, delivery_id, outcome)


def _apply(
    database: Database, session: Session, delivery_id: int, outcome: Outcome
) -> DeliveryState:
    """Record one attempt's outcome and settle (or reschedule) its delivery."""
    status = outcome.status
    delivery = session.get(Delivery, delivery_id, options=[lazyload(Delivery.attempt_log)])
    assert delivery is not None
    if outcome.deferred:
        delivery.state = DeliveryState.pending
        delivery.attempts = max(0, delivery.attempts - 1)
        delivery.next_attempt_at = utcnow()
        delivery.lease_expires_at = None
        return DeliveryState.pending
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            http_status=status,
            latency_ms=outcome.latency_ms,
            response_excerpt=outcome.excerpt,
            error=outcome.error,
        )
    )
    delivery.last_status = status
    delivery.last_error = outcome.error
    delivery.lease_expires_at = None
    if status is not None and 200 <= status < 300:
        delivery.state = DeliveryState.delivered
        delivery.delivered_at = utcnow()
        if outcome.on_delivered is not None:
            outcome.on_delivered(session)
        delivered = event_kinds(database).of(delivery.event).on_delivered
        if delivered is not None and outcome.reply is not None:
            delivered(session, delivery.subject_id, outcome.reply)
    elif outcome.disabled or status == 410:
        delivery.state = DeliveryState.disabled
        if status == 410:
            endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
            assert endpoint is not None
            endpoint.disabled_at = utcnow()
            endpoint.disabled_reason = "the receiver answered 410 Gone"
    elif outcome.unsendable:
        delivery.state = DeliveryState.dead  # no attempt will ever get it accepted
    elif status is not None and 400 <= status < 500 and status != 429:
        delivery.state = DeliveryState.failed  # waiting won't change the answer
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.state = DeliveryState.dead
    else:
        delivery.state = DeliveryState.pending
        delivery.next_attempt_at = _next_attempt(delivery.attempts, outcome.retry_after)
    finished = event_kinds(database).of(delivery.event).on_finished
    if finished is not None and delivery.state != DeliveryState.pending:
        finished(session, delivery.subject_type, delivery.subject_id, delivery.state)
    return DeliveryState(delivery.state)


def _batches(
    database: Database, ids: list[int]
) -> list[tuple[transports.BatchTransport, float, list[transports.Message]]]:
    """The claimed deliveries whose transport sends in batches, by transport (one read), with
    the longest a batch of it may take."""
    wired = database.wiring.part(transports.Transports)
    by_name: dict[str, tuple[transports.BatchTransport, float, list[transports.Message]]] = {}
    with database.session(write=False) as session:
        rows = session.execute(
            select(Delivery, WebhookEndpoint.disabled_at)
            .join(WebhookEndpoint, WebhookEndpoint.id == Delivery.endpoint_id)
            .where(Delivery.id.in_(ids), Delivery.transport != transports.WEBHOOK)
            .options(lazyload(Delivery.attempt_log))
            .order_by(Delivery.next_attempt_at, Delivery.id)
        ).all()
        for delivery, disabled_at in rows:
            send_many = wired.batch(delivery.transport)
            if send_many is None or disabled_at is not None:
                continue  # sent (or refused) one by one
            seconds = longest(database, delivery.transport, delivery.event)
            batch = by_name.setdefault(delivery.transport, (send_many, seconds, []))
            batch[2].append(_message_of(delivery))
    return list(by_name.values())


def send_batch(
    database: Database,
    send_many: transports.BatchTransport,
    messages: list[transports.Message],
    client: httpx.Client,
) -> list[DeliveryState]:
    """Hand claimed messages of one transport to its batch sender, then record every outcome
    in one transaction."""
    started = time.perf_counter()
    try:
        results = send_many(database, messages, client)
        if len(results) != len(messages):
            raise ValueError(f"{len(results)} answers for {len(messages)} messages")
    except Exception as exc:  # a transport's bug must not leave the deliveries leased
        log.error("batch of %s deliveries failed: %s", len(messages), type(exc).__name__)
        results = [transports.Sent(error=f"{type(exc).__name__}: {exc}"[:EXCERPT])] * len(messages)
    share = round((time.perf_counter() - started) * 1000 / len(messages), 2)
    outcomes = []
    for message, sent in zip(messages, results, strict=True):
        outcome = Outcome(latency_ms=share if sent.latency_ms is None else sent.latency_ms)
        _take(outcome, sent)
        if outcome.unsendable:
            log.warning("delivery %s given up at once: %s", message.id, outcome.error)
        outcomes.append((message.id, outcome))
    try:
        with database.transaction() as session:
            ids = [delivery_id for delivery_id, _ in outcomes]
            session.scalars(  # one read: `_apply` finds each in the session
                select(Delivery).where(Delivery.id.in_(ids)).options(lazyload(Delivery.attempt_log))
            ).all()
            return [_apply(database, session, id_, outcome) for id_, outcome in outcomes]
    except Exception as exc:  # one outcome's hook failed: record them one by one
        log.error("recording %s outcomes together failed: %s", len(outcomes), type(exc).__name__)
    states = []
    for delivery_id, outcome in outcomes:
        try:
            states.append(_record(database, delivery_id, outcome))
        except Exception as exc:  # the lease returns it; the attempt cap still holds
            log.error("delivery %s could not be recorded: %s", delivery_id, type(exc).__name__)
    return states


class Relay:
    """Sends due deliveries; used by the worker loop and by tests (`send_due`)."""

    def __init__(
        self,
        database: Database,
        allow_private: bool = False,
        *,
        policy: AddressPolicy | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.database = database
        self.policy = policy or AddressPolicy(allow_private=allow_private)
        self.client = guarded_client(self.policy, resolver or system_resolver)

    def send_due(self, limit: int = 20) -> int:
        claimed = claim(self.database, limit)
        ids = claimed.ids
        if not ids:
            return 0
        batches = _batches(self.database, ids)
        batched = {message.id for _, _, messages in batches for message in messages}
        for delivery_id in ids:
            if delivery_id in batched:
                continue
            try:
                send(self.database, delivery_id, self.client, claimed)
            except Exception as exc:  # the lease returns it; the attempt cap still holds
                log.error("delivery %s could not be sent: %s", delivery_id, type(exc).__name__)
        for send_many, seconds, messages in batches:
            try:
                held = set(hold(self.database, claimed, [m.id for m in messages], seconds))
                if held:
                    kept = [message for message in messages if message.id in held]
                    send_batch(self.database, send_many, kept, self.client)
            except Exception as exc:  # the leases return them; the attempt cap still holds
                log.error("%s deliveries could not be sent: %s", len(messages), type(exc).__name__)
        return len(ids)

    def close(self) -> None:
        self.client.close()


_RELAYS: dict[int, Relay] = {}


def send_due_deliveries(database: Database) -> int:
    """The worker's round: one relay (and HTTP connection pool) per database per process."""
    relay = _RELAYS.get(id(database))
    if relay is None:
        policy = AddressPolicy.from_settings(database.settings)
        relay = _RELAYS[id(database)] = Relay(database, policy=policy)
    return relay.send_due()
