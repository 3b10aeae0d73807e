"""Failed sign-ins are counted per account and per client address (the `limits` library).

Web sign-in and the API's `POST /auth/login` share one throttle and one set of counters: they
check the same users' passwords, so alternating between them buys a guesser nothing. Only
failures count, so a person signing in often is never locked out by their own successes;
a throttled attempt is refused before the password is checked, so guessing costs no hashing.
Counters share the API throttle's storage (memory, or Redis for several processes; while Redis
fails, this process's memory).
"""

import functools
import math
import time

import limits
from limits.strategies import MovingWindowRateLimiter, RateLimiter

from dropwire.auth.users import normalize_email
from dropwire.core.rate_counters import FallbackLimiter
from dropwire.core.settings import Settings

NAMESPACE = "sign-in"


class SignInThrottle:
    def __init__(self, settings: Settings) -> None:
        self.limiter = FallbackLimiter(
            MovingWindowRateLimiter, settings.rate_limit_storage, "sign_in"
        )
        self.per_account = limits.parse(settings.sign_in_limit_account)
        self.per_ip = limits.parse(settings.sign_in_limit_ip)

    def _keys(self, email: str, ip: str) -> list[tuple[limits.RateLimitItem, str, str]]:
        return [
            (self.per_account, "account", normalize_email(email)),
            (self.per_ip, "ip", ip),
        ]

    def retry_after(self, email: str, ip: str) -> int:
        """Seconds until another attempt is allowed; 0 when one is allowed now."""
        waits = []
        for item, kind, key in self._keys(email, ip):
            reset = self.limiter.call(functools.partial(_reset_when_refused, item, kind, key))
            if reset is not None:
                waits.append(max(1, math.ceil(reset - time.time())))
        return max(waits, default=0)

    def failed(self, email: str, ip: str) -> None:
        for item, kind, key in self._keys(email, ip):
            self.limiter.call(functools.partial(_hit, item, kind, key))


def _reset_when_refused(
    item: limits.RateLimitItem, kind: str, key: str, limiter: RateLimiter
) -> float | None:
    """When the window resets, if the next attempt would be refused; else None."""
    if limiter.test(item, NAMESPACE, kind, key):
        return None
    return limiter.get_window_stats(item, NAMESPACE, kind, key).reset_time


def _hit(item: limits.RateLimitItem, kind: str, key: str, limiter: RateLimiter) -> bool:
    return limiter.hit(item, NAMESPACE, kind, key)
