"""Money in the dashboard and the vendor portal, in a real headless chromium against a real
server: amounts owed, a payout run (choose, review, pay, CSV; by Stripe against the strict
fake, the transfer made by the worker's poller), a vendor's balance and invoices,
a sale's margin, the overview's money alerts, and a vendor seeing only its own money."""

from collections import Counter
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.core.db import Database
from dropwire.payments import transfers
from dropwire.payments.models import Payment, PaymentMethod, PaymentState, VendorInvoice
from dropwire.payments.settling import claim
from dropwire.sales import service as sales
from dropwire.sales.models import Purchase
from dropwire.sales.schemas import ShipRequest
from dropwire.vendors.models import DropshipProvider
from tests.payments.fake_stripe import FakeStripe, FakeStripeServer
from tests.web.conftest import ADMIN, OTHER_VENDOR, VENDOR, Demo, shot, sign_in
from tests.web.test_browser import NewPage


def _ship_baltic(database: Database, demo: Demo, rate: int = 20) -> VendorInvoice:
    """Baltic Linen at `rate` % ships its open purchase order: one invoice."""
    with database.transaction() as session:
        vendor = session.get(DropshipProvider, demo.baltic_id)
        assert vendor is not None
        vendor.commission_rate = Decimal(rate)
        purchase = session.get(Purchase, demo.baltic_purchase_id)
        assert purchase is not None
        sales.ship(session, purchase=purchase, request=ShipRequest.model_validate({}))
    with database.transaction() as session:
        (invoice,) = session.scalars(
            select(VendorInvoice).where(VendorInvoice.purchase_id == demo.baltic_purchase_id)
        )
        session.expunge(invoice)
        return invoice


def _paid_by_stripe(
    session: Session, demo: Demo, account: str
) -> tuple[DropshipProvider, PaymentMethod]:
    """Baltic Linen is paid by Stripe into `account`."""
    vendor = session.get(DropshipProvider, demo.baltic_id)
    assert vendor is not None
    vendor.stripe_id = account
    method = PaymentMethod(name="Stripe", source="stripe")
    session.add(method)
    session.flush()
    vendor.payment_method_id = method.id
    return vendor, method


def test_admin_pays_a_vendor_in_a_payout_run_and_downloads_the_csv(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    invoice = _ship_baltic(database, demo)
    payable = f"{invoice.payable:,.2f} {invoice.currency}"
    page = new_page()
    sign_in(page, ADMIN, path="/money")
    row = page.locator("#owed tr[data-vendor='Baltic Linen Co.']")
    expect(row.get_by_test_id("payable-now")).to_have_text(payable)
    page.click("text=Pay vendors")
    expect(page.locator("h1")).to_have_text("Pay vendors")
    page.locator("#choose tr[data-vendor='Baltic Linen Co.'] input[name=vendor]").check()
    page.click("#choose button[type=submit]")
    expect(page.locator("h1")).to_have_text("Review the payout")
    expect(page.get_by_test_id(f"total-{invoice.currency}")).to_have_text(payable)
    shot(page, "payout-review")
    page.click("#pay button[type=submit]")
    expect(page.locator(".flash-ok")).to_contain_text("1 payment(s) made")
    assert urlsplit(page.url).path.startswith("/money/runs/")
    paid_row = page.locator("tr[data-payment]")
    expect(paid_row).to_have_count(1)
    expect(paid_row).to_contain_text("Complete")
    expect(paid_row).to_contain_text(payable)
    with page.expect_download() as download:
        page.click("text=Download CSV for the bank")
    lines = download.value.path().read_text().splitlines()
    assert lines[0].startswith("vendor,vendorExternalId,reference,amount,currency")
    assert lines[1].startswith("Baltic Linen Co.,demo-baltic,DW-")
    assert f",{invoice.payable:.2f},{invoice.currency},complete" in lines[1]

    page.goto(f"/vendors/{demo.baltic_id}")
    expect(
        page.locator(f"#vendor-invoices tr[data-invoice='{invoice.reference}']")
    ).to_contain_text("Paid")
    expect(page.locator(f"#vendor-balance tr[data-currency='{invoice.currency}']")).to_contain_text(
        payable  # now under paid
    )
    page.goto("/money/payout")
    expect(page.locator("main")).to_contain_text("Nothing is payable now")


def test_a_stripe_payout_run_from_the_dashboard_transfers_once_into_the_vendors_account(
    new_page: NewPage, demo: Demo, database: Database, configure: Any
) -> None:
    invoice = _ship_baltic(database, demo)
    with database.transaction() as session:
        _paid_by_stripe(session, demo, "acct_baltic")
    payable = f"{invoice.payable:,.2f} {invoice.currency}"
    stripe = FakeStripe(accounts={"acct_baltic"}, balance={invoice.currency.lower(): 10**9})
    with FakeStripeServer(stripe) as base:
        configure(stripe_api_key=stripe.api_key, stripe_api_base=base)
        page = new_page()
        sign_in(page, ADMIN, path="/money/payout")
        page.locator("#choose tr[data-vendor='Baltic Linen Co.'] input[name=vendor]").check()
        page.click("#choose button[type=submit]")
        expect(page.get_by_test_id(f"total-{invoice.currency}")).to_have_text(payable)
        page.click("#pay button[type=submit]")
        expect(page.locator(".flash-ok")).to_contain_text("1 payment(s) made")
        row = page.locator("tr[data-payment]")
        expect(row).to_contain_text("Pending")  # the worker's poller makes the transfer
        assert stripe.made == Counter()
        while transfers.send_due_transfers(database):
            pass
        page.reload()
        expect(row).to_contain_text("Complete")
        expect(row).to_contain_text(payable)
    with database.transaction() as session:
        (payment,) = session.scalars(select(Payment))
        assert payment.source == "stripe" and payment.external_id
        assert stripe.made == Counter({transfers.idempotency_key(payment.id): 1})
        paid = session.get(VendorInvoice, invoice.id)
        assert paid is not None and paid.status == "paid" and paid.payment_id == payment.id
    page.goto("/money/payout")
    expect(page.locator("main")).to_contain_text("Nothing is payable now")


def test_sale_margin_and_overview_alerts_for_no_margin_and_a_failed_payment(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    invoice = _ship_baltic(database, demo, rate=0)  # the merchant keeps nothing
    with database.transaction() as session:
        vendor, method = _paid_by_stripe(session, demo, "acct_gone")
        payment = claim(session, vendor=vendor, invoice_ids=[invoice.id], method=method)
        due = transfers.Due(payment.id, payment.amount, payment.currency, "acct_gone", 1)
    transfers.record(
        database, [due], {due.payment_id: transfers.TransferRefused("No such destination")}
    )
    with database.transaction() as session:
        assert session.get(Payment, due.payment_id).status == PaymentState.error

    page = new_page()
    sign_in(page, ADMIN)
    alerts = page.locator("#money-alerts")
    expect(alerts.locator("tr[data-alert=line]").first).to_contain_text("zero margin")
    expect(alerts.locator("tr[data-alert=line]").first).to_contain_text(invoice.reference)
    expect(alerts.locator("tr[data-alert=payment]")).to_contain_text("No such destination")
    shot(page, "overview-money-alerts")
    alerts.locator("tr[data-alert=line] a").first.click()
    margin = page.locator("#margin")
    expect(margin.get_by_test_id("vendor-payable")).to_have_text(
        f"\u2212{invoice.payable - invoice.shipping:,.2f} {invoice.currency}"
    )
    retail = Decimal(page.get_by_test_id("retail").inner_text().split()[0].replace(",", ""))
    expected = retail - invoice.payable
    expect(margin.get_by_test_id("margin")).to_have_text(f"{expected:,.2f} {invoice.currency}")


def test_a_vendor_sees_only_its_own_money_and_cannot_pay(
    new_page: NewPage, demo: Demo, database: Database
) -> None:
    invoice = _ship_baltic(database, demo)
    baltic = new_page(390, 844)  # a phone
    sign_in(baltic, VENDOR)
    baltic.click("button.menu-toggle")
    baltic.click("#nav a[href='/vendor/money']")
    assert urlsplit(baltic.url).path == "/vendor/money"
    expect(baltic.locator(f"#invoices tr[data-invoice='{invoice.reference}']")).to_contain_text(
        f"{invoice.payable:,.2f}"
    )
    expect(baltic.locator(f"#balance tr[data-currency='{invoice.currency}']")).to_contain_text(
        f"{invoice.payable:,.2f}"
    )
    shot(baltic, "vendor-money-phone")
    with baltic.expect_download() as download:
        baltic.click("#invoices a[download]")
    rows = download.value.path().read_text().splitlines()
    assert rows[0].startswith("reference,type,status,currency,net,commission")
    assert [r.split(",")[0] for r in rows[1:]] == [invoice.reference]

    other = new_page()
    sign_in(other, OTHER_VENDOR, path="/vendor/money")
    expect(other.locator("h1")).to_have_text("Money")
    expect(other.locator("#invoices")).not_to_contain_text(invoice.reference)
    expect(other.locator("#invoices")).to_contain_text("No invoices yet")
    for path in ("/vendor/money/invoices.csv", "/vendor/money/payments.csv"):
        body = other.request.get(path).text()
        assert invoice.reference not in body and "Baltic" not in body
    for path in ("/money", "/money/payout", f"/vendors/{demo.baltic_id}"):
        response = other.goto(path)
        assert response is not None and response.status == 404, path
    token = other.locator("input[name=csrf_token]").first.get_attribute("value")
    posted = other.request.post(
        "/money/payout", form={"csrf_token": token or "", "vendor": str(demo.baltic_id)}
    )
    assert posted.status == 404
    with database.transaction() as session:
        assert session.scalars(select(Payment)).all() == []
