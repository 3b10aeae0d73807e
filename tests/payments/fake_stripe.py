"""A strict local stand-in for Stripe's transfer endpoint, on a real socket.

It accepts exactly what the vendored part of Stripe's OpenAPI description defines for
`POST /v1/transfers` (form-encoded, deepObject `metadata[...]` and `expand[...]`), refuses any
other parameter as Stripe does, checks the secret key, and honours Idempotency-Key: the same key
with the same parameters answers with the first transfer; with other parameters it is an error.
It counts the transfers it made per key and keeps per-currency balances of the platform."""

import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

SPEC = json.loads((Path(__file__).with_name("stripe_transfers.openapi.json")).read_text())
TRANSFER_SCHEMA = SPEC["paths"]["/v1/transfers"]["post"]["requestBody"]["content"][
    "application/x-www-form-urlencoded"
]["schema"]
DEEP = re.compile(r"^([a-z_]+)\[([^\]]*)\]$")


class Refusal(Exception):
    def __init__(
        self,
        status: int,
        kind: str,
        message: str,
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message
        self.param, self.code = param, code

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.kind, "message": self.message}
        if self.param:
            error["param"] = self.param
        if self.code:
            error["code"] = self.code
        return {"error": error}


def parse_transfer(form: list[tuple[str, str]]) -> dict[str, Any]:
    """The form as the schema's object, refusing what the schema does not define."""
    properties = TRANSFER_SCHEMA["properties"]
    params: dict[str, Any] = {}
    for key, value in form:
        deep = DEEP.match(key)
        name = deep.group(1) if deep else key
        spec = properties.get(name)
        if spec is None:
            raise Refusal(400, "invalid_request_error", f"Received unknown parameter: {name}", name)
        if spec["type"] == "object":
            if not deep:
                raise Refusal(400, "invalid_request_error", f"Invalid object: {name}", name)
            params.setdefault(name, {})[deep.group(2)] = value
        elif spec["type"] == "array":
            params.setdefault(name, []).append(value)
        elif deep:
            raise Refusal(400, "invalid_request_error", f"Invalid {spec['type']}: {name}", name)
        elif spec["type"] == "integer":
            if not re.fullmatch(r"-?[0-9]+", value):
                raise Refusal(400, "invalid_request_error", f"Invalid integer: {value}", name)
            params[name] = int(value)
        else:
            if "enum" in spec and value not in spec["enum"]:
                raise Refusal(400, "invalid_request_error", f"Invalid {name}: {value}", name)
            if len(value) > spec.get("maxLength", 5000):
                raise Refusal(400, "invalid_request_error", f"{name} is too long", name)
            params[name] = value
    for name in TRANSFER_SCHEMA["required"]:
        if name not in params:
            raise Refusal(400, "invalid_request_error", f"Missing required param: {name}.", name)
    return params


@dataclass
class FakeStripe:
    api_key: str = "sk_test_dropwire"
    accounts: set[str] = field(default_factory=set)
    balance: dict[str, int] = field(default_factory=dict)  # per currency, minor units
    made: Counter[str] = field(default_factory=Counter)  # transfers made per idempotency key
    requests: int = 0
    reply_delay: float = 0.0  # seconds between making a transfer and answering
    made_one: threading.Event = field(default_factory=threading.Event)
    _replies: dict[str, tuple[dict[str, Any], int, dict[str, Any]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next: int = 0

    def transfer(self, headers: Any, body: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        self.requests += 1
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            raise Refusal(401, "invalid_request_error", "Invalid API Key provided")
        params = parse_transfer(parse_qsl(body, keep_blank_values=True))
        key = headers.get("Idempotency-Key")
        with self._lock:
            if key is not None and key in self._replies:
                first, status, reply = self._replies[key]
                if first != params:
                    raise Refusal(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters",
                    )
                return status, reply, {"Idempotent-Replayed": "true"}
            status, reply = self._make(params)
            if key is not None:
                self._replies[key] = (params, status, reply)
                if status == 200:
                    self.made[key] += 1
        if status == 200:
            self.made_one.set()
            time.sleep(self.reply_delay)
        return status, reply, {}

    def _make(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        destination = params["destination"]
        if destination not in self.accounts:
            refusal = Refusal(
                400,
                "invalid_request_error",
                f"No such destination: '{destination}'",
                "destination",
                "resource_missing",
            )
            return refusal.status, refusal.body()
        amount = params.get("amount", 0)
        currency = params["currency"]
        if amount <= 0:
            refusal = Refusal(400, "invalid_request_error", "Invalid positive integer", "amount")
            return refusal.status, refusal.body()
        if self.balance.get(currency, 0) < amount:
            refusal = Refusal(
                400,
                "invalid_request_error",
                "You have insufficient funds in your Stripe account.",
                code="balance_insufficient",
            )
            return refusal.status, refusal.body()
        self.balance[currency] -= amount
        self._next += 1
        return 200, {
            "id": f"tr_{self._next:08d}",
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "created": int(time.time()),
            "currency": currency,
            "description": params.get("description"),
            "destination": destination,
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "reversed": False,
            "source_type": params.get("source_type", "card"),
            "transfer_group": params.get("transfer_group"),
        }


class _Handler(BaseHTTPRequestHandler):
    stripe: FakeStripe

    def log_message(self, *_args: Any) -> None:
        return

    def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Request-Id", f"req_{time.monotonic_ns()}")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        if self.path != "/v1/transfers":
            missing = Refusal(404, "invalid_request_error", "Unrecognized request URL")
            self._answer(404, missing.body(), {})
            return
        try:
            status, reply, headers = self.stripe.transfer(self.headers, body)
        except Refusal as refusal:
            self._answer(refusal.status, refusal.body(), {})
            return
        self._answer(status, reply, headers)


class FakeStripeServer:
    def __init__(self, stripe: FakeStripe) -> None:
        handler = type("Handler", (_Handler,), {"stripe": stripe})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
