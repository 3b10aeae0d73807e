"""Endpoints run in ONE threadpool hop.

FastAPI runs a plain `def` endpoint in a worker thread and then validates its response in another
hop; each hop costs about a millisecond or more on small machines. This route class wraps a sync
endpoint in a coroutine that makes a single hop, so validation and serialisation happen on the
event loop.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool


def one_hop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return run


class OneHopRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, one_hop(endpoint), **kwargs)
