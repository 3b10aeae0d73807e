"""Invitations and the mail pages in a real headless chromium against a real server and a real
SMTP server: an admin invites a vendor's person, who follows the emailed link, chooses a
password and lands signed in in the vendor portal."""

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from dropwire.core.db import Database
from dropwire.delivery.relay import Relay
from tests.delivery.conftest import drain, relay  # noqa: F401  (fixture)
from tests.mail.conftest import mail_to, smtp_server  # noqa: F401  (fixtures)
from tests.web.conftest import ADMIN, VENDOR, Demo, shot, sign_in

NewPage = Callable[..., Page]


def test_an_invited_person_follows_the_link_to_a_signed_in_portal(
    new_page: NewPage,
    demo: Demo,
    live_server: str,
    smtp_server,  # noqa: F811
    mail_to,  # noqa: F811
    relay: Relay,  # noqa: F811
    database: Database,
    configure,
) -> None:
    server = smtp_server()
    mail_to(server.url)
    configure(public_url=live_server)
    admin = new_page()
    sign_in(admin, ADMIN)
    admin.goto(f"/vendors/{demo.baltic_id}/invite")
    admin.fill("input[name=email]", "new.person@baltic.test")
    admin.click("form.stack button[type=submit]")
    expect(admin.locator(".flash-ok")).to_contain_text("new.person@baltic.test")

    drain(relay, database)
    (message,) = server.inbox.messages
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"(http://127\.0\.0\.1:\d+/password/set\?token=[\w-]+)", text).group(1)

    person = new_page()
    person.goto(link)
    expect(person.locator("input[type=email]")).to_have_value("new.person@baltic.test")
    person.fill("input[name=password]", "my own long password")
    person.fill("input[name=confirm]", "my own long password")
    person.click("form.stack button[type=submit]")
    person.wait_for_url("**/vendor")
    expect(person.locator("h1")).to_have_text("Baltic Linen Co. purchase orders")
    person.goto(f"/vendor/purchases/{demo.baltic_purchase_id}")
    documents = person.locator("p.documents a")
    expect(documents.first).to_have_text("Purchase order (PDF)")
    pdf = person.request.get(f"/vendor/purchases/{demo.baltic_purchase_id}/document.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF-")

    again = new_page()
    again.goto(link)
    expect(again.locator(".flash-error")).to_contain_text("expired or was already used")

    admin.goto("/mail")
    invitation = admin.locator("#mail tbody tr", has_text="user.invitation")
    expect(invitation).to_contain_text(re.compile("sent", re.IGNORECASE))
    invitation.locator("a").nth(1).click()
    expect(admin.locator("pre.email-text")).to_contain_text("token=[withheld]")
    framed = admin.frame_locator("iframe.email-preview")
    expect(framed.locator("h1")).to_have_text("Your vendor portal invitation")
    shot(admin, "mail-message")


def test_an_admin_invites_an_admin_who_follows_the_emailed_link_to_the_dashboard(
    new_page: NewPage,
    demo: Demo,
    live_server: str,
    smtp_server,  # noqa: F811
    mail_to,  # noqa: F811
    relay: Relay,  # noqa: F811
    database: Database,
    configure,
) -> None:
    from sqlalchemy import select

    from dropwire.auth.models import User
    from dropwire.people.models import PersonLink

    server = smtp_server()
    mail_to(server.url)
    configure(public_url=live_server)
    admin = new_page()
    sign_in(admin, ADMIN, path="/users")
    expect(admin.locator("#f-dropshipProviderId option").first).to_have_text("none: an admin")
    admin.fill("#f-email", VENDOR)  # a vendor's person cannot become an admin by invitation
    admin.click("#invite button[type=submit]")
    expect(admin.get_by_test_id("error-email")).to_contain_text("another account")
    admin.fill("#f-email", "Ops.Lead@Shop.test")
    admin.fill("#f-name", "Ops Lead")
    admin.click("#invite button[type=submit]")
    expect(admin.locator(".flash-ok")).to_contain_text("Invitation emailed to ops.lead@shop.test")
    invited = admin.locator("#users tbody tr", has_text="ops.lead@shop.test")
    expect(invited).to_contain_text("Admin")
    expect(invited).to_contain_text("never")

    drain(relay, database)
    (message,) = server.inbox.messages
    assert message["X-Dropwire-Event"] == "user.admin_invitation"
    assert "dashboard" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"(http://127\.0\.0\.1:\d+/password/set\?token=[\w-]+)", text).group(1)
    token = link.split("token=")[1]
    with database.transaction() as session:
        user = session.scalars(select(User).where(User.email == "ops.lead@shop.test")).one()
        assert user.dropship_provider_id is None
        stored = session.scalars(select(PersonLink).where(PersonLink.user_id == user.id)).one()
        assert token not in stored.token_digest  # kept hashed
        assert round((stored.expires_at - stored.created_at).total_seconds() / 3600) == 72

    person = new_page()
    person.goto(link)
    person.fill("input[name=password]", "an admin's long password")
    person.fill("input[name=confirm]", "an admin's long password")
    person.click("form.stack button[type=submit]")
    person.wait_for_url(f"{live_server}/")
    person.goto("/users")  # an admin page: the invited person runs the dashboard
    expect(person.locator("h1")).to_have_text("People")
    again = new_page()
    again.goto(link)
    expect(again.locator(".flash-error")).to_contain_text("expired or was already used")


def test_the_template_editor_previews_and_refuses_a_broken_template(
    new_page: NewPage, demo: Demo
) -> None:
    admin = new_page()
    sign_in(admin, ADMIN)
    admin.goto("/mail/templates/purchase.created")
    admin.fill("input[name=subject]", "Order {{ purchase.reference }} for {{ vendor.name }}")
    admin.click("button[value=preview]")
    expect(admin.locator("section.card p strong")).to_have_text("Order 10001-01 for Example Vendor")
    admin.fill("input[name=subject]", "Order {{ purchase.reference ")
    admin.click("button[value=save]")
    expect(admin.locator(".flash-error")).to_contain_text("subject")
    admin.goto("/mail/templates/purchase.created")
    expect(admin.locator("input[name=subject]")).to_have_value(
        "Purchase order {{ purchase.reference }} from {{ merchant.name }}"
    )
    admin.fill("input[name=subject]", "Order {{ purchase.reference }}")
    admin.click("button[value=save]")
    expect(admin.locator(".flash-ok")).to_contain_text("Template saved")
    shot(admin, "mail-template")


def test_an_admin_opens_a_purchase_orders_documents_and_sends_it_again(
    new_page: NewPage, demo: Demo
) -> None:
    admin = new_page()
    sign_in(admin, ADMIN)
    admin.goto(f"/purchases/{demo.baltic_purchase_id}")
    for link in ("document.pdf", "packing-slip.pdf"):
        answer = admin.request.get(f"/purchases/{demo.baltic_purchase_id}/{link}")
        assert answer.status == 200
        assert answer.headers["content-type"] == "application/pdf"
    admin.click("text=Send again")
    expect(admin.locator(".flash-ok")).to_contain_text("being sent again")
    admin.goto("/mail")
    shot(admin, "mail-log")
