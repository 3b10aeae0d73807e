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
from tests.web.conftest import ADMIN, VENDOR, Demo, sign_in

NewPage = Callable[..., Page]
PHONE = {"width": 390, "height": 844}
SECRET = "ep-client-secret-8c1f"


def _submit(page: Page) -> None:
    page.click("form.edit-form button[type=submit]")


def _form_fits_a_phone(page: Page) -> None:
    """`_fits_a_phone` once the form a click navigated to is there (measured mid-navigation,
    the new document has no root element yet)."""
    expect(page.locator("form.edit-form")).to_be_visible()
    _fits_a_phone(page)


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
    _form_fits_a_phone(page)
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
        store = find_store(session, channel_id=channel.id)
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
        store = find_store(session, channel_id=channel.id)
        assert store is not None
        assert (channel.currency, store.client_id) == ("EUR", "client-2")
        assert store.client_secret_sealed == sealed  # an empty secret box keeps the secret


def test_add_a_custom_channel_with_its_endpoints_then_clear_one_and_rotate_its_hash(
    new_page: NewPage, demo: Demo, database: Database, live_server: str
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
    _form_fits_a_phone(page)
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

    page.goto("/channels")
    card = page.locator("section.card:has(h2:has-text('Headless shop EU'))")
    card.get_by_text("reveal").click()
    old_hash = card.get_by_test_id("hash").inner_text()
    hooks = f"{live_server}/webhooks/custom-channels/products.json"
    assert page.request.post(hooks, headers={"jetti-webhook-hash": old_hash}, data=[]).status != 401
    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name="Rotate the hash").click()
    expect(page.locator(".flash-ok")).to_contain_text("the old one no longer works")
    new_hash = card.get_by_test_id("hash").inner_text()  # shown at once, to give the store
    assert new_hash and new_hash != old_hash
    assert page.request.post(hooks, headers={"jetti-webhook-hash": old_hash}, data=[]).status == 401
    assert page.request.post(hooks, headers={"jetti-webhook-hash": new_hash}, data=[]).status != 401


def test_people_invite_a_vendor_user_and_deactivate_then_reactivate_one(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    vendor_page = new_page()
    sign_in(vendor_page, VENDOR)
    page = new_page()
    sign_in(page, ADMIN, path="/users")
    emails = page.locator("#users tbody tr td:first-child").all_inner_texts()
    assert emails == sorted(emails) and ADMIN in emails and VENDOR in emails
    own = page.locator("#users tbody tr", has_text=ADMIN)
    expect(own.get_by_role("button")).to_have_count(0)  # nobody deactivates themselves
    _fits_a_phone(page)

    page.fill("#f-email", "not an address")
    page.select_option("#f-dropshipProviderId", label="Baltic Linen Co.")
    _submit(page)
    expect(page.get_by_test_id("error-email")).to_be_visible()
    page.fill("#f-email", "Ana@Baltic.test")
    page.fill("#f-name", "Ana Ozola")
    _submit(page)
    expect(page.get_by_test_id("invite-link")).to_contain_text("/password/set")
    invited = page.locator("#users tbody tr", has_text="ana@baltic.test")
    expect(invited).to_contain_text("never")
    expect(invited).to_contain_text("Baltic Linen Co.")
    page.goto("/users")
    expect(page.get_by_test_id("invite-link")).to_have_count(0)  # shown once

    row = page.locator("#users tbody tr", has_text=VENDOR)
    row.get_by_role("button", name="Deactivate").click()
    expect(page.locator(".flash-ok")).to_contain_text(f"{VENDOR} can no longer sign in")
    expect(row.get_by_test_id("status")).to_have_text("Deactivated")
    vendor_page.goto("/vendor")
    assert "/sign-in" in vendor_page.url  # the open session stopped at once
    row.get_by_role("button", name="Reactivate").click()
    expect(row.get_by_test_id("status")).to_have_text("Active")
    sign_in(vendor_page, VENDOR)
    assert vendor_page.url.endswith("/vendor")


def test_api_tokens_shown_once_vendor_scoped_and_revoked(
    new_page: NewPage, demo: Demo, database: Database, live_server: str
) -> None:
    page = new_page()
    sign_in(page, ADMIN, path="/tokens")
    page.fill("#f-email", "ci@shop.test")
    page.select_option("#f-role", "dropship_provider")  # a vendor's token names the vendor
    _submit(page)
    expect(page.get_by_test_id("error-dropshipProviderId")).to_be_visible()
    expect(page.locator("#f-email")).to_have_value("ci@shop.test")
    page.select_option("#f-dropshipProviderId", label="Baltic Linen Co.")
    _submit(page)
    vendor_token = page.get_by_test_id("new-token").inner_text()
    row = page.locator("#tokens tbody tr", has_text="ci@shop.test")
    expect(row).to_contain_text("Vendor: Baltic Linen Co.")
    expect(row.get_by_test_id("prefix")).to_have_text(vendor_token[:10] + "…")

    page.fill("#f-email", "ops@shop.test")
    page.select_option("#f-role", "api")
    _submit(page)
    token = page.get_by_test_id("new-token").inner_text()
    assert token.startswith("dw_") and len(token) > 30
    api = page.request
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get(f"{live_server}/api/dropship-providers.json", headers=auth).status == 200
    vendors = api.get(
        f"{live_server}/api/dropship-providers.json",
        headers={"Authorization": f"Bearer {vendor_token}"},
    ).json()
    assert [v["id"] for v in vendors] == [demo.baltic_id]  # scoped to its vendor

    page.goto("/tokens")
    assert token not in page.content() and vendor_token not in page.content()
    names = page.locator("#tokens tbody tr td:first-child").all_inner_texts()
    assert names == sorted(names, key=str.lower)
    _fits_a_phone(page)
    row = page.locator("#tokens tbody tr", has_text="ops@shop.test")
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator(".flash-ok")).to_contain_text("revoked")
    expect(row.get_by_test_id("status")).to_have_text("Revoked")
    assert api.get(f"{live_server}/api/dropship-providers.json", headers=auth).status == 401


def test_add_a_variant_as_a_new_product_then_edit_it_and_add_a_sibling(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    from decimal import Decimal

    from dropwire.catalog.models import Variant

    with database.transaction() as session:
        taken = session.get(Variant, demo.variant_ids[0])
        assert taken is not None
        taken_sku = taken.sku
    page = new_page()
    sign_in(page, ADMIN, path="/inventory")
    page.click("text=Add a variant")
    _form_fits_a_phone(page)
    page.fill("#f-sku", taken_sku)
    page.fill("#f-name", "Fjord Bowl")
    page.fill("#f-price", "24.50")
    page.fill("#f-options", '[{"name": "Colour", "value": "Sea"}]')
    page.fill("#f-tags", "ceramics, kitchen")
    _submit(page)
    expect(page.get_by_test_id("error-sku")).to_contain_text("already used")
    expect(page.locator("#f-name")).to_have_value("Fjord Bowl")
    page.fill("#f-sku", "FJ-BOWL-SEA")
    page.fill("#f-grams", "-3")
    _submit(page)
    expect(page.get_by_test_id("error-grams")).to_be_visible()
    page.fill("#f-grams", "640")
    _submit(page)
    expect(page.locator(".flash-ok")).to_contain_text("Variant FJ-BOWL-SEA added")
    expect(page.locator("h1")).to_contain_text("FJ-BOWL-SEA")
    expect(page.get_by_test_id("price")).to_have_text("24.50")
    with database.transaction() as session:
        variant = session.scalars(select(Variant).where(Variant.sku == "FJ-BOWL-SEA")).one()
        assert (variant.price, variant.grams, variant.tags) == (
            Decimal("24.50"),
            640,
            ["ceramics", "kitchen"],
        )
        assert [(o["name"], o["value"]) for o in variant.options] == [("Colour", "Sea")]
        assert variant.product.name == "Fjord Bowl"
        product_id = variant.product_id

    page.click("#variant-facts ~ .actions >> text=Edit")
    expect(page.locator("#f-tags")).to_have_value("ceramics, kitchen")
    page.fill("#f-price", "twenty")
    _submit(page)
    expect(page.get_by_test_id("error-price")).to_be_visible()
    page.fill("#f-price", "26.00")
    page.fill("#f-tags", "")
    _submit(page)
    expect(page.locator(".flash-ok")).to_contain_text("Variant FJ-BOWL-SEA saved")
    expect(page.get_by_test_id("price")).to_have_text("26.00")

    page.click("text=Add a variant to this product")
    expect(page.locator("#f-productId")).to_have_value(str(product_id))
    page.fill("#f-sku", "FJ-BOWL-SAND")
    page.fill("#f-name", "Fjord Bowl, sand")
    _submit(page)
    expect(page.locator(".flash-ok")).to_contain_text("Variant FJ-BOWL-SAND added")
    with database.transaction() as session:
        variant = session.scalars(select(Variant).where(Variant.sku == "FJ-BOWL-SEA")).one()
        assert (variant.price, variant.tags) == (Decimal("26.00"), [])
        sibling = session.scalars(select(Variant).where(Variant.sku == "FJ-BOWL-SAND")).one()
        assert sibling.product_id == product_id


def test_connect_a_feed_item_to_a_variant_by_sku_then_disconnect_it(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    from dropwire.catalog.models import Variant
    from dropwire.catalog.schemas import VariantCreate
    from dropwire.catalog.service import create_variant
    from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant
    from dropwire.feeds.schemas import FeedVariantData
    from dropwire.feeds.service import upsert_feed_variant

    with database.transaction() as session:
        feed = session.scalars(
            select(InventoryFeed).where(InventoryFeed.dropship_provider_id == demo.baltic_id)
        ).first()
        assert feed is not None
        stocked = session.scalars(
            select(InventoryFeedVariant).where(
                InventoryFeedVariant.inventory_feed_id == feed.id,
                InventoryFeedVariant.variant_id.is_not(None),
            )
        ).first()
        assert stocked is not None and stocked.variant_id is not None
        taken = session.get(Variant, stocked.variant_id)
        assert taken is not None
        taken_sku = taken.sku  # another item of this feed stocks it
        variant = create_variant(
            session, data=VariantCreate(sku="BL-THROW-OAT", name="Linen Throw, oat")
        )
        item = upsert_feed_variant(
            session,
            feed=feed,
            data=FeedVariantData(external_id="9931", vendor_sku="LT-9931", inventory_quantity=7),
        ).feed_variant
        assert item.variant_id is None
        feed_id, item_id, variant_id = feed.id, item.id, variant.id

    page = new_page()
    sign_in(page, ADMIN, path=f"/feeds/{feed_id}")
    row = page.locator(f"tr[data-item='{item_id}']")
    expect(row.get_by_test_id("connected")).to_contain_text("not connected")
    row.get_by_role("link", name="Connect").click()
    expect(page.locator("h1")).to_contain_text("Connect LT-9931")
    _fits_a_phone(page)
    page.fill("#f-sku", taken_sku)
    page.click("#connect-form button[type=submit]")
    expect(page.get_by_test_id("error-sku")).to_contain_text("already stocks")
    expect(page.locator("#f-sku")).to_have_value(taken_sku)
    page.fill("#f-sku", "NO-SUCH-SKU")
    page.click("#connect-form button[type=submit]")
    expect(page.get_by_test_id("error-sku")).to_contain_text("No variant has the SKU NO-SUCH-SKU")
    page.fill("input[name=q]", "BL-THROW")
    page.click("form[role=search] button")
    page.click("text=Connect to BL-THROW-OAT")
    expect(page.locator(".flash-ok")).to_contain_text("LT-9931 is connected to BL-THROW-OAT")
    expect(row.get_by_test_id("connected")).to_contain_text("BL-THROW-OAT")
    row.get_by_role("link", name="BL-THROW-OAT").click()
    expect(page.get_by_test_id("stocked")).to_have_text("7")

    page.get_by_role("button", name="Disconnect").click()
    expect(page.locator(".flash-ok")).to_contain_text("LT-9931 is no longer connected")
    assert page.url.endswith(f"/inventory/{variant_id}")
    expect(page.get_by_test_id("stocked")).to_have_text("0")
    with database.transaction() as session:
        item = session.get(InventoryFeedVariant, item_id)
        assert item is not None and item.variant_id is None


def test_resend_a_purchase_order_then_retry_its_delivery_from_the_detail_page(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    from dropwire.delivery.models import Delivery, DeliveryAttempt, DeliveryState
    from dropwire.sales.models import Purchase

    def deliveries(purchase_id: int) -> list[int]:
        with database.transaction() as session:
            return list(
                session.scalars(
                    select(Delivery.id)
                    .where(Delivery.subject_type == "purchase", Delivery.subject_id == purchase_id)
                    .order_by(Delivery.id)
                )
            )

    from dropwire.vendors.models import DropshipProvider, PurchaseOrderDelivery

    with database.transaction() as session:
        purchase = session.get(Purchase, demo.baltic_purchase_id)
        vendor = session.get(DropshipProvider, demo.baltic_id)
        assert purchase is not None and vendor is not None
        vendor.purchase_order_delivery = PurchaseOrderDelivery.webhook  # to its order system
        vendor.order_endpoint = "https://orders.baltic.example/po"
        purchase_id, reference = purchase.id, purchase.external_reference
    before = deliveries(purchase_id)
    page = new_page()
    sign_in(page, ADMIN, path=f"/purchases/{purchase_id}")
    page.get_by_role("button", name="Send again").click()
    expect(page.locator(".flash-ok")).to_contain_text(
        f"Purchase order {reference} is being sent again"
    )
    after = deliveries(purchase_id)
    assert len(after) == len(before) + 1  # one more message to the vendor's endpoint
    resent = after[-1]
    with database.transaction() as session:  # the vendor's endpoint answered 502, twice
        delivery = session.get(Delivery, resent)
        assert delivery is not None
        delivery.state = DeliveryState.dead
        for _ in range(2):
            session.add(
                DeliveryAttempt(
                    delivery_id=resent,
                    http_status=502,
                    latency_ms=40.0,
                    response_excerpt="<h1>Bad gateway</h1> upstream order service down",
                )
            )
    page.goto(f"/deliveries/{resent}")
    expect(page.get_by_test_id("attempts")).to_have_text("2")
    expect(page.locator("#attempts")).to_contain_text("upstream order service down")
    expect(page.get_by_test_id("body")).to_contain_text(reference)
    _fits_a_phone(page)
    page.get_by_role("button", name="Retry").click()
    expect(page.locator(".flash-ok")).to_contain_text(f"Delivery #{resent} will be sent again")
    with database.transaction() as session:
        delivery = session.get(Delivery, resent)
        assert delivery is not None and delivery.state != DeliveryState.dead


def test_a_vendor_makes_and_revokes_its_own_tokens_in_the_portal_only(
    new_page: NewPage, demo: Demo, database: Database, live_server: str
) -> None:
    from dropwire.auth.models import ApiUser
    from dropwire.auth.service import create_api_user

    with database.transaction() as session:
        other, _ = create_api_user(
            session, name="northwind-erp", dropship_provider_id=demo.northwind_id
        )
        other_id = other.id
    page = new_page()
    sign_in(page, VENDOR, path="/vendor/tokens")
    expect(page.locator("#f-role")).to_have_count(0)  # no scope to pick: always its own
    page.fill("#f-email", "x")
    page.click("#make-token button[type=submit]")
    expect(page.get_by_test_id("error-email")).to_be_visible()
    page.fill("#f-email", "erp@baltic.test")
    page.click("#make-token button[type=submit]")
    token = page.get_by_test_id("new-token").inner_text()
    expect(page.locator("#tokens tbody tr")).to_have_count(1)  # never another vendor's
    expect(page.locator("#tokens")).to_contain_text("Vendor: Baltic Linen Co.")
    answer = page.request.get(
        f"{live_server}/api/dropship-providers.json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert [v["id"] for v in answer.json()] == [demo.baltic_id]
    _fits_a_phone(page)
    # another vendor's token cannot be revoked from here, by id
    page.evaluate(
        """([id, csrf]) => { const f = document.createElement('form'); f.method = 'post';
        f.action = `/vendor/tokens/${id}/revoke`; const i = document.createElement('input');
        i.name = 'csrf_token'; i.value = csrf; f.appendChild(i); document.body.appendChild(f);
        f.submit(); }""",
        [other_id, page.locator("input[name=csrf_token]").first.get_attribute("value")],
    )
    expect(page.locator(".flash-error")).to_contain_text("not found")
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator(".flash-ok")).to_contain_text("revoked")
    with database.transaction() as session:
        tokens = {t.name: t.revoked_at for t in session.scalars(select(ApiUser))}
        assert tokens["erp@baltic.test"] is not None and tokens["northwind-erp"] is None


def test_add_a_product_then_its_first_variant_and_edit_a_product_from_its_variant(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    from dropwire.catalog.models import Product, Variant
    from dropwire.catalog.schemas import ProductCreate
    from dropwire.catalog.service import create_product

    with database.transaction() as session:
        create_product(session, data=ProductCreate(name="Old tent", handle="trail-tent"))
        variant = session.get(Variant, demo.variant_ids[0])
        assert variant is not None
        variant_id, product_id, sku = variant.id, variant.product_id, variant.sku
    page = new_page()
    sign_in(page, ADMIN, path="/inventory")
    page.click("text=Add a product")
    _fits_a_phone(page)
    page.fill("#f-handle", "Harbour Mug")
    _submit(page)
    expect(page.get_by_test_id("error-name")).to_be_visible()
    expect(page.get_by_test_id("error-handle")).to_be_visible()  # lower-case and hyphens only
    expect(page.locator("#f-handle")).to_have_value("Harbour Mug")
    page.fill("#f-name", "Harbour Mug")
    page.fill("#f-handle", "harbour-mug")
    page.fill("#f-description", "Stoneware.\nHolds 350 ml.")
    _submit(page)
    expect(page.locator(".flash-ok")).to_contain_text("Product Harbour Mug added")
    with database.transaction() as session:
        made = session.scalars(select(Product).where(Product.handle == "harbour-mug")).one()
        assert (made.name, made.description) == ("Harbour Mug", "Stoneware.\nHolds 350 ml.")
        made_id = made.id
    expect(page.locator("#f-productId")).to_have_value(str(made_id))  # its first variant next
    page.fill("#f-sku", "HM-350")
    page.fill("#f-name", "Harbour Mug 350 ml")
    _submit(page)
    expect(page.locator(".flash-ok")).to_contain_text("Variant HM-350 added")
    expect(page.locator("#variant-facts")).to_contain_text("Harbour Mug")

    page.goto(f"/inventory/{variant_id}")
    page.click("text=Edit the product")
    _fits_a_phone(page)
    page.fill("#f-name", "Trail Tent 2P")
    page.fill("#f-handle", "trail-tent")  # the other product's
    page.fill("#f-productType", "Tents")
    _submit(page)
    expect(page.get_by_test_id("error-handle")).to_contain_text("already product")
    expect(page.locator("#f-productType")).to_have_value("Tents")
    page.fill("#f-handle", "trail-tent-2p")
    _submit(page)
    expect(page.locator(".flash-ok")).to_contain_text("Product Trail Tent 2P saved")
    assert page.url.endswith(f"/inventory/{variant_id}")  # back where it was opened
    expect(page.get_by_test_id("handle")).to_have_text("trail-tent-2p")
    page.click("text=Edit the product")
    page.fill("#f-productType", "")  # an emptied box clears it
    _submit(page)
    expect(page.locator(".flash-ok")).to_contain_text("saved")
    with database.transaction() as session:
        product = session.get(Product, product_id)
        assert product is not None
        assert (product.name, product.handle, product.product_type) == (
            "Trail Tent 2P",
            "trail-tent-2p",
            None,
        )
        assert sku in {v.sku for v in product.variants}
