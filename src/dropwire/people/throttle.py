""" "Forgot password" requests are limited per address asked about and per client address (the
`limits` library, the sign-in throttle's storage: memory, or Redis shared by several processes,
this process's memory while Redis fails).

A request over either limit is answered exactly like any other (202, the same words) and sends
nothing, so the limit neither floods a person's mailbox nor tells anyone whether an address
belongs to someone. Every request counts, whether or not the address is anyone's; the address
is kept in the counters only as a digest.
"""

import functools
import hashlib

import limits
from limits.strategies import MovingWindowRateLimiter, RateLimiter

from dropwire.auth.users import normalize_email
from dropwire.core.rate_counters import FallbackLimiter
from dropwire.core.settings import Settings

NAMESPACE = "password-reset"


class ResetThrottle:
    def __init__(self, settings: Settings) -> None:
        self.limiter = FallbackLimiter(
            MovingWindowRateLimiter, settings.rate_limit_storage, "password_reset"
        )
        self.per_address = limits.parse(settings.password_reset_limit_address)
        self.per_client = limits.parse(settings.password_reset_limit_ip)

    def allow(self, email: str, client: str) -> bool:
        """Whether a link may be sent for this request now (counted when it may)."""
        digest = hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]
        keys = [(self.per_address, "address", digest), (self.per_client, "ip", client)]
        for item, kind, key in keys:
            if not self.limiter.call(functools.partial(_test, item, kind, key)):
                return False
        for item, kind, key in keys:
            self.limiter.call(functools.partial(_hit, item, kind, key))
        return True


def _test(item: limits.RateLimitItem, kind: str, key: str, limiter: RateLimiter) -> bool:
    return limiter.test(item, NAMESPACE, kind, key)


def _hit(item: limits.RateLimitItem, kind: str, key: str, limiter: RateLimiter) -> bool:
    return limiter.hit(item, NAMESPACE, kind, key)
