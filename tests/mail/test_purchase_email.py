"""Purchase orders reach email vendors through a real SMTP server: one email per PO event, both
parts, both PDFs, retried, dead-lettered and sent again."""

import threading
import time
from datetime import timedelta
from email.message import EmailMessage

import pytest

from dropwire.core.time import utcnow
from dropwire.delivery.models import Delivery
from dropwire.delivery.relay import MAX_ATTEMPTS
from tests.delivery.conftest import drain
from tests.mail.conftest import PASSWORD, USER, free_port
from tests.mail.shop import OTHER_SKU, VENDOR_SKUS, open_shop, pdf_text


def _parts(message: EmailMessage) -> tuple[str, str, dict[str, bytes]]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    files = {
        part.get_filename(): part.get_content()
        for part in message.iter_attachments()
        if part.get_content_type() == "application/pdf"
    }
    return text.get_content(), html.get_content(), files


@pytest.mark.parametrize(
    "secured", [None, "starttls", "smtps"], ids=["plain", "starttls-login", "smtps-login"]
)
def test_a_new_purchase_order_arrives_by_email_with_both_documents(
    client, smtp_server, mail_to, relay, database, secured
):
    server = smtp_server(
        tls=secured == "starttls", implicit_tls=secured == "smtps", login=secured is not None
    )
    mail_to(server.url)
    shop = open_shop(client)
    sale = shop.sell("s1", {"MUG-RED": 2, "MUG-BLUE": 1, OTHER_SKU: 1})
    reference = shop.purchase_of(sale, shop.vendor)["externalReference"]

    assert drain(relay, database) >= 1
    (message,) = server.inbox.messages
    assert server.inbox.logins == ([USER] if secured else [])
    assert server.inbox.envelopes[0][1] == ["orders@vendor.example", "boss@vendor.example"]
    assert message["From"] == "Shop Orders <orders@shop.example>"
    assert reference in message["Subject"]
    assert message["X-Dropwire-Event"] == "purchase.created"
    assert "Mugs & Co" in message["To"]
    text, html, files = _parts(message)
    for body in (text, html):
        assert reference in body
        assert "Item MUG-RED" in body and "Item MUG-BLUE" in body
        assert OTHER_SKU not in body and "99.5" not in body
    assert "https://hub.shop.example/vendor/purchases/" in text
    assert set(files) == {f"{reference}.pdf", f"{reference}-packing-slip.pdf"}

    order = pdf_text(files[f"{reference}.pdf"])
    slip = pdf_text(files[f"{reference}-packing-slip.pdf"])
    for document in (order, slip):
        assert reference in document
        assert "Example Shop" in document and "1 Market Street" in document
        assert "Ada Lovelace" in document and "12 Analytical Row" in document
        for sku in VENDOR_SKUS:
            assert sku in document and f"Item {sku}" in document
        assert OTHER_SKU not in document and "99.5" not in document
    assert "4.50" in order and "9.00" in order and "5.25" in order
    assert "4.50" not in slip and "5.25" not in slip


def test_the_mail_log_and_the_purchase_show_what_was_sent(
    client, smtp_server, mail_to, relay, database
):
    server = smtp_server()
    mail_to(server.url)
    shop = open_shop(client)
    purchase = shop.purchase_of(shop.sell("s1", {"MUG-RED": 1}), shop.vendor)
    assert purchase["sendStatus"] == "unsent"
    (queued,) = client.get("/api/email-messages.json").json()
    assert queued["status"] == "queued"

    drain(relay, database)
    (logged,) = client.get("/api/email-messages.json").json()
    assert logged["status"] == "sent"
    assert logged["attempts"] == 1
    assert logged["event"] == "purchase.created"
    assert logged["to"] == ["orders@vendor.example", "boss@vendor.example"]
    assert logged["purchaseId"] == purchase["id"]
    assert logged["dropshipProviderId"] == shop.vendor["id"]
    assert logged["sentAt"] is not None
    shown = client.get(f"/api/purchases/{purchase['id']}.json").json()
    assert shown["sendStatus"] == "sent"
    assert shown["sentAt"] is not None
    detail = client.get(f"/api/email-messages/{logged['id']}.json").json()
    assert purchase["externalReference"] in detail["html"]
    assert [a["filename"] for a in detail["attachments"]] == [
        f"{purchase['externalReference']}.pdf",
        f"{purchase['externalReference']}-packing-slip.pdf",
    ]


def test_an_update_before_sending_joins_the_waiting_email(
    client, smtp_server, mail_to, relay, database
):
    server = smtp_server()
    mail_to(server.url)
    shop = open_shop(client)
    shop.sell("s1", {"MUG-RED": 3})
    shop.sell("s1", {"MUG-RED": 1})  # changed before anything was sent

    drain(relay, database)
    (message,) = server.inbox.messages
    assert message["X-Dropwire-Event"] == "purchase.created"
    text, _html, _files = _parts(message)
    assert "- 1 x Item MUG-RED" in text
    assert "- 3 x" not in text

    shop.sell("s1", {"MUG-RED": 2})  # changed after it was sent: a second email says so
    drain(relay, database)
    assert [m["X-Dropwire-Event"] for m in server.inbox.messages] == [
        "purchase.created",
        "purchase.updated",
    ]
    assert "- 1 x Item MUG-RED" in _parts(server.inbox.messages[1])[0]


def test_a_cancelled_purchase_order_is_emailed_after_its_creation(
    client, smtp_server, mail_to, relay, database
):
    server = smtp_server()
    mail_to(server.url)
    shop = open_shop(client)
    sale = shop.sell("s1", {"MUG-RED": 1})
    assert client.post(f"/api/sales/{sale['id']}/cancel.json", json={}).status_code == 200

    drain(relay, database)
    events = [m["X-Dropwire-Event"] for m in server.inbox.messages]
    assert events == ["purchase.created", "purchase.cancelled"]
    _text, _html, files = _parts(server.inbox.messages[1])
    reference = shop.purchase_of(sale, shop.vendor)["externalReference"]
    assert "CANCELLED" in pdf_text(files[f"{reference}.pdf"])


def test_a_refusing_server_is_tried_again_until_it_accepts(
    client, smtp_server, mail_to, relay, database
):
    server = smtp_server()
    server.inbox.refusals.append("451 4.3.0 mailbox busy, try later")
    mail_to(server.url)
    shop = open_shop(client)
    shop.sell("s1", {"MUG-RED": 1})

    relay.send_due()
    (waiting,) = client.get("/api/email-messages.json").json()
    assert waiting["status"] == "queued"
    assert waiting["attempts"] == 1
    assert "451" in waiting["lastError"]
    assert server.inbox.messages == []

    drain(relay, database)
    (sent,) = client.get("/api/email-messages.json").json()
    assert sent["status"] == "sent"
    assert sent["attempts"] == 2
    assert len(server.inbox.messages) == 1


def test_a_server_that_stays_down_leaves_the_email_dead_and_a_resend_delivers_it(
    client, smtp_server, mail_to, relay, database
):
    mail_to(f"smtp://127.0.0.1:{free_port()}")  # nobody listens there
    shop = open_shop(client)
    purchase = shop.purchase_of(shop.sell("s1", {"MUG-RED": 1}), shop.vendor)

    drain(relay, database)
    (dead,) = client.get("/api/email-messages.json").json()
    assert dead["status"] == "dead"
    assert dead["attempts"] == MAX_ATTEMPTS
    assert dead["lastError"]
    assert client.get(f"/api/purchases/{purchase['id']}.json").json()["sendStatus"] == "failed"

    server = smtp_server()
    mail_to(server.url)
    resent = client.put(f"/api/purchases/{purchase['id']}/send.json", json={})
    assert resent.status_code == 200, resent.text
    drain(relay, database)
    (message,) = server.inbox.messages
    assert purchase["externalReference"] in message["Subject"]
    newest = client.get("/api/email-messages.json").json()[0]
    assert newest["status"] == "sent"
    shown = client.get(f"/api/purchases/{purchase['id']}.json").json()
    assert shown["sendStatus"] == "sent"


def test_a_line_break_in_a_vendor_name_or_a_subject_adds_no_header(
    client, smtp_server, mail_to, relay, database
):
    server = smtp_server()
    mail_to(server.url)
    shop = open_shop(client, name="Mugs\r\nBcc: thief@evil.example")
    saved = client.put(
        "/api/email-templates/purchase.created.json",
        json={"subject": "PO {{ purchase.reference }}\r\nX-Injected: yes\n\nbody"},
    )
    assert saved.status_code == 200, saved.text
    shop.sell("s1", {"MUG-RED": 1})

    drain(relay, database)
    (message,) = server.inbox.messages
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert "\n" not in message["To"]
    assert server.inbox.envelopes[0][1] == ["orders@vendor.example", "boss@vendor.example"]
    raw_headers = message.as_string().split("\n\n", 1)[0]
    assert "thief@evil.example" not in server.inbox.envelopes[0][1]
    assert "\nBcc:" not in raw_headers and "\nX-Injected:" not in raw_headers


def test_an_email_address_with_a_line_break_is_refused(client):
    response = client.post(
        "/api/dropship-providers.json",
        json={"name": "V", "email": "a@b.example\r\nBcc: c@d.example"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "email"


def test_without_a_server_the_email_is_recorded_and_readable(client, relay, database):
    shop = open_shop(client)
    purchase = shop.purchase_of(shop.sell("s1", {"MUG-RED": 1}), shop.vendor)

    assert drain(relay, database) == 0
    (recorded,) = client.get("/api/email-messages.json").json()
    assert recorded["status"] == "recorded"
    assert recorded["attempts"] == 0
    detail = client.get(f"/api/email-messages/{recorded['id']}.json").json()
    assert purchase["externalReference"] in detail["subject"]
    assert "Item MUG-RED" in detail["text"]
    with database.transaction() as session:
        assert session.query(Delivery).count() == 0


def test_the_vendors_method_decides_and_a_change_applies_to_the_next_event(
    client, smtp_server, mail_to, relay, database, receiver
):
    server = smtp_server()
    mail_to(server.url)
    shop = open_shop(
        client, orderEndpoint=f"{receiver.url}/orders", purchaseOrderDelivery="webhook"
    )
    assert shop.vendor["purchaseOrderDelivery"] == "webhook"
    sale = shop.sell("s1", {"MUG-RED": 1})
    drain(relay, database)
    assert [r.body["event"] for r in receiver.received] == ["created"]
    assert server.inbox.messages == []
    purchase = shop.purchase_of(sale, shop.vendor)
    assert client.get(f"/api/purchases/{purchase['id']}.json").json()["sendStatus"] == "sent"

    changed = client.put(
        f"/api/dropship-providers/{shop.vendor['id']}.json",
        json={"purchaseOrderDelivery": "email"},
    )
    assert changed.json()["purchaseOrderDelivery"] == "email"
    shop.sell("s1", {"MUG-RED": 2})
    client.put(f"/api/purchases/{purchase['id']}/send.json", json={})
    drain(relay, database)
    assert len(receiver.received) == 1
    assert [m["X-Dropwire-Event"] for m in server.inbox.messages] == [
        "purchase.updated",
        "purchase.created",
    ]


def test_defaults_follow_the_vendors_fields(client):
    def method(**fields):
        body = client.post("/api/dropship-providers.json", json={"name": "V", **fields}).json()
        return body["purchaseOrderDelivery"]

    assert method(email="a@b.example") == "email"
    assert method(orderEndpoint="https://vendor.example/orders") == "webhook"
    assert method() == "portal"


def test_a_portal_vendor_resend_marks_it_sent(client):
    shop = open_shop(client, email=None, notificationEmails=[])
    purchase = shop.purchase_of(shop.sell("s1", {"MUG-RED": 1}), shop.vendor)
    assert client.get("/api/email-messages.json").json() == []
    sent = client.put(f"/api/purchases/{purchase['id']}/send.json", json={}).json()
    assert sent["sendStatus"] == "sent"
    assert sent["sentAt"] is not None
    assert client.get("/api/email-messages.json").json() == []


def _delivery_of(database, message: dict) -> Delivery:
    from dropwire.mail.models import EmailMessage

    with database.session(write=False) as session:
        stored = session.get(EmailMessage, message["id"])
        assert stored is not None and stored.delivery_id is not None
        delivery = session.get(Delivery, stored.delivery_id)
        assert delivery is not None
        session.expunge(delivery)
        return delivery


def test_a_permanent_refusal_makes_the_email_dead_at_once_and_a_resend_delivers_it(
    client, smtp_server, mail_to, relay, database
):
    server = smtp_server()
    server.inbox.refusals.append("554 5.6.0 message content rejected")
    mail_to(server.url)
    shop = open_shop(client)
    purchase = shop.purchase_of(shop.sell("s1", {"MUG-RED": 1}), shop.vendor)

    drain(relay, database)  # would retry anything retryable
    (dead,) = client.get("/api/email-messages.json").json()
    assert dead["status"] == "dead"
    assert dead["attempts"] == 1
    assert "554 5.6.0 message content rejected" in dead["lastError"]
    assert server.inbox.messages == []
    assert client.get(f"/api/purchases/{purchase['id']}.json").json()["sendStatus"] == "failed"
    shown = client.get(f"/api/email-messages/{dead['id']}.json").json()
    assert "554 5.6.0 message content rejected" in shown["lastError"]

    resent = client.put(f"/api/purchases/{purchase['id']}/send.json", json={})
    assert resent.status_code == 200, resent.text
    drain(relay, database)
    assert len(server.inbox.messages) == 1
    assert client.get(f"/api/purchases/{purchase['id']}.json").json()["sendStatus"] == "sent"


def test_recipients_refused_for_good_fail_the_email_but_one_accepted_is_enough(
    client, smtp_server, mail_to, relay, database
):
    server = smtp_server()
    mail_to(server.url)
    shop = open_shop(client)
    server.inbox.refused_recipients = {
        "orders@vendor.example": "550 5.1.1 no such mailbox",
        "boss@vendor.example": "550 5.1.1 no such mailbox",
    }
    shop.sell("s1", {"MUG-RED": 1})
    drain(relay, database)
    (dead,) = client.get("/api/email-messages.json").json()
    assert dead["status"] == "dead" and dead["attempts"] == 1
    assert "boss@vendor.example: 550 5.1.1 no such mailbox" in dead["lastError"]

    del server.inbox.refused_recipients["boss@vendor.example"]
    shop.sell("s2", {"MUG-RED": 1})
    drain(relay, database)
    sent = client.get("/api/email-messages.json").json()[0]
    assert sent["status"] == "sent"
    assert server.inbox.envelopes == [("orders@shop.example", ["boss@vendor.example"])]


def test_a_temporary_refusal_or_a_dead_server_is_retried_with_backoff(
    client, smtp_server, mail_to, relay, database
):
    from datetime import timedelta

    from dropwire.core.time import utcnow

    server = smtp_server()
    server.inbox.refusals.append("421 4.7.0 too busy, closing")
    mail_to(server.url)
    shop = open_shop(client)
    shop.sell("s1", {"MUG-RED": 1})
    relay.send_due()
    (waiting,) = client.get("/api/email-messages.json").json()
    assert waiting["status"] == "queued" and "421" in waiting["lastError"]
    assert _delivery_of(database, waiting).next_attempt_at > utcnow() + timedelta(seconds=3)

    mail_to(f"smtp://127.0.0.1:{free_port()}")  # nobody listens there
    shop.sell("s2", {"MUG-RED": 1})
    relay.send_due()
    newest = client.get("/api/email-messages.json").json()[0]
    assert newest["status"] == "queued" and newest["attempts"] == 1
    assert newest["lastError"]
    assert _delivery_of(database, newest).next_attempt_at > utcnow() + timedelta(seconds=3)


def test_a_round_goes_over_one_connection_and_each_message_gets_its_own_fate(
    client, smtp_server, mail_to, relay, database
):
    server = smtp_server()
    server.inbox.refusals += ["550 5.7.1 refused by policy", "452 4.3.1 out of storage"]
    mail_to(server.url)
    shop = open_shop(client)
    for n in range(4):
        shop.sell(f"s{n}", {"MUG-RED": 1})

    assert relay.send_due(limit=50) == 4
    statuses = [m["status"] for m in reversed(client.get("/api/email-messages.json").json())]
    assert statuses == ["dead", "queued", "sent", "sent"]
    assert server.inbox.greetings == 1  # one connection for the round
    drain(relay, database)
    statuses = [m["status"] for m in client.get("/api/email-messages.json").json()]
    assert statuses.count("sent") == 3 and statuses.count("dead") == 1


def test_a_round_out_of_time_puts_the_rest_back_untried(
    client, smtp_server, mail_to, relay, database, monkeypatch
):
    from dropwire.mail import transport

    monkeypatch.setattr(transport, "BATCH_SECONDS", 0.0)
    server = smtp_server()
    mail_to(server.url)
    shop = open_shop(client)
    for n in range(3):
        shop.sell(f"s{n}", {"MUG-RED": 1})

    relay.send_due(limit=50)
    messages = list(reversed(client.get("/api/email-messages.json").json()))
    assert [m["status"] for m in messages] == ["sent", "queued", "queued"]
    assert [m["attempts"] for m in messages] == [1, 0, 0]
    assert messages[1]["lastError"] is None
    monkeypatch.setattr(transport, "BATCH_SECONDS", 10.0)
    drain(relay, database)
    assert len(server.inbox.messages) == 3


def test_an_email_carries_no_secret_and_nothing_of_another_vendor_or_the_customers_bill(
    client, smtp_server, mail_to, relay, database
):
    server = smtp_server(login=True)
    mail_to(server.url)
    shop = open_shop(
        client,
        webhookSecret="whsec-vendor-hash-1234567890",
        orderEndpoint="https://vendor.example/orders",
        purchaseOrderDelivery="email",
    )
    sale = shop.sell("s1", {"MUG-RED": 1, OTHER_SKU: 2})
    drain(relay, database)

    (message,) = server.inbox.messages
    text, html, files = _parts(message)
    documents = "\n".join(pdf_text(content) for content in files.values())
    raw = message.as_string()
    for private in (
        "whsec-vendor-hash-1234567890",
        PASSWORD,
        "Billing Road 9",
        "99.5",
        OTHER_SKU,
        "Lamps Ltd",
        shop.purchase_of(sale, shop.other)["externalReference"],
    ):
        for place, content in (("text", text), ("html", html), ("pdf", documents), ("raw", raw)):
            assert private not in content, (place, private)
    shown = client.get("/api/email-messages.json").json()[0]
    detail = client.get(f"/api/email-messages/{shown['id']}.json").text
    assert "whsec-vendor-hash-1234567890" not in detail and PASSWORD not in detail


def _delivering(database) -> int:
    with database.session(write=False) as session:
        return session.query(Delivery).filter(Delivery.state == "delivering").count()


def test_a_slow_batch_keeps_its_deliveries_and_no_other_sender_sends_them_again(
    client, smtp_server, mail_to, relay, database, monkeypatch
):
    from dropwire.delivery import relay as relaying

    monkeypatch.setattr(relaying, "LEASE_SECONDS", 0.3)  # a claim's lease ends mid-batch
    server = smtp_server()
    server.inbox.delay = 0.5  # each message takes the server half a second
    mail_to(server.url)
    shop = open_shop(client)
    for n in range(3):
        shop.sell(f"s{n}", {"MUG-RED": 1})

    first = threading.Thread(target=relay.send_due, kwargs={"limit": 50})
    first.start()
    while first.is_alive() and not _delivering(database):
        time.sleep(0.01)  # the first worker has claimed them
    other = relaying.Relay(database, allow_private=True)  # a second worker, polling all along
    taken = 0
    while first.is_alive():
        taken += other.send_due(limit=50)
        time.sleep(0.05)
    first.join()
    other.close()

    assert taken == 0
    ids = [message["Message-ID"] for message in server.inbox.messages]
    assert len(ids) == 3 and len(set(ids)) == 3
    statuses = [m["status"] for m in client.get("/api/email-messages.json").json()]
    assert statuses == ["sent"] * 3


def test_a_sender_whose_lease_was_taken_over_sends_nothing(
    client, smtp_server, mail_to, relay, database
):
    from dropwire.delivery.relay import claim, hold

    server = smtp_server()
    mail_to(server.url)
    open_shop(client).sell("s1", {"MUG-RED": 1})
    claimed = claim(database)
    with database.transaction() as session:  # the lease ran out while this sender stalled
        session.query(Delivery).update({Delivery.lease_expires_at: utcnow() - timedelta(1)})

    assert relay.send_due() == 1  # another sender takes it over and sends it
    assert hold(database, claimed, claimed.ids, 60) == []
    assert len(server.inbox.messages) == 1


def test_the_creating_transaction_records_the_email_and_the_worker_composes_it(
    client, smtp_server, mail_to, relay, database
):
    from dropwire.mail.models import EmailMessage as Stored

    server = smtp_server()
    mail_to(server.url)
    shop = open_shop(client)
    purchase = shop.purchase_of(shop.sell("s1", {"MUG-RED": 1}), shop.vendor)
    with database.session(write=False) as session:  # who gets which event, nothing rendered
        (stored,) = session.query(Stored).all()
        assert (stored.subject, stored.html, stored.text, stored.attachments) == (
            None,
            None,
            None,
            [],
        )
        assert stored.delivery is not None and stored.delivery.body == {"email": "purchase.created"}
    (queued,) = client.get("/api/email-messages.json").json()  # shown as it would go now
    assert purchase["externalReference"] in queued["subject"]

    drain(relay, database)
    (message,) = server.inbox.messages
    with database.session(write=False) as session:  # kept as it went out
        (stored,) = session.query(Stored).all()
        assert stored.subject == message["Subject"]
        assert stored.text == _parts(message)[0]
        assert [a["kind"] for a in stored.attachments] == ["purchase_order", "packing_slip"]


def test_an_email_that_cannot_be_composed_is_dead_saying_why(
    client, smtp_server, mail_to, relay, database
):
    from dropwire.mail.models import EmailMessage as Stored

    server = smtp_server()
    mail_to(server.url)
    open_shop(client).sell("s1", {"MUG-RED": 1})
    with database.transaction() as session:  # its purchase order gone (no template can fail)
        session.query(Stored).update({Stored.purchase_id: 999_999})

    drain(relay, database)
    (dead,) = client.get("/api/email-messages.json").json()
    assert dead["status"] == "dead" and dead["attempts"] == 1
    assert "purchase order 999999 no longer exists" in dead["lastError"]
    assert server.inbox.messages == []
