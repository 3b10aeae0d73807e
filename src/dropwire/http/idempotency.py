"""`Idempotency-Key` on POST and PUT: the same key and body within 24 h replays the first answer.

A key is claimed by inserting its row before the request runs (the unique constraint settles
races). A successful write stores its answer in its own transaction (`remember_in`, called by the
unit of work), so the record and the write commit together; other answers are settled here, and
in every case before the answer leaves, so a retry sent right after it replays. A different body
under a used key, or a key whose first request is still running, gets 409. Server errors, commit
failures and throttled requests are not remembered, so the client may retry them with the same
key. A claim left by a process killed mid-request is taken over after `ABANDONED_AFTER`.
"""

import hashlib
from datetime import datetime, timedelta
from typing import Any

from anyio import to_thread
from sqlalchemy import LargeBinary, String, Text, UniqueConstraint, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dropwire.auth.service import authenticate
from dropwire.core.db import Base, Database, IdMixin
from dropwire.core.time import utcnow
from dropwire.http.credentials import presented_token
from dropwire.http.errors import error_response
from dropwire.http.input_policy import HEADER
from dropwire.http.request_body import BODY_KEY, request_header

KEY_LIFETIME = timedelta(hours=24)
ABANDONED_AFTER = timedelta(seconds=60)
CLAIM_KEY = "dropwire.idempotency_claim"
_UNAUTHENTICATED = object()
_NOT_REMEMBERED = {401, 409, 429}
_KEYED_METHODS = frozenset({"POST", "PUT"})
IGNORED_HEADER = HEADER.lower().encode()


class IdempotencyKey(IdMixin, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("owner_digest", "key"),)

    owner_digest: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    request_digest: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(String(128))
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    ignored_fields: Mapped[str | None] = mapped_column(Text)  # Dropwire-Ignored-Fields, replayed
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    return next((v.decode("latin-1") for k, v in headers if k.lower() == name), None)


def remember_in(
    session: Session, *, claim: tuple[str, str], response: Any, ignored_fields: str | None
) -> None:
    """Store a successful answer under its claimed key, in the write's own transaction.

    `ignored_fields` is the `Dropwire-Ignored-Fields` header the input policy adds to the answer
    after the route, so a replay names the same ignored fields as the first answer.
    """
    owner, key = claim
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.owner_digest == owner, IdempotencyKey.key == key)
        .values(
            status_code=response.status_code,
            content_type=response.headers.get("content-type"),
            response_body=bytes(getattr(response, "body", b"")),
            ignored_fields=ignored_fields,
        )
    )


def _sha256(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, database: Database, bootstrap_token: str | None) -> None:
        self.app = app
        self.database = database
        self.bootstrap_token = bootstrap_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _KEYED_METHODS:
            await self.app(scope, receive, send)
            return
        raw_key = request_header(scope, b"idempotency-key")
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1").strip()
        if not key or len(key) > 255:
            response = error_response(400, "Idempotency-Key must be 1 to 255 characters")
            await response(scope, receive, send)
            return
        token = presented_token(scope)
        if token is None:
            await self.app(scope, receive, send)  # the route answers 401 as usual
            return
        owner = _sha256(token.encode())  # the same caller whether header or ?access_token=
        fingerprint = _sha256(
            scope["method"].encode(), scope["path"].encode(), scope.get(BODY_KEY, b"")
        )
        outcome = await to_thread.run_sync(self._claim, owner, key, fingerprint, token)
        if outcome is _UNAUTHENTICATED:
            await self.app(scope, receive, send)  # the route answers 401 as usual
            return
        if isinstance(outcome, IdempotencyKey):
            await self._replay(outcome, scope, receive, send)
            return
        if isinstance(outcome, str):
            await error_response(409, outcome, headers={"Idempotency-Key": key})(
                scope, receive, send
            )
            return

        scope[CLAIM_KEY] = (owner, key)
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        try:
            await self.app(scope, receive, hold)
        finally:
            start = next((m for m in held if m["type"] == "http.response.start"), None)
            status = start["status"] if start else 500
            headers = start.get("headers", []) if start else []
            content_type = _header(headers, b"content-type")
            ignored = _header(headers, IGNORED_HEADER)
            body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
            await to_thread.run_sync(self._settle, owner, key, status, content_type, ignored, body)
        for message in held:
            await send(message)

    def _claim(
        self, owner: str, key: str, fingerprint: str, token: str
    ) -> IdempotencyKey | str | object | None:
        """None: we own the key now. A row: replay it. A string: refuse with that message."""
        with self.database.transaction() as session:
            if authenticate(session, token=token, bootstrap_token=self.bootstrap_token) is None:
                return _UNAUTHENTICATED  # a revoked token replays nothing
            row = session.scalar(
                select(IdempotencyKey).where(
                    IdempotencyKey.owner_digest == owner, IdempotencyKey.key == key
                )
            )
            now = utcnow()
            if row is not None and (
                row.created_at < now - KEY_LIFETIME
                or (row.status_code is None and row.created_at < now - ABANDONED_AFTER)
            ):
                session.delete(row)
                session.flush()
                row = None
            if row is None:
                try:
                    with session.begin_nested():
                        session.add(
                            IdempotencyKey(owner_digest=owner, key=key, request_digest=fingerprint)
                        )
                    return None
                except IntegrityError:
                    return "A request with this Idempotency-Key is in progress"
            if row.request_digest != fingerprint:
                return "This Idempotency-Key was used with a different request"
            if row.status_code is None:
                return "A request with this Idempotency-Key is in progress"
            session.expunge(row)
            return row

    def _settle(
        self,
        owner: str,
        key: str,
        status: int,
        content_type: str | None,
        ignored_fields: str | None,
        body: bytes,
    ) -> None:
        """Remember an answer the unit of work did not (errors, non-API routes), or forget it."""
        with self.database.transaction() as session:
            match = (IdempotencyKey.owner_digest == owner, IdempotencyKey.key == key)
            if status >= 500 or status in _NOT_REMEMBERED:
                session.execute(delete(IdempotencyKey).where(*match))
                return
            row = session.scalar(select(IdempotencyKey).where(*match))
            if row is not None and row.status_code is None:
                row.status_code = status
                row.content_type = content_type
                row.ignored_fields = ignored_fields
                row.response_body = body

    async def _replay(
        self, row: IdempotencyKey, scope: Scope, receive: Receive, send: Send
    ) -> None:
        headers = [(b"idempotent-replayed", b"true")]
        if row.content_type:
            headers.append((b"content-type", row.content_type.encode()))
        if row.ignored_fields:
            headers.append((IGNORED_HEADER, row.ignored_fields.encode("latin-1")))
        body = row.response_body or b""
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": row.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def prune_idempotency_keys(database: Database) -> int:
    with database.transaction() as session:
        result = session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - KEY_LIFETIME)
        )
        return int(getattr(result, "rowcount", 0) or 0)
