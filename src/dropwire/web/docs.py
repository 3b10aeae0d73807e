"""`/docs` (Swagger UI), every asset served from the `fastapi-offline` package.

No CDN, no external font: the page works on a machine without internet. The package ships the
upstream Swagger UI 5 bundle (5 is the first to render OpenAPI 3.1, which FastAPI produces); we
serve its files, we do not copy them into this repository. There is no `/redoc`: ReDoc's bundle
loads its logo from a CDN.
"""

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from dropwire.http.routing import UnitOfWorkRoute

ASSETS = "/static/api-docs"
router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)


def assets_directory() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    return get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url="/static/web/favicon.svg",
        swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
    )


def mount_assets(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=assets_directory()), name="api-docs-assets")
