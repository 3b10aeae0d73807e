"""A real HTTP receiver on 127.0.0.1 whose behaviour the tests control."""

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dropwire.core.db import Database
from dropwire.delivery.relay import Relay


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


@dataclass
class Receiver:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in turn; then 200
    hang_seconds: float = 0.0
    reply: dict[str, Any] | None = None
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                if receiver.hang_seconds:
                    time.sleep(receiver.hang_seconds)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if 200 <= status < 300:
                    receiver.received.append(Received(self.path, dict(self.headers), raw))
                payload = json.dumps(receiver.reply or {"ok": True}).encode()
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "1")
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    rec.start()
    yield rec
    rec.stop()


@pytest.fixture
def relay(database: Database) -> Iterator[Relay]:
    sender = Relay(database, allow_private=True)
    yield sender
    sender.close()


def drain(relay: Relay, database: Database, rounds: int = 50) -> int:
    """Send everything due now, making every scheduled retry due at once (no waiting in tests)."""
    from sqlalchemy import update

    from dropwire.core.time import utcnow
    from dropwire.delivery.models import Delivery, DeliveryState

    sent = 0
    for _ in range(rounds):
        with database.transaction() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.state == DeliveryState.pending)
                .values(next_attempt_at=utcnow())
            )
        done = relay.send_due(limit=200)
        sent += done
        if not done:
            return sent
    return sent
