"""Rate-limit counters: in this process's memory, or in Redis shared by every API process.

Redis is optional at run time. While it cannot be reached (refused, timed out, any error), each
process counts in its own memory instead — the limits then hold per process, not across them —
and `dropwire_rate_limit_fallback` reads 1; every failure counts in
`dropwire_transient_failures_total{kind="connection", where="rate_limit"}`. Once a second the
next request tries Redis again, whose client reconnects by itself; once it answers, counting
goes back to it. A throttle never answers 500, nor waits long, because of its counter store: a
Redis call gives up after `REDIS_TIMEOUT` seconds.

The API's per-request counting (`Counters.hit`) is asynchronous and costs one Redis round trip
(a script increments, sets the expiry and reads it at once): calls that block the event loop
stalled every request of the process behind Redis's answers.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

import limits
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import RateLimiter
from prometheus_client import Gauge
from redis import asyncio as redis_asyncio

from dropwire.core.transient import TransientKind, report

log = logging.getLogger("dropwire.rate_limit")

REDIS_TIMEOUT = 0.25
"""Seconds a Redis call (connecting included) may take before the counters fall back."""

RETRY_SECONDS = 1.0
"""While Redis is down, how often a request tries it again."""

FALLBACK = Gauge(
    "dropwire_rate_limit_fallback",
    "1 while rate-limit counters are kept in process memory because their Redis fails",
    ["counters"],
)

Result = TypeVar("Result")


def is_redis(uri: str) -> bool:
    return uri.split("://", 1)[0] in ("redis", "rediss", "redis+unix")


class Window(NamedTuple):
    """A fixed window's count after a hit, and when (epoch seconds) the window resets."""

    hits: int
    reset_at: float


class _Health:
    """Whether to try the shared store now: after a failure, not before `RETRY_SECONDS`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._retry_at = 0.0
        self.down = False

    def usable(self) -> bool:
        return not self.down or time.monotonic() >= self._retry_at

    def failed(self, error: BaseException) -> None:
        report(TransientKind.connection, "rate_limit", error)
        self._retry_at = time.monotonic() + RETRY_SECONDS
        if not self.down:
            self.down = True
            FALLBACK.labels(self.name).set(1)
            log.warning("%s counters: Redis failed (%s); counting in memory", self.name, error)

    def succeeded(self) -> None:
        if self.down:
            self.down = False
            FALLBACK.labels(self.name).set(0)
            log.warning("%s counters: Redis answers again; counting there", self.name)


_INCREMENT = """
local count = redis.call('INCRBY', KEYS[1], 1)
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class Counters:
    """Fixed-window counters for the API throttle: Redis when configured and answering,
    else this process's memory (`limits`' in-process storage)."""

    def __init__(self, uri: str, name: str = "api") -> None:
        self.uri = uri
        self.memory = MemoryStorage()
        self.health = _Health(name)
        self._clients: dict[asyncio.AbstractEventLoop, Any] = {}

    def _script(self) -> Any:
        """The increment script on a client of the running loop (a client's connections
        belong to the loop that opened them; a test process runs several loops)."""
        loop = asyncio.get_running_loop()
        script = self._clients.get(loop)
        if script is None:
            client = redis_asyncio.Redis.from_url(
                self.uri,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
                retry_on_timeout=False,
            )
            self._clients = {  # forget the clients of loops that have closed
                known: value for known, value in self._clients.items() if not known.is_closed()
            }
            script = self._clients[loop] = client.register_script(_INCREMENT)
        return script

    async def hit(self, item: limits.RateLimitItem, *identity: str) -> Window:
        key = item.key_for(*identity)
        if is_redis(self.uri) and self.health.usable():
            try:
                hits, ttl_ms = await self._script()(
                    keys=[f"dropwire:{key}"], args=[item.get_expiry() * 1000]
                )
            except Exception as exc:  # unreachable, timed out, refused: count in memory
                self.health.failed(exc)
            else:
                self.health.succeeded()
                return Window(int(hits), time.time() + int(ttl_ms) / 1000)
        hits = self.memory.incr(key, item.get_expiry())
        return Window(hits, self.memory.get_expiry(key))


class FallbackLimiter:
    """A `limits` strategy over the configured storage, with the same strategy in memory
    beside it for while that storage fails (the sign-in throttle's synchronous counters)."""

    def __init__(self, strategy: Callable[[Any], RateLimiter], uri: str, name: str) -> None:
        self.memory = strategy(MemoryStorage())
        self.shared = (
            strategy(
                storage_from_string(
                    uri, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
                )
            )
            if is_redis(uri)
            else None
        )
        self.health = _Health(name)

    def call(self, use: Callable[[RateLimiter], Result]) -> Result:
        if self.shared is not None and self.health.usable():
            try:
                result = use(self.shared)
            except Exception as exc:
                self.health.failed(exc)
            else:
                self.health.succeeded()
                return result
        return use(self.memory)
