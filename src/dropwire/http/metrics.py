"""Prometheus request counts and latencies, labelled by route template (not raw path)."""

import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

REQUESTS = Counter(
    "dropwire_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "dropwire_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods with series of their own; any other a client sends counts as "other" (every label
value is a series kept for the process's life: a client must not be able to add them)."""

_MAX_SERIES = 2000
_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}
"""(method, route, status) → its counter and histogram children: `labels()` builds a key and takes
a lock on every call; the routes and statuses are few, so each pair is looked up once."""


def _series(method: str, route: str, status: int) -> tuple[Any, Any]:
    found = _SERIES.get((method, route, status))
    if found is None:
        found = (REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route))
        if len(_SERIES) < _MAX_SERIES:
            _SERIES[(method, route, status)] = found
    return found


def route_template(scope: Scope) -> str:
    """The matched route's full path template (with its router prefix), or "unmatched"."""
    included = scope.get("fastapi", {}).get("effective_route_context")
    template = getattr(included, "path_format", None) or getattr(scope.get("route"), "path", None)
    return str(template) if template else "unmatched"


def observe(scope: Scope, status: int, started: float) -> None:
    """Count one answered request and its latency (`started`: its `time.perf_counter()`).

    Called by the API-log middleware, which sees every request's answer already: a middleware
    of its own cost a layer and a second wrapper of every message sent.
    """
    method = scope["method"] if scope["method"] in _METHODS else "other"
    count, latency = _series(method, route_template(scope), status)
    count.inc()
    latency.observe(time.perf_counter() - started)


def metrics_endpoint(_request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
