"""Failed sign-ins are counted per account and per client address (the `limits` library).

Web sign-in and the API's `POST /auth/login` share one throttle and one set of counters: they
check the same users' passwords, so alternating between them buys a guesser nothing. Only
failures count, so a person signing in often is never locked out by their own successes;
a throttled attempt is refused before the password is checked, so guessing costs no hashing.
Counters share the API throttle's storage (memory, or Redis for several processes).
"""

import math
import time

import limits
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from dropwire.auth.users import normalize_email
from dropwire.core.settings import Settings

NAMESPACE = "sign-in"


class SignInThrottle:
    def __init__(self, settings: Settings) -> None:
        self.limiter = MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage))
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
            if not self.limiter.test(item, NAMESPACE, kind, key):
                reset = self.limiter.get_window_stats(item, NAMESPACE, kind, key).reset_time
                waits.append(max(1, math.ceil(reset - time.time())))
        return max(waits, default=0)

    def failed(self, email: str, ip: str) -> None:
        for item, kind, key in self._keys(email, ip):
            self.limiter.hit(item, NAMESPACE, kind, key)
