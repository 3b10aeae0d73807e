"""`API_ROUTERS` lists the busiest routers first, which is safe only while no request could be
answered by routes of two routers (FastAPI takes the first router with a match)."""

import re

from fastapi.routing import APIRoute

from dropwire.app import API_ROUTERS


def _sample_path(route: APIRoute) -> str:
    return re.sub(r"\{[^}]+\}", "7", route.path)


def test_no_request_matches_routes_of_two_routers():
    routes = [
        (index, route)
        for index, router in enumerate(API_ROUTERS)
        for route in router.routes
        if isinstance(route, APIRoute)
    ]
    clashes = [
        (route.path, other.path)
        for index, route in routes
        for other_index, other in routes
        if other_index != index
        and route.methods & other.methods
        and other.path_regex.match(_sample_path(route))
    ]
    assert routes and not clashes
