"""Adds the pages, their static files and the offline API docs to the application."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from dropwire.web import (
    admin,
    bulk,
    catalog_admin,
    channel_admin,
    docs,
    exports,
    feed_admin,
    feed_items,
    mail_pages,
    money_admin,
    password_pages,
    people_admin,
    search,
    signin,
    vendor,
    vendor_admin,
    vendor_money,
)

STATIC = Path(__file__).parent / "static"


def install_web(app: FastAPI) -> None:
    app.mount("/static/web", StaticFiles(directory=STATIC), name="web-static")
    docs.mount_assets(app)
    app.include_router(docs.router)
    # fixed paths (`/purchases/bulk/send`) before the pages' `/purchases/{id}/...`
    app.include_router(exports.router)
    app.include_router(bulk.router)
    app.include_router(search.router)
    app.include_router(signin.router)
    app.include_router(password_pages.router)
    app.include_router(mail_pages.router)
    app.include_router(vendor.router)
    app.include_router(vendor_money.router)
    app.include_router(vendor_admin.router)
    app.include_router(money_admin.router)
    app.include_router(feed_admin.router)
    app.include_router(feed_items.router)
    app.include_router(channel_admin.router)
    app.include_router(catalog_admin.router)
    app.include_router(people_admin.router)
    app.include_router(admin.router)
