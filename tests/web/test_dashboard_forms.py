"""The merchant's create/edit forms and actions beyond vendors and feeds, in a real browser:
channels (Elastic Path and custom), variants and products, people, API tokens, connecting feed
items, resending purchase orders. Each refuses a bad value next to its field, keeps what was
typed, saves through the API's service, and fits a 390 px phone."""

from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlalchemy import select

from dropwire.channels.models import Channel
from dropwire.connectors.elasticpath.service import find_store
from dropwire.core.db import Database
from tests.web.conftest import ADMIN, Demo, sign_in

NewPage = Callable[..., Page]
PHONE = {"width": 390, "height": 844}
SECRET = "ep-client-secret-8c1f"


def _submit(page: Page) -> None:
    page.click("form.edit-form button[type=submit]")


def _fits_a_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.set_viewport_size({"width": 1280, "height": 900})


def test_add_an_elastic_path_channel_its_secrets_write_only_then_edit_it(
    new_page: NewPage, demo: Demo, database: Database, configure: Callable[..., object]
) -> None:
    configure(secret_key="a-key-for-the-tests-only-0123456789")
    page = new_page()
    sign_in(page, ADMIN, path="/channels")
    page.click("text=Add an Elastic Path channel")
    _fits_a_phone(page)
    page.fill("#f-name", "EP store")
    page.fill("[id='f-elasticPath.baseUrl']", "not a web address")
    page.fill("[id='f-elasticPath.clientId']", "client-1")
    page.fill("[id='f-elasticPath.shippingSkus']", "SHIP-STD, SHIP-EXP")
    _submit(page)
    expect(page.get_by_test_id("error-elasticPath.baseUrl")).to_be_visible()
    expect(page.locator("#f-name")).to_have_value("EP store")
    page.fill("[id='f-elasticPath.baseUrl']", "https://useast.api.elasticpath.com")
    _submit(page)  # a new store needs its client secret: said next to that field
    expect(page.get_by_test_id("error-elasticPath.clientSecret")).to_contain_text("required")
    page.fill("[id='f-elasticPath.clientSecret']", SECRET)
    page.select_option("#f-inventorySync", "feeds")
    _submit(page)
    expect(page.locator(".flash-ok")).to_contain_text("Channel EP store added")
    card = page.locator("section.card:has(h2:has-text('EP store'))")
    expect(card.get_by_test_id("ep-client-secret")).to_have_text("set (never shown)")
    expect(card.get_by_test_id("ep-base-url")).to_have_text("https://useast.api.elasticpath.com")
    assert SECRET not in page.content()
    with database.transaction() as session:
        channel = session.scalars(select(Channel).where(Channel.name == "EP store")).one()
        store = find_store(session, channel.id)
        assert store is not None
        assert (channel.parent_channel, channel.inventory_sync) == ("elasticPath", "feeds")
        assert (store.client_id, store.shipping_skus) == ("client-1", ["SHIP-STD", "SHIP-EXP"])
        sealed = store.client_secret_sealed
        assert sealed and SECRET not in sealed

    card.get_by_role("link", name="Edit").click()
    expect(page.locator("[id='f-elasticPath.clientSecret']")).to_have_value("")
    expect(page.locator("[data-field='elasticPath.clientSecret']")).to_contain_text("never shown")
    assert SECRET not in page.content()
    expect(page.locator("[id='f-elasticPath.clientId']")).to_have_value("client-1")
    page.fill("[id='f-elasticPath.clientId']", "client-2")
    page.fill("#f-currency", "euros")
    _submit(page)
    expect(page.get_by_test_id("error-currency")).to_be_visible()
    expect(page.locator("[id='f-elasticPath.clientId']")).to_have_value("client-2")
    page.fill("#f-currency", "EUR")
    _submit(page)
    expect(page.locator(".flash-ok")).to_contain_text("Channel EP store saved")
    with database.transaction() as session:
        channel = session.get(Channel, channel.id)
        assert channel is not None
        store = find_store(session, channel.id)
        assert store is not None
        assert (channel.currency, store.client_id) == ("EUR", "client-2")
        assert store.client_secret_sealed == sealed  # an empty secret box keeps the secret


def test_add_a_custom_channel_with_its_endpoints_then_clear_one(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    page = new_page()
    sign_in(page, ADMIN, path="/channels")
    page.click("text=Add a Custom channel")
    page.fill("#f-name", "Headless shop")
    page.fill("[id='f-customChannel.inventoryEndpoint']", "ftp://shop.example/stock")
    page.fill("[id='f-customChannel.fulfillmentEndpoint']", "https://shop.example/fulfil")
    _submit(page)
    expect(page.get_by_test_id("error-customChannel.inventoryEndpoint")).to_be_visible()
    expect(page.locator("[id='f-customChannel.fulfillmentEndpoint']")).to_have_value(
        "https://shop.example/fulfil"
    )
    page.fill("[id='f-customChannel.inventoryEndpoint']", "https://shop.example/stock")
    _submit(page)
    expect(page.locator(".flash-ok")).to_contain_text("Channel Headless shop added")
    card = page.locator("section.card:has(h2:has-text('Headless shop'))")
    expect(card).to_contain_text("https://shop.example/stock")
    expect(card.get_by_text("reveal")).to_be_visible()  # the hash is made, and hidden
    with database.transaction() as session:
        channel = session.scalars(select(Channel).where(Channel.name == "Headless shop")).one()
        assert channel.custom_channel is not None
        assert channel.custom_channel.fulfillment_endpoint == "https://shop.example/fulfil"

    card.get_by_role("link", name="Edit").click()
    _fits_a_phone(page)
    page.fill("[id='f-customChannel.fulfillmentEndpoint']", "")
    page.uncheck("input[name='customChannel.enabled']")
    page.fill("#f-name", "Headless shop EU")
    _submit(page)
    expect(page.locator(".flash-ok")).to_contain_text("saved")
    with database.transaction() as session:
        channel = session.get(Channel, channel.id)
        assert channel is not None and channel.custom_channel is not None
        custom = channel.custom_channel
        assert (custom.fulfillment_endpoint, custom.enabled, custom.name) == (
            None,
            False,
            "Headless shop EU",
        )
        assert custom.inventory_endpoint == "https://shop.example/stock"
