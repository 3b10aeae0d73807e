"""A merchant's first hour, entirely in the browser, from an empty database: a vendor with a pull
feed (its CSV served by a real HTTP server: test fetch, preview, run), the catalog it stocks, a
custom channel and its API token; the store sends an order through the channel's API as a store
would; the merchant ships the purchase order and records a return with restock, and every page
shows the stock and the statuses that follow."""

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from dropwire.auth.users import create_user
from dropwire.core.db import Database
from dropwire.feeds.pull.tasks import run_queued_feeds
from dropwire.vendors.models import DropshipProvider
from tests.web.conftest import ADMIN, PASSWORD, shot, sign_in

NewPage = Callable[..., Page]
STOCK_FILE = b"SKU,Stock,Cost\nFJ-BOWL,12,8.50\nFJ-CUP,40,4.25\n"


class _StockFile(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(STOCK_FILE)))
        self.end_headers()
        self.wfile.write(STOCK_FILE)


@pytest.fixture
def stock_file(configure: Callable[..., object]) -> Iterator[str]:
    configure(allow_private_targets="true")  # the vendor's server is on this machine
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StockFile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/stock.csv"
    server.shutdown()
    server.server_close()


def _submit(page: Page) -> None:
    page.click("form.edit-form button[type=submit]:not([name])")


def _stock(page: Page, sku: str) -> tuple[str, str, str]:
    page.goto("/inventory")
    page.locator("table tbody a", has_text=sku).first.click()
    return (
        page.get_by_test_id("stocked").inner_text(),
        page.get_by_test_id("allocated").inner_text(),
        page.get_by_test_id("available").inner_text(),
    )


def test_from_an_empty_database_to_a_shipped_and_returned_order(
    new_page: NewPage, database: Database, live_server: str, stock_file: str
) -> None:
    with database.transaction() as session:
        assert session.scalar(select(func.count(DropshipProvider.id))) == 0  # nothing yet
        create_user(session, email=ADMIN, password=PASSWORD)  # as `make run` prints one
    page = new_page()
    sign_in(page, ADMIN, path="/vendors")

    # a vendor
    page.click("text=Add a vendor")
    page.fill("#f-name", "Fjord Ceramics")
    _submit(page)
    expect(page.locator(".flash-ok")).to_contain_text("Vendor Fjord Ceramics added")

    # the catalog the vendor stocks
    for sku, name, price in (("FJ-BOWL", "Fjord Bowl", "24.50"), ("FJ-CUP", "Fjord Cup", "9.00")):
        page.goto("/inventory")
        page.click("text=Add a variant")
        page.fill("#f-sku", sku)
        page.fill("#f-name", name)
        page.fill("#f-price", price)
        _submit(page)
        expect(page.locator(".flash-ok")).to_contain_text(f"Variant {sku} added")

    # its pull feed: test fetch, preview of the mapped rows, save, run
    page.goto("/vendors")
    page.get_by_role("link", name="Fjord Ceramics").click()
    page.click("text=Add a feed")
    page.fill("#f-name", "Fjord stock file")
    page.select_option("#f-resourceType", "csv")
    page.fill("#f-resourceLocation", stock_file)
    page.fill(
        "#f-mapping",
        '{"fields": {"vendorSku": "SKU", "inventoryQuantity": "Stock", "costPrice": "Cost"}}',
    )
    page.click("#test-fetch")
    preview = page.locator("#preview-rows tbody tr")
    expect(preview).to_have_count(2)
    expect(preview.nth(0)).to_contain_text("FJ-BOWL")
    _submit(page)
    expect(page.locator(".flash-ok")).to_contain_text("Feed Fjord stock file added")
    page.click("#run-now button")
    assert run_queued_feeds(database) == 1  # what `dropwire serve`'s worker does
    page.reload()
    expect(page.get_by_test_id("run-status")).to_have_text("Succeeded")
    assert _stock(page, "FJ-BOWL") == ("12", "0", "12")  # connected by SKU, stocked

    # a custom channel, and the API token its store will use
    page.goto("/channels")
    page.click("text=Add a Custom channel")
    page.fill("#f-name", "Fjord web shop")
    page.click("form.edit-form button[type=submit]")
    expect(page.locator(".flash-ok")).to_contain_text("Channel Fjord web shop added")
    channel_id = int(page.url.split("#channel-")[1])
    page.goto("/tokens")
    page.fill("#f-email", "store@fjord.test")
    page.select_option("#f-role", "api")
    page.click("form.edit-form button[type=submit]")
    token = page.get_by_test_id("new-token").inner_text()

    # the store sends an order, as a store does
    order = {
        "externalId": "web-5001",
        "customer": {"firstName": "Ada", "lastName": "Lind", "email": "ada.lind@example.com"},
        "saleDefaults": {
            "receiverFirstName": "Ada",
            "receiverLastName": "Lind",
            "receiverAddress1": "Storgata 1",
            "receiverCity": "Oslo",
            "receiverZip": "0155",
            "receiverCountry": "NO",
        },
        "lineItems": [
            {
                "externalId": "1",
                "name": "Fjord Bowl",
                "quantity": 2,
                "price": "24.50",
                "variant": {"sku": "FJ-BOWL"},
            }
        ],
    }
    answer = httpx.post(
        f"{live_server}/api/channels/{channel_id}/manual-sale.json",
        json=order,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code in (200, 201), answer.text
    reference = answer.json()["reference"]
    assert _stock(page, "FJ-BOWL") == ("12", "2", "10")  # allocated to the order

    # ship its purchase order
    page.goto("/sales")
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.locator("#customer")).to_contain_text("ada.lind@example.com")
    page.locator("a[href^='/purchases/']", has_text=f"{reference}-01").first.click()
    expect(page.locator("h1")).to_contain_text(f"{reference}-01")
    page.fill("#ship input[name=carrier]", "Posten")
    page.fill("#ship input[name=tracking_number]", "70712345678901234")
    page.click("#ship button[type=submit]")
    expect(page.locator(".flash-ok")).to_contain_text(f"Shipment {reference}-01-01 recorded")
    expect(page.locator("p .badge").first).to_have_text("Shipped")
    assert _stock(page, "FJ-BOWL") == ("10", "0", "10")  # gone from the vendor's shelf

    # one bowl comes back, into the merchant's own warehouse
    page.goto("/sales")
    page.get_by_role("link", name=reference, exact=True).click()
    page.locator("#record-return input[name^=return_]").first.fill("1")
    page.fill("#record-return input[name=reason]", "cracked glaze")
    page.check("#record-return input[name=restock]")
    page.click("#record-return button[type=submit]")
    expect(page.locator(".flash-ok")).to_contain_text("Return ")
    expect(page.locator("#returns tbody tr").first).to_contain_text("FJ-BOWL: 1 returned")
    expect(page.get_by_test_id("returned")).to_have_text("1")
    shot(page, "first-hour-sale")
    assert _stock(page, "FJ-BOWL") == ("11", "0", "11")  # 10 at the vendor, 1 back home
    expect(page.locator("#levels tbody")).to_contain_text("Fjord stock file")

    page.goto("/purchases")
    expect(page.locator("#purchases tbody tr", has_text=reference)).to_contain_text("Shipped")
    page.goto("/sales")
    row = page.locator("#sales tbody tr", has_text=reference)
    expect(row).to_contain_text("Fulfilled")
