"""Dashboard lists at depth, over HTTP: pages follow by cursor, errors come first from two
index scans, and the inventory search finds SKUs by their start."""

import html
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dropwire.apilog.models import ApiLog, Direction, LogStatus
from dropwire.catalog.models import Product, Variant
from dropwire.core.db import Database
from dropwire.core.time import utcnow
from dropwire.vendors.models import DropshipProvider
from tests.web.conftest import ADMIN, PASSWORD, Demo


@pytest.fixture
def admin(app: FastAPI, demo: Demo) -> Iterator[TestClient]:
    with TestClient(app) as client:
        form = client.get("/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        signed_in = client.post(
            "/sign-in",
            data={"email": ADMIN, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303
        yield client


def next_link(page: str) -> str | None:
    found = re.search(r'<a href="([^"]*)" rel="next">', page)
    return html.unescape(found.group(1)) if found else None


def prev_link(page: str) -> str | None:
    found = re.search(r'<a href="([^"]*)" rel="prev">', page)
    return html.unescape(found.group(1)) if found else None


def test_vendor_pages_follow_by_cursor_through_every_row_once(admin, database: Database):
    with database.transaction() as session:
        session.add_all(DropshipProvider(name=f"Deep vendor {n:03d}") for n in range(120))
    url: str | None = "/vendors?sort=name&dir=asc"
    seen: list[str] = []
    pages = []
    while url is not None:
        page = admin.get(url if url.startswith("/") else "/vendors" + url)
        assert page.status_code == 200
        pages.append(page.text)
        seen += re.findall(r"<tr><td>(?:<a [^>]*>)?([^<]+)<", page.text)
        url = next_link(page.text)
    ours = [name for name in seen if name.startswith("Deep vendor")]
    assert ours == [f"Deep vendor {n:03d}" for n in range(120)]
    assert len(seen) == len(set(seen))
    assert "after=" in (next_link(pages[0]) or "")  # by cursor, not by offset
    third = admin.get("/vendors" + (next_link(pages[1]) or ""))
    back = admin.get("/vendors" + (prev_link(third.text) or ""))
    assert re.findall(r"<tr><td>(?:<a [^>]*>)?([^<]+)<", back.text) == re.findall(
        r"<tr><td>(?:<a [^>]*>)?([^<]+)<", pages[1]
    )


def test_api_log_page_shows_errors_first_then_the_rest_across_pages(admin, database: Database):
    start = utcnow() - timedelta(hours=1)
    with database.transaction() as session:
        session.add_all(
            ApiLog(
                direction=Direction.inbound_sync,
                method="GET",
                endpoint=f"/api/deep/{n}",
                status=LogStatus.error if n % 25 == 0 else LogStatus.success,
                http_status=422 if n % 25 == 0 else 200,
                created_at=start + timedelta(seconds=n),
            )
            for n in range(1, 101)
        )
    url: str | None = "/api-logs"
    shown: list[int] = []
    while url is not None:
        page = admin.get(url if url.startswith("/") else "/api-logs" + url)
        assert page.status_code == 200
        shown += [int(n) for n in re.findall(r"GET /api/deep/(\d+)", page.text)]
        url = next_link(page.text)
    errors = [100, 75, 50, 25]
    assert shown[:4] == errors
    assert shown[4:] == [n for n in range(100, 0, -1) if n not in errors]


def test_inventory_search_finds_skus_by_their_start_then_names(admin, database: Database):
    with database.transaction() as session:
        product = Product(name="Search")
        session.add(product)
        session.flush()
        for sku, name in [("ZQ-100", "Lamp"), ("zq-200", "Desk"), ("XZQ-1", "Chair"), ("Z%Q", "x")]:
            session.add(Variant(product_id=product.id, sku=sku, sku_key=sku.lower(), name=name))

    def found(query: str) -> list[str]:
        page = admin.get("/inventory", params={"q": query})
        assert page.status_code == 200
        return re.findall(r">(ZQ-100|zq-200|XZQ-1|Z%Q)<", page.text)

    assert sorted(found("zq")) == ["ZQ-100", "zq-200"]
    assert found("z%") == ["Z%Q"]  # a literal percent sign, no wildcard
    assert found("Chai") == ["XZQ-1"]  # no SKU starts so: the names


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_feed_items_sorted_on_a_column_with_empty_values_page_by_cursor(
    admin, database: Database, direction: str
):
    """Items never updated have no `updated` time: pages still follow by cursor, each item
    once, in the order one unpaged read gives."""
    from sqlalchemy import select

    from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant

    start = utcnow() - timedelta(days=1)
    with database.transaction() as session:
        feed_id = session.scalar(select(InventoryFeed.id).order_by(InventoryFeed.id).limit(1))
        session.add_all(
            InventoryFeedVariant(
                inventory_feed_id=feed_id,
                external_id=f"deep-{n}",
                vendor_sku=f"DEEPSKU-{n:03d}",
                vendor_sku_key=f"deepsku-{n:03d}",
                inventory_updated_at=None if n % 3 == 0 else start + timedelta(minutes=n % 7),
            )
            for n in range(130)
        )
    base = f"/feeds/{feed_id}"
    url: str | None = f"?sort=updated&dir={direction}"
    pages: list[list[str]] = []
    while url is not None:
        page = admin.get(base + url)
        assert page.status_code == 200
        pages.append(re.findall(r"DEEPSKU-(\d+)", page.text))
        url = next_link(page.text)
    seen = [sku for page in pages for sku in page]
    assert sorted(seen) == [f"{n:03d}" for n in range(130)]  # each once
    assert "after=" in (next_link(admin.get(base + f"?sort=updated&dir={direction}").text) or "")
    with database.transaction() as session:
        column = InventoryFeedVariant.inventory_updated_at
        order = column.asc() if direction == "asc" else column.desc()
        expected = [
            sku.removeprefix("DEEPSKU-")
            for sku in session.scalars(
                select(InventoryFeedVariant.vendor_sku)
                .where(InventoryFeedVariant.vendor_sku.like("DEEPSKU-%"))
                .order_by(order, InventoryFeedVariant.id.desc())
            )
        ]
    assert seen == expected


def test_sales_sorted_by_channel_page_by_cursor_each_sale_once(admin, database: Database):
    """The channel's name is read per row (a subquery, not a join): sorting by it still pages
    by cursor through every sale once, the channels in order."""
    from dropwire.channels.models import Channel
    from dropwire.sales.models import Sale

    with database.transaction() as session:
        channels = [Channel(name="Aardvark shop"), Channel(name="Zebra shop")]
        session.add_all(channels)
        session.flush()
        session.add_all(
            Sale(
                channel_id=channels[n % 2].id,
                external_id=f"deep-{n}",
                reference=f"DEEP{'AZ'[n % 2]}{n:03d}",
            )
            for n in range(70)
        )
    url: str | None = "/sales?sort=channel&dir=asc"
    shown: list[str] = []
    while url is not None:
        page = admin.get(url if url.startswith("/") else "/sales" + url)
        assert page.status_code == 200
        shown += re.findall(r">(DEEP[AZ]\d{3})<", page.text)
        url = next_link(page.text)
    assert len(shown) == len(set(shown)) == 70
    letters = [reference[4] for reference in shown]
    assert letters == sorted(letters)  # every Aardvark sale before every Zebra sale
