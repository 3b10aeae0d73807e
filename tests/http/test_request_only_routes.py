"""Which routes `UnitOfWorkRoute` calls directly, skipping FastAPI's dependency solving: only
those for which that solving would do nothing but pass the request."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from dropwire.http.routing import UnitOfWorkRoute, _takes_only_the_request
from dropwire.inbound.endpoints import router as inbound_router


def _route(endpoint: object) -> UnitOfWorkRoute:
    router = APIRouter(route_class=UnitOfWorkRoute)
    router.add_api_route("/x", endpoint, methods=["POST"])  # type: ignore[arg-type]
    route = router.routes[0]
    assert isinstance(route, UnitOfWorkRoute)
    return route


def test_the_async_inbound_endpoints_take_only_the_request():
    routes = [r for r in inbound_router.routes if isinstance(r, UnitOfWorkRoute)]
    assert routes and all(_takes_only_the_request(route) for route in routes)


def test_routes_with_anything_else_to_solve_go_through_fastapi():
    async def request_only(request: Request) -> Response:
        return Response()

    async def with_query(request: Request, q: int) -> Response:
        return Response()

    async def with_dependency(request: Request, n: Annotated[int, Depends(lambda: 1)]) -> Response:
        return Response()

    async def returning_data(request: Request) -> dict[str, int]:
        return {}

    async def not_declared(request: Request):  # type: ignore[no-untyped-def]
        return {}

    def not_async(request: Request) -> Response:  # runs in the threadpool, in one hop
        return Response()

    assert _takes_only_the_request(_route(request_only))
    assert _takes_only_the_request(_route(not_async))
    for endpoint in (with_query, with_dependency, returning_data, not_declared):
        assert not _takes_only_the_request(_route(endpoint)), endpoint.__name__
