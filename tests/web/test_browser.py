"""The dashboard and the vendor portal driven in a real headless chromium against a real server."""

import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, Route, expect
from sqlalchemy import select

from dropwire.catalog.models import Variant
from dropwire.channels.models import Channel
from dropwire.connectors.elasticpath.models import ElasticPathStore
from dropwire.core.db import Database
from dropwire.core.settings import Settings
from dropwire.delivery.models import (
    Delivery,
    DeliveryState,
    EndpointOwner,
    WebhookEndpoint,
)
from dropwire.feeds.models import FetchFrequency, InventoryFeedVariant, ResourceType
from dropwire.feeds.pull.tasks import run_queued_feeds
from dropwire.feeds.schemas import FeedCreate
from dropwire.feeds.service import create_feed
from dropwire.inventory.detail import variant_inventory
from dropwire.inventory.models import InventoryMovement, MovementCause
from dropwire.jobs.models import Job, JobState
from dropwire.sales.manual import upsert_manual_sale
from dropwire.sales.models import Fulfillment, FulfillmentItem, Purchase, Sale, SaleItem
from dropwire.sales.schemas import ManualSale
from tests.web.conftest import ADMIN, OTHER_VENDOR, VENDOR, Demo, shot, sign_in

NewPage = Callable[..., Page]


def test_sign_in_overview_and_sign_out(new_page: NewPage, demo: Demo) -> None:
    page = new_page()
    page.goto("/")
    assert "/sign-in" in page.url
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", "wrong password!!")
    page.click("form.stack button[type=submit]")
    expect(page.locator(".flash-error")).to_contain_text("Wrong email or password")
    sign_in(page, ADMIN)
    assert urlsplit(page.url).path == "/"
    expect(page.locator("h1")).to_have_text("Overview")
    expect(page.get_by_test_id("sales-today")).to_have_text("2")  # the third is cancelled
    assert page.locator("svg.chart rect.bar-sales").count() == 24
    shot(page, "overview")
    page.click("text=Sign out")
    assert "/sign-in" in page.url
    page.goto("/sales")
    assert "/sign-in" in page.url


def test_find_a_sku_read_its_detail_and_adjust_stocked(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    page = new_page()
    sign_in(page, ADMIN, path="/inventory")
    page.fill("input[name=q]", "nw-tent")
    page.click("form.filters button")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)  # NW-TENT-2P and NW-TENT-2P-GRN
    page.get_by_role("link", name="NW-TENT-2P", exact=True).first.click()
    expect(page.locator("h1")).to_contain_text("NW-TENT-2P")
    with database.transaction() as session:
        variant_id = session.scalar(select(Variant.id).where(Variant.sku == "NW-TENT-2P"))
        assert variant_id is not None
        before = variant_inventory(session, variant_id=variant_id)
    assert before.allocated > 0  # the demo's open sale holds one tent
    expect(page.get_by_test_id("stocked")).to_have_text(str(before.stocked))
    expect(page.get_by_test_id("allocated")).to_have_text(str(before.allocated))
    expect(page.get_by_test_id("available")).to_have_text(str(before.available))
    expect(page.locator("#levels tbody tr")).to_have_count(len(before.locations))
    expect(page.locator("text=Northwind Outdoor").first).to_be_visible()  # the vendor feed
    expect(page.locator("text=10001").first).to_be_visible()  # the recent sale
    shot(page, "variant-detail")

    page.fill("#adjust input[name=quantity]", "5")
    page.fill("#adjust input[name=reason]", "recount after delivery")
    page.click("#adjust button")
    expect(page.locator(".flash-ok")).to_contain_text("Stocked at")
    expect(page.get_by_test_id("stocked")).to_have_text(str(before.stocked + 5))
    expect(page.get_by_test_id("allocated")).to_have_text(str(before.allocated))
    expect(page.get_by_test_id("available")).to_have_text(str(before.available + 5))
    newest = page.locator("#ledger tbody tr").first
    expect(newest).to_contain_text("recount after delivery")
    expect(newest).to_contain_text("+5")
    expect(newest).to_contain_text(ADMIN)
    with database.transaction() as session:
        movement = session.scalars(
            select(InventoryMovement).order_by(InventoryMovement.id.desc())
        ).first()
        assert movement is not None
        assert (movement.cause, movement.delta_stocked, movement.delta_allocated) == (
            MovementCause.adjustment,
            5,
            0,
        )


def test_cancel_a_sale_line(new_page: NewPage, demo: Demo, database: Database) -> None:
    page = new_page()
    sign_in(page, ADMIN, path=f"/sales/{demo.sale_ids[0]}")
    with database.transaction() as session:
        item = session.scalars(
            select(SaleItem).where(
                SaleItem.sale_id == demo.sale_ids[0], SaleItem.sku == "KK-MUG-SAGE"
            )
        ).one()
        item_id, variant_id = item.id, item.variant_id
        assert variant_id is not None
        allocated_before = variant_inventory(session, variant_id=variant_id).allocated
    row = page.locator(f"tr[data-line='{item_id}']")
    row.locator("input[name=quantity]").fill("1")
    row.locator("select[name=reason]").select_option("customer")
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button").click()
    expect(page.locator(".flash-ok")).to_contain_text("Cancelled 1 unit")
    expect(row.get_by_test_id("cancelled")).to_have_text("1")
    with database.transaction() as session:
        assert variant_inventory(session, variant_id=variant_id).allocated == allocated_before - 1
        sale = session.get(Sale, demo.sale_ids[0])
        assert sale is not None and sale.cancellation_status == "partial"
    shot(page, "sale-detail")


def test_retry_a_dead_delivery_and_a_dead_job(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    with database.transaction() as session:
        endpoint = WebhookEndpoint(
            owner_type=EndpointOwner.channel,
            owner_id=1,
            url="http://127.0.0.1:9/hook",
            secret="s" * 32,
        )
        session.add(endpoint)
        session.flush()
        delivery = Delivery(
            event="fulfillment",
            endpoint_id=endpoint.id,
            url=endpoint.url,
            subject_type="fulfillment",
            subject_id=1,
            body={"ok": True},
            state=DeliveryState.dead,
            attempts=12,
            last_error="connection refused",
        )
        job = Job(kind="demo.never", payload={}, state=JobState.dead, attempts=8, last_error="boom")
        session.add_all([delivery, job])
        session.flush()
        delivery_id, job_id = delivery.id, job.id
    page = new_page()
    sign_in(page, ADMIN, path="/deliveries?state=dead")
    row = page.locator(f"tr[data-delivery='{delivery_id}']")
    expect(row).to_contain_text("connection refused")
    shot(page, "deliveries")
    row.locator("button", has_text="Retry").click()
    expect(page.locator(".flash-ok")).to_contain_text(f"Delivery #{delivery_id} will be sent again")
    with database.transaction() as session:
        stored = session.get(Delivery, delivery_id)
        assert stored is not None
        assert (stored.state, stored.attempts) == (DeliveryState.pending, 0)

    page.goto("/jobs?state=dead")
    page.locator(f"tr[data-job='{job_id}'] button").click()
    expect(page.locator(".flash-ok")).to_contain_text(f"Job {job_id} is queued again")
    with database.transaction() as session:
        stored_job = session.get(Job, job_id)
        assert stored_job is not None and stored_job.state == JobState.queued


def test_vendor_marks_shipped_and_admin_sees_the_fulfillment(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    vendor = new_page(390, 844)  # a phone
    sign_in(vendor, VENDOR)
    assert urlsplit(vendor.url).path == "/vendor"
    vendor.locator("table tbody a").first.click()
    shot(vendor, "vendor-purchase-phone")
    vendor.fill("#ship input[name=carrier]", "DHL")
    vendor.fill("#ship input[name=tracking_number]", "JD0140099")
    vendor.click("#ship button")
    expect(vendor.locator(".flash-ok")).to_contain_text("Shipment")
    expect(vendor.locator("#fulfillments")).to_contain_text("JD0140099")
    with database.transaction() as session:
        fulfillment = session.scalars(
            select(Fulfillment).where(Fulfillment.purchase_id == demo.baltic_purchase_id)
        ).one()
        assert (fulfillment.tracking_company, fulfillment.tracking_number) == ("DHL", "JD0140099")

    admin = new_page()
    sign_in(admin, ADMIN, path=f"/purchases/{demo.baltic_purchase_id}")
    expect(admin.locator("#fulfillments")).to_contain_text("DHL")
    expect(admin.locator("#fulfillments")).to_contain_text("JD0140099")
    expect(admin.locator("p .badge").first).to_have_text("Shipped")


def test_vendor_opening_another_vendors_purchase_order_gets_404(
    new_page: NewPage, demo: Demo
) -> None:
    page = new_page()
    sign_in(page, OTHER_VENDOR)
    response = page.goto(f"/vendor/purchases/{demo.baltic_purchase_id}")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    response = page.goto(f"/purchases/{demo.baltic_purchase_id}")  # the admin page
    assert response is not None and response.status == 404
    response = page.goto(f"/vendor/feeds/{demo.baltic_id}")
    assert response is not None and response.status == 404


def test_a_form_posted_without_its_csrf_token_is_refused(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    variant_id = demo.variant_ids[0]
    page = new_page()
    sign_in(page, ADMIN, path=f"/inventory/{variant_id}")
    with database.transaction() as session:
        stocked = variant_inventory(session, variant_id=variant_id).stocked
    page.evaluate("document.querySelector('#adjust input[name=csrf_token]').remove()")
    page.fill("#adjust input[name=quantity]", "50")
    with page.expect_response(re.compile(r"/adjust$")) as answer:
        page.click("#adjust button")
    assert answer.value.status == 403
    expect(page.locator("main")).to_contain_text("security token")
    with database.transaction() as session:
        assert variant_inventory(session, variant_id=variant_id).stocked == stocked


def test_docs_render_with_the_network_blocked(new_page: NewPage, live_server: str) -> None:
    page = new_page()
    outside: list[str] = []

    def only_loopback(route: Route) -> None:
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost", "::1"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    page.context.route("**/*", only_loopback)
    page.goto("/docs")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible(timeout=30_000)  # a big schema on a busy CI box
    assert operations.count() > 20
    expect(page.locator(".opblock-summary-path", has_text="/api/sales.json").first).to_be_visible()
    assert outside == []
    shot(page, "api-docs", full_page=False)


def test_every_admin_page_renders(new_page: NewPage, demo: Demo) -> None:
    page = new_page()
    sign_in(page, ADMIN)
    pages = {
        "sales": "/sales",
        "purchases": "/purchases?waiting=1",
        "vendors": "/vendors",
        "feeds": "/feeds",
        "feed-detail": "/feeds/1",
        "channels": "/channels",
        "api-logs": "/api-logs",
        "jobs": "/jobs",
        "inventory": "/inventory",
    }
    for name, path in pages.items():
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        expect(page.locator("h1")).to_be_visible()
        shot(page, name)
    page.goto("/channels")
    page.get_by_role("link", name="reveal").click()
    expect(page.get_by_test_id("hash")).to_have_text(re.compile(r"\S{16,}"))
    page.goto("/sales?sort=reference&dir=asc")
    expect(page.locator("table tbody tr").first).to_contain_text("10001")
    page.goto("/sales?sort=reference&dir=desc")
    expect(page.locator("table tbody tr").first).to_contain_text("10003")


class _FeedFile(BaseHTTPRequestHandler):
    """Serves `body` at any path: the vendor's stock file."""

    body = b""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


@pytest.fixture
def feed_server(configure: Callable[..., Settings]) -> Iterator[type[_FeedFile]]:
    """A vendor's file server on 127.0.0.1; the outbound guard is told loopback is allowed."""
    configure(allow_private_targets="true")
    handler = type("FeedFile", (_FeedFile,), {"body": b""})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}/stock.csv"  # type: ignore[attr-defined]
    yield handler
    server.shutdown()
    server.server_close()


def _stock_csv(quantities: dict[str, int]) -> bytes:
    return (
        "vendorSku,inventoryQuantity\n" + "".join(f"{k},{v}\n" for k, v in quantities.items())
    ).encode()


def test_run_a_pull_feed_now_and_approve_a_held_run(
    new_page: NewPage, demo: Demo, database: Database, feed_server: type[_FeedFile]
) -> None:
    with database.transaction() as session:
        feed = create_feed(
            session,
            data=FeedCreate(
                dropship_provider_id=demo.baltic_id,
                name="Baltic stock file",
                resource_type=ResourceType.csv,
                resource_location=feed_server.url,  # type: ignore[attr-defined]
                fetch_frequency=FetchFrequency.never,
                fetch_cleanup=True,
                cleanup_guard_percent=20,
            ),
        )
        feed_id = feed.id
    skus = {f"BL-{n}": n + 1 for n in range(10)}
    feed_server.body = _stock_csv(skus) + b",oops\n"  # one row without a SKU fails

    # the vendor runs its feed now from the portal; a worker carries the run out
    vendor = new_page(390, 844)
    sign_in(vendor, VENDOR, path=f"/vendor/feeds/{feed_id}")
    vendor.click("#run-now button")
    expect(vendor.locator(".flash-ok")).to_contain_text("is queued")
    expect(vendor.get_by_test_id("run-status")).to_have_text("Queued")
    assert run_queued_feeds(database) == 1
    vendor.reload()
    expect(vendor.get_by_test_id("run-status")).to_have_text("Partial")
    expect(vendor.get_by_test_id("rows-read")).to_have_text("11")
    expect(vendor.get_by_test_id("rows-created")).to_have_text("10")
    expect(vendor.get_by_test_id("rows-failed")).to_have_text("1")
    expect(vendor.locator("#row-errors tbody tr")).to_have_count(1)
    expect(vendor.locator("#row-errors tbody tr")).to_contain_text("12vendorSku")  # file line
    expect(vendor.get_by_test_id("bytes")).to_contain_text("B")
    expect(vendor.locator("#decide")).to_have_count(0)
    shot(vendor, "vendor-feed-run-phone")

    # the admin sees it on the overview (last run partial), runs it again: all rows succeed
    admin = new_page()
    sign_in(admin, ADMIN)
    expect(admin.get_by_test_id("failing-runs")).to_have_text("1")
    expect(admin.locator("#failing-runs")).to_contain_text("Baltic stock file")
    feed_server.body = _stock_csv(skus)
    admin.goto(f"/feeds/{feed_id}")
    admin.click("#run-now button")
    assert run_queued_feeds(database) == 1
    admin.reload()
    expect(admin.get_by_test_id("run-status")).to_have_text("Succeeded")
    expect(admin.get_by_test_id("rows-unchanged")).to_have_text("10")
    admin.goto("/")
    expect(admin.get_by_test_id("failing-runs")).to_have_text("0")

    # half the file goes missing: the guard holds the run, the admin approves it
    feed_server.body = _stock_csv(dict.fromkeys(list(skus)[:5], 99))
    admin.goto(f"/feeds/{feed_id}")
    admin.click("#run-now button")
    assert run_queued_feeds(database) == 1
    admin.reload()
    expect(admin.get_by_test_id("run-status")).to_have_text("Held")
    expect(admin.get_by_test_id("run-problem")).to_contain_text("missing from the file")
    held_url = admin.url
    admin.goto("/")
    expect(admin.get_by_test_id("failing-runs")).to_have_text("1")
    admin.goto(held_url)
    shot(admin, "feed-run-held")
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.click("#approve button")
    expect(admin.locator(".flash-ok")).to_contain_text("approved")
    expect(admin.get_by_test_id("run-status")).to_have_text("Queued")
    assert run_queued_feeds(database) == 1
    admin.reload()
    expect(admin.get_by_test_id("run-status")).to_have_text("Succeeded")
    expect(admin.get_by_test_id("rows-cleaned")).to_have_text("5")
    with database.transaction() as session:
        stock = dict(
            session.execute(
                select(
                    InventoryFeedVariant.vendor_sku, InventoryFeedVariant.inventory_quantity
                ).where(InventoryFeedVariant.inventory_feed_id == feed_id)
            ).all()
        )
    assert stock == {k: (99 if i < 5 else 0) for i, k in enumerate(skus)}
    admin.goto(f"/feeds/{feed_id}")
    expect(admin.locator("#runs tbody tr")).to_have_count(3)
    admin.goto(f"/feeds/{feed_id}/runs?sort=id&dir=asc")
    expect(admin.locator("tbody tr").first).to_contain_text("Partial")
    shot(admin, "feed-runs")

    # the other vendor reaches none of it
    other = new_page()
    sign_in(other, OTHER_VENDOR)
    response = other.goto(f"/vendor/feeds/{feed_id}/runs")
    assert response is not None and response.status == 404
    csrf = other.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = other.request.post(f"/vendor/feeds/{feed_id}/run", form={"csrf_token": csrf or ""})
    assert answer.status == 404


def _baltic_order(database: Database, demo: Demo) -> int:
    """A new order of two lines of duvet covers (2 and 3; the second a gift), from Baltic Linen
    (no warehouse stocks them)."""
    with database.transaction() as session:
        channel = session.scalars(select(Channel).order_by(Channel.id)).first()
        assert channel is not None
        body = ManualSale.model_validate(
            {
                "externalId": "web-partial-ship",
                "saleDefaults": {"receiverCountry": "US", "receiverFirstName": "Ada"},
                "lineItems": [
                    {
                        "externalId": "1",
                        "quantity": 2,
                        "price": 90,
                        "variant": {"sku": "BL-DUVET-KING"},
                    },
                    {
                        "externalId": "2",
                        "quantity": 3,
                        "price": 30,
                        "variant": {"sku": "BL-DUVET-KING"},
                    },
                ],
            }
        )
        sale, _ = upsert_manual_sale(session, channel=channel, data=body, actor="test")
        (purchase,) = sale.purchases
        assert purchase.dropship_provider_id == demo.baltic_id
        return purchase.id


def test_vendor_ships_part_of_a_purchase_order_line_by_line(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    purchase_id = _baltic_order(database, demo)
    with database.transaction() as session:
        purchase = session.get(Purchase, purchase_id)
        assert purchase is not None
        lines = {item.quantity: item.id for item in purchase.items}
    duvets, pillows = lines[2], lines[3]  # the two lines
    page = new_page(390, 844)
    sign_in(page, VENDOR, path=f"/vendor/purchases/{purchase_id}")
    expect(page.locator(f"#ship input[name=ship_{duvets}]")).to_have_value("2")
    expect(page.locator(f"#ship input[name=ship_{pillows}]")).to_have_value("3")

    # asking for more than is open is the service's refusal, flashed; nothing ships
    page.evaluate(f"document.querySelector('#ship-{duvets}').removeAttribute('max')")
    page.fill(f"#ship-{duvets}", "5")
    page.fill("#ship input[name=carrier]", "DHL")
    page.fill("#ship input[name=tracking_number]", "JD-TOO-MANY")
    page.click("#ship button")
    expect(page.locator(".flash-error")).to_contain_text("only 2 left to ship")

    # first parcel: 1 unit of the first line, 2 of the second
    page.fill(f"#ship-{duvets}", "1")
    page.fill(f"#ship-{pillows}", "2")
    page.fill("#ship input[name=carrier]", "DHL")
    page.fill("#ship input[name=tracking_number]", "JD-PART-1")
    page.click("#ship button")
    expect(page.locator(".flash-ok")).to_contain_text("Shipment")
    expect(page.locator("#fulfillments tbody tr")).to_have_count(1)
    expect(page.locator("p .badge").first).to_have_text("Partly shipped")
    expect(page.locator(f"#ship input[name=ship_{duvets}]")).to_have_value("1")
    expect(page.locator(f"#ship input[name=ship_{pillows}]")).to_have_value("1")
    shot(page, "vendor-partial-ship-phone")

    # a parcel of nothing is refused before the service is asked
    page.fill(f"#ship-{duvets}", "0")
    page.fill(f"#ship-{pillows}", "0")
    page.fill("#ship input[name=carrier]", "DHL")
    page.fill("#ship input[name=tracking_number]", "JD-EMPTY")
    page.click("#ship button")
    expect(page.locator(".flash-error")).to_contain_text("at least one line")

    # second parcel: the rest, as filled in
    page.fill("#ship input[name=carrier]", "UPS")
    page.fill("#ship input[name=tracking_number]", "1Z-PART-2")
    page.click("#ship button")
    expect(page.locator("#fulfillments tbody tr")).to_have_count(2)
    expect(page.locator("#ship")).to_have_count(0)
    expect(page.locator("p .badge").first).to_have_text("Shipped")
    with database.transaction() as session:
        shipped = session.execute(
            select(
                Fulfillment.tracking_number,
                FulfillmentItem.purchase_item_id,
                FulfillmentItem.quantity,
            )
            .join(FulfillmentItem, FulfillmentItem.fulfillment_id == Fulfillment.id)
            .where(Fulfillment.purchase_id == purchase_id)
            .order_by(Fulfillment.id, FulfillmentItem.purchase_item_id)
        ).all()
    assert sorted(shipped) == sorted(
        [
            ("JD-PART-1", duvets, 1),
            ("JD-PART-1", pillows, 2),
            ("1Z-PART-2", duvets, 1),
            ("1Z-PART-2", pillows, 1),
        ]
    )

    admin = new_page()
    sign_in(admin, ADMIN, path=f"/purchases/{purchase_id}")
    expect(admin.locator("#fulfillments")).to_contain_text("JD-PART-1")
    expect(admin.locator("#fulfillments tbody tr").first).to_contain_text(
        "2 \N{MULTIPLICATION SIGN}"
    )


CLIENT_SECRET = "ep-client-secret-7c1f0a"
HOOK_SECRET = "ep-hook-secret-93bd55"


def test_channels_show_elastic_path_settings_never_secrets_and_a_sale_its_returns(
    new_page: NewPage,
    demo: Demo,
    database: Database,
    client: TestClient,
    configure: Callable[..., Settings],
) -> None:
    configure(secret_key="web-test-key-0123456789abcdef")
    created = client.post(
        "/api/channels.json",
        json={
            "name": "EP Store",
            "parentChannel": "elasticPath",
            "elasticPath": {
                "baseUrl": "http://127.0.0.1:9",
                "clientId": "client-abc",
                "clientSecret": CLIENT_SECRET,
                "webhookSecret": HOOK_SECRET,
                "shippingSkus": ["STANDARD-DELIVERY"],
            },
        },
    )
    assert created.status_code == 201, created.text
    channel_id = created.json()["id"]
    # a purchase status set the API's way, and a return of the demo's one shipped unit
    statuses = {s["name"]: s["id"] for s in client.get("/api/purchase-statuses.json").json()}
    sale = client.get(f"/api/sales/{demo.sale_ids[1]}.json").json()
    baltic = next(p for p in sale["purchases"] if p["dropshipProviderId"] == demo.baltic_id)
    assert client.put(
        f"/api/purchases/{baltic['id']}.json", json={"purchaseStatusId": statuses["Rejected"]}
    ).is_success
    shipped = next(i for i in sale["saleItems"] if i["quantityShipped"] > 0)
    returned = client.post(
        f"/api/sales/{sale['id']}/returns.json",
        json={
            "items": [{"saleItemId": shipped["id"], "quantity": 1}],
            "reason": "wrong colour",
            "refundAmount": 25,
        },
    )
    assert returned.status_code == 201, returned.text

    page = new_page()
    sign_in(page, ADMIN, path="/channels")
    card = page.locator(f"section[data-channel='{channel_id}']")
    expect(card.get_by_test_id("ep-base-url")).to_have_text("http://127.0.0.1:9")
    expect(card.get_by_test_id("ep-client-secret")).to_have_text("set (never shown)")
    expect(card.get_by_test_id("ep-webhook-secret")).to_have_text("set (never shown)")
    expect(card).to_contain_text(f"/webhooks/elasticpath/{channel_id}")
    expect(card).to_contain_text("STANDARD-DELIVERY")
    html = page.content()
    assert CLIENT_SECRET not in html and HOOK_SECRET not in html
    with database.transaction() as session:
        sealed = session.scalars(select(ElasticPathStore.client_secret_sealed)).one()
    assert sealed is not None and sealed not in html
    shot(page, "channels")

    page.goto(f"/sales/{sale['id']}")
    expect(page.locator("#purchases").get_by_test_id("purchase-status")).to_have_text("Rejected")
    returns = page.locator("#returns tbody tr")
    expect(returns).to_have_count(1)
    expect(returns.first).to_contain_text(returned.json()["reference"])
    expect(returns.first).to_contain_text(f"{shipped['sku']}: 1 returned")
    expect(returns.first).to_contain_text("wrong colour")
    expect(
        page.locator(f"tr[data-line='{shipped['id']}']").get_by_test_id("returned")
    ).to_have_text("1")
    expect(page.locator("h1 + p")).to_contain_text("Partly returned")
    shot(page, "sale-returns")
    page.goto(f"/purchases/{baltic['id']}")
    expect(page.get_by_test_id("purchase-status")).to_have_text("Rejected")
