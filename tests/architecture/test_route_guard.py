"""The commit-before-answer guard: `create_app` refuses any API route that is not a
`UnitOfWorkRoute`, wherever it sits — included through a router or inside a mounted app."""

import re

import pytest
from fastapi import APIRouter, FastAPI

import dropwire.app
from dropwire.app import create_app
from dropwire.core.db import Database
from dropwire.core.settings import Settings
from dropwire.http.routing import UnitOfWorkRoute, api_routes, require_unit_of_work


def _plain_router() -> APIRouter:
    router = APIRouter(prefix="/api/plain")

    @router.post("/thing.json")
    def answer_before_commit() -> dict[str, str]:
        return {"saved": "maybe"}

    return router


def test_an_app_with_a_plain_route_in_an_included_router_is_refused(
    database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(dropwire.app, "API_ROUTERS", (*dropwire.app.API_ROUTERS, _plain_router()))
    with pytest.raises(RuntimeError, match=re.escape("/api/plain/thing.json")):
        create_app(database, settings)


def test_a_plain_route_inside_a_mounted_app_is_refused():
    inner = FastAPI()
    inner.include_router(_plain_router())
    outer = FastAPI()
    outer.mount("/mounted", inner)
    with pytest.raises(RuntimeError, match=re.escape("/api/plain/thing.json")):
        require_unit_of_work(outer)


def test_a_plain_route_in_a_nested_include_is_refused():
    outer_router = APIRouter(route_class=UnitOfWorkRoute)
    outer_router.include_router(_plain_router())
    app = FastAPI()
    app.include_router(outer_router)
    with pytest.raises(RuntimeError, match=re.escape("/api/plain/thing.json")):
        require_unit_of_work(app)


def test_every_api_route_of_the_app_commits_through_the_unit_of_work(app: FastAPI):
    routes = list(api_routes(app.routes))
    assert len(routes) > 100
    assert [route.path for route in routes if not isinstance(route, UnitOfWorkRoute)] == []
    paths = {route.path for route in routes}
    assert {"/webhooks/elasticpath/{channel_id}", "/channels.json", "/health"} <= paths
