"""What the tests that run real `dropwire` processes share: a free port, and waiting on a
condition or on readiness with deadlines a loaded 2-core machine meets (a fixed sleep or a
tight timeout there fails a correct server: start-up alone takes 60 to 180 s under load)."""

import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import httpx

T = TypeVar("T")

START_SECONDS = 600.0
"""Longest wait for `dropwire serve` to answer ready."""

SETTLE_SECONDS = 120.0
"""Longest wait for the system to reach a state it must reach (a job applied, a process
replaced): a bound on a hang, not a measure of speed."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: Callable[[], T], seconds: float, what: str, every: float = 0.1) -> T:
    """Poll `check` until it gives a true value (returned), failing with `what` at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} (waited {seconds:.0f} s)"
        time.sleep(every)


def status_of(url: str, timeout: float = 5.0) -> int | None:
    """The status `url` answers, or None when nothing answers."""
    try:
        return httpx.get(url, timeout=timeout).status_code
    except httpx.HTTPError:
        return None


def wait_ready(
    base_url: str,
    processes: Sequence["subprocess.Popen[bytes]"] = (),
    seconds: float = START_SECONDS,
) -> None:
    """Until `/ready` answers 200 (the API serves and its database answers); fails early when
    one of `processes` has exited."""

    def ready() -> bool:
        exited = [p.args for p in processes if p.poll() is not None]
        assert not exited, f"exited before the server was ready: {exited}"
        return status_of(f"{base_url}/ready") == 200

    wait_until(ready, seconds, "dropwire serve did not become ready", every=0.2)
