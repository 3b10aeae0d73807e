"""Web fixtures: demo data with users, and for browser tests one real uvicorn server on
127.0.0.1 (a free port, in a thread) and one headless Debian chromium for the whole session."""

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import select

from dropwire.app import create_app
from dropwire.auth.users import create_user
from dropwire.core.db import Database
from dropwire.core.settings import Settings
from dropwire.demo import load_demo
from dropwire.sales.models import Purchase, PurchaseInventoryStatus
from dropwire.vendors.models import DropshipProvider

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery"
ADMIN = "admin@shop.test"
VENDOR = "po@baltic.test"
OTHER_VENDOR = "orders@northwind.test"


@dataclass(frozen=True)
class Demo:
    sale_ids: list[int]
    variant_ids: list[int]
    baltic_id: int
    northwind_id: int
    baltic_purchase_id: int


def seed_demo(database: Database) -> Demo:
    """The demo data set plus an admin and two vendor users (Baltic Linen, Northwind)."""
    with database.transaction() as session:
        summary = load_demo(session)
        vendors = dict(
            session.execute(select(DropshipProvider.external_id, DropshipProvider.id)).all()
        )
        create_user(session, email=ADMIN, password=PASSWORD)
        create_user(
            session, email=VENDOR, password=PASSWORD, dropship_provider_id=vendors["demo-baltic"]
        )
        create_user(
            session,
            email=OTHER_VENDOR,
            password=PASSWORD,
            dropship_provider_id=vendors["demo-northwind"],
        )
        purchase_id = session.scalar(
            select(Purchase.id).where(
                Purchase.dropship_provider_id == vendors["demo-baltic"],
                Purchase.inventory_status == PurchaseInventoryStatus.not_received,
            )
        )
        assert purchase_id is not None
        return Demo(
            sale_ids=summary["sales"],
            variant_ids=summary["variants"],
            baltic_id=vendors["demo-baltic"],
            northwind_id=vendors["demo-northwind"],
            baltic_purchase_id=purchase_id,
        )


@pytest.fixture
def demo(database: Database) -> Demo:
    return seed_demo(database)


@pytest.fixture(scope="session")
def live_server(database: Database) -> Iterator[str]:
    settings = Settings(
        database_url=database.url,
        admin_token=None,
        rate_limit_enabled=False,
        worker_in_process=False,
        auth_cache_seconds=0,
        _env_file=None,  # type: ignore[call-arg]
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(database, settings), host="127.0.0.1", port=0, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _chromium() -> str | None:
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = _chromium()
    if executable is None:
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Browser, live_server: str) -> Iterator[Callable[..., Page]]:
    """A factory of pages, each in a fresh browser context (its own cookies)."""
    contexts = []

    def make(width: int = 1280, height: int = 900) -> Page:
        context = browser.new_context(
            base_url=live_server, viewport={"width": width, "height": height}
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


def shot(page: Page, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def sign_in(page: Page, email: str, password: str = PASSWORD, path: str = "/") -> None:
    page.goto(path)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()
