"""Per-token throttling (the `limits` library): reads and writes on /api, 10x that on /webhooks.

Counters live in memory by default, or in Redis (`DROPWIRE_RATE_LIMIT_STORAGE=redis://...`) so
that several API processes share them; while Redis fails, each process counts in its own memory
(`core.rate_counters`: never a 500, never a long wait). The identity is a digest of the
presented secret (an API token from the header or `?access_token=`, one identity either way), so
nothing secret is kept in the counter store.
"""

import hashlib
import math
import time

import limits
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dropwire.core.rate_counters import Counters
from dropwire.core.settings import Settings
from dropwire.http.credentials import presented_token
from dropwire.http.errors import error_response

_READ = frozenset({"GET", "HEAD", "OPTIONS"})


def _scaled(item: limits.RateLimitItem, factor: int) -> limits.RateLimitItem:
    return type(item)(item.amount * factor, item.multiples, item.namespace)


class ThrottleMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.counters = Counters(settings.rate_limit_storage)
        read = limits.parse(settings.rate_limit_read)
        write = limits.parse(settings.rate_limit_write)
        factor = settings.rate_limit_inbound_factor
        self.limits = {
            ("api", True): read,
            ("api", False): write,
            ("webhooks", True): _scaled(read, factor),
            ("webhooks", False): _scaled(write, factor),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        area = (
            "api"
            if path.startswith("/api/")
            else "webhooks"
            if path.startswith("/webhooks/")
            else None
        )
        headers = dict(scope["headers"])
        secret = (
            (presented_token(scope) or "").encode()
            if area == "api"
            else headers.get(b"jetti-webhook-hash") or headers.get(b"onport-hash")
        )
        if area is None or not secret:
            await self.app(scope, receive, send)  # unauthenticated requests are refused anyway
            return
        identity = hashlib.sha256(secret).hexdigest()[:32]
        item = self.limits[(area, scope["method"] in _READ)]
        window = await self.counters.hit(item, area, identity)
        reset = max(0, math.ceil(window.reset_at - time.time()))
        extra = [
            (b"x-ratelimit-limit", str(item.amount).encode()),
            (b"x-ratelimit-remaining", str(max(0, item.amount - window.hits)).encode()),
            (b"x-ratelimit-reset", str(reset).encode()),
        ]
        if window.hits > item.amount:
            response = error_response(
                429,
                f"Too many requests: the limit is {item.amount} per {item.GRANULARITY.name}",
                headers={"Retry-After": str(max(1, reset))},
            )
            response.raw_headers.extend(extra)
            await response(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)
