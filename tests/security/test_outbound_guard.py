"""The outbound address guard. No test here sends anything outside 127.0.0.0/8: names resolve
through stub resolvers, and the only listener is a loopback one."""

import ipaddress
import logging

import httpx
import pytest
from sqlalchemy import select, update

from dropwire.core.outbound import (
    AddressPolicy,
    TargetRefused,
    Unresolvable,
    guarded_client,
    parse_networks,
    resolve_checked,
)
from dropwire.core.settings import Settings
from dropwire.core.time import utcnow
from dropwire.delivery.models import Delivery, DeliveryState
from dropwire.delivery.relay import MAX_ATTEMPTS, Relay, claim
from tests.delivery.conftest import Receiver, drain

REFUSED = [
    "127.0.0.1",  # loopback
    "10.1.2.3",  # private
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # link-local, cloud metadata
    "100.64.0.1",  # shared address space (CGNAT)
    "100.100.100.200",  # a cloud metadata address inside it
    "192.0.0.1",  # IETF protocol assignments
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "255.255.255.255",  # broadcast
    "0.0.0.0",
    "::1",
    "::",
    "fe80::1",  # link-local
    "fc00::1",  # unique local
    "ff02::1",  # multicast
    "2001:db8::1",  # documentation
    "::ffff:10.0.0.1",  # IPv4-mapped private
    "::ffff:127.0.0.1",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2002:808:808::1",  # 6to4 of a public address: still a relay, refused
]
PERMITTED = ["8.8.8.8", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", REFUSED)
def test_every_non_public_address_class_is_refused(address):
    policy = AddressPolicy()
    assert not policy.permits(ipaddress.ip_address(address))
    with pytest.raises(TargetRefused):
        resolve_checked("hooks.example.test", 443, policy, lambda _h, _p: [address])
    literal = f"[{address}]" if ":" in address else address
    with pytest.raises(TargetRefused):
        resolve_checked(literal, 443, policy, lambda _h, _p: pytest.fail("no lookup"))


@pytest.mark.parametrize("address", PERMITTED)
def test_public_addresses_pass(address):
    assert resolve_checked("hooks.example.test", 443, AddressPolicy(), lambda _h, _p: [address])


def test_one_private_answer_among_public_ones_refuses_the_name():
    answers = ["8.8.8.8", "10.0.0.7"]
    with pytest.raises(TargetRefused, match=r"10\.0\.0\.7"):
        resolve_checked("mixed.example.test", 80, AddressPolicy(), lambda _h, _p: answers)


def test_allow_private_and_the_cidr_allowlist():
    ten = ipaddress.ip_address("10.1.2.3")
    assert AddressPolicy(allow_private=True).permits(ten)
    allowed = AddressPolicy(allowed_networks=parse_networks("10.1.0.0/16, 192.168.5.0/24"))
    assert allowed.permits(ten)
    assert not allowed.permits(ipaddress.ip_address("10.2.0.1"))
    assert not allowed.permits(ipaddress.ip_address("127.0.0.1"))
    settings = Settings(allowed_target_networks="10.1.0.0/16", _env_file=None)  # type: ignore[call-arg]
    assert AddressPolicy.from_settings(settings).permits(ten)
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        Settings(allowed_target_networks="10.1.0.0/16,not-a-network", _env_file=None)  # type: ignore[call-arg]


def test_a_name_without_addresses_is_a_retryable_connection_error():
    with pytest.raises(Unresolvable):
        resolve_checked("gone.example.test", 80, AddressPolicy(), lambda _h, _p: [])
    assert issubclass(Unresolvable, httpx.ConnectError)


@pytest.fixture
def listener():
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


class Rebinding:
    """Answers a loopback address first, then an internal one: a DNS-rebinding name."""

    def __init__(self, first: str, then: str) -> None:
        self.answers = [first, then]
        self.calls = 0

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return [self.answers[min(self.calls - 1, 1)]]


def test_the_checked_address_is_the_one_connected_to(listener):
    """Resolved once: a rebinding name can't swap the address between check and connect. The
    request keeps its name in the Host header."""
    resolver = Rebinding(first="127.0.0.1", then="10.0.0.5")
    policy = AddressPolicy(allowed_networks=parse_networks("127.0.0.0/8"))
    with guarded_client(policy, resolver) as client:
        response = client.post(
            f"http://rebind.example.test:{listener.port}/hook", json={"n": 1}, timeout=5
        )
    assert response.status_code == 200
    assert resolver.calls == 1
    (received,) = listener.received
    assert received.headers["Host"] == f"rebind.example.test:{listener.port}"
    assert received.path == "/hook"


def test_a_refused_name_is_never_connected_to(listener):
    resolver = Rebinding(first="10.0.0.5", then="127.0.0.1")
    policy = AddressPolicy(allowed_networks=parse_networks("127.0.0.0/8"))
    with guarded_client(policy, resolver) as client, pytest.raises(TargetRefused):
        client.post(f"http://rebind.example.test:{listener.port}/hook", json={}, timeout=5)
    assert resolver.calls == 1
    assert listener.received == []


def test_https_keeps_the_name_for_sni(monkeypatch):
    """The TLS handshake is made for the name (SNI and certificate check), not the address."""
    seen = {}

    def capture(self, request):
        seen["url"] = str(request.url)
        seen["host"] = request.headers["host"]
        seen["sni"] = request.extensions.get("sni_hostname")
        return httpx.Response(204)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", capture)
    with guarded_client(AddressPolicy(), lambda _h, _p: ["93.184.216.34"]) as client:
        client.get("https://shop.example.test/hook")
    assert seen == {
        "url": "https://93.184.216.34/hook",
        "host": "shop.example.test",
        "sni": "shop.example.test",
    }


# --- in the relay ---------------------------------------------------------------------------


def _vendor_with_order(client, order_endpoint: str) -> None:
    store = client.post("/api/channels.json", json={"name": "Store"}).json()
    vendor = client.post(
        "/api/dropship-providers.json", json={"name": "V", "orderEndpoint": order_endpoint}
    ).json()
    feed = client.post("/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]})
    client.post("/api/variants.json", json={"sku": "S1", "name": "S1"})
    client.put(
        f"/api/inventory-feeds/{feed.json()['id']}/parse-webhook.json",
        json={"externalId": "s1", "vendorSku": "S1", "inventoryQuantity": 5},
    )
    sale = client.post(
        f"/api/channels/{store['id']}/manual-sale.json",
        json={
            "externalId": "o1",
            "lineItems": [{"externalId": "l", "quantity": 1, "variant": {"sku": "S1"}}],
        },
    )
    assert sale.status_code == 200, sale.text


def test_relay_delivers_through_the_guard_to_a_name(client, database, listener):
    _vendor_with_order(client, f"http://orders.example.test:{listener.port}/orders")
    resolver = Rebinding(first="127.0.0.1", then="10.0.0.5")
    policy = AddressPolicy(allowed_networks=parse_networks("127.0.0.1/32"))
    relay = Relay(database, policy=policy, resolver=resolver)
    try:
        assert drain(relay, database) == 1
    finally:
        relay.close()
    (message,) = listener.received
    assert message.body["event"] == "created"
    assert message.headers["Host"] == f"orders.example.test:{listener.port}"


def test_relay_refuses_metadata_addresses_at_once_with_one_log_line(client, database, caplog):
    _vendor_with_order(client, "http://metadata.example.test/orders")
    relay = Relay(database, resolver=lambda _h, _p: ["100.100.100.200"])
    caplog.set_level(logging.INFO)
    try:
        drain(relay, database)
        drain(relay, database)
    finally:
        relay.close()
    with database.session(write=False) as session:
        delivery = session.scalars(select(Delivery)).one()
    assert delivery.state == DeliveryState.dead
    assert delivery.attempts == 1
    assert "100.100.100.200" in (delivery.last_error or "")
    lines = [r for r in caplog.records if r.name == "dropwire.delivery"]
    assert len(lines) == 1
    assert lines[0].exc_info is None


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com:99999/",
        "http://exa mple.com/",
        "gopher://example.com/",
        "http://example.com/\r\nX-Injected: 1",
    ],
)
def test_a_delivery_whose_url_cannot_be_sent_dies_at_once(client, database, caplog, url):
    """A URL stored before validation existed: one attempt, dead, one log line, no traceback."""
    _vendor_with_order(client, "http://127.0.0.1:9/orders")
    with database.transaction() as session:
        session.execute(update(Delivery).values(url=url))
    relay = Relay(database, allow_private=True, resolver=lambda _h, _p: pytest.fail("no lookup"))
    caplog.set_level(logging.INFO)
    try:
        for _ in range(3):
            drain(relay, database)
    finally:
        relay.close()
    with database.session(write=False) as session:
        delivery = session.scalars(select(Delivery)).one()
    assert (delivery.state, delivery.attempts) == (DeliveryState.dead, 1)
    records = [r for r in caplog.records if r.name.startswith("dropwire")]
    assert len(records) == 1 and records[0].exc_info is None
    assert "Traceback" not in caplog.text


def test_the_attempt_cap_holds_when_a_sender_dies_mid_attempt(client, database):
    _vendor_with_order(client, "http://127.0.0.1:9/orders")
    with database.transaction() as session:
        session.execute(
            update(Delivery).values(
                state=DeliveryState.delivering,
                attempts=MAX_ATTEMPTS,
                lease_expires_at=utcnow(),
            )
        )
    assert claim(database).ids == []
    with database.session(write=False) as session:
        delivery = session.scalars(select(Delivery)).one()
    assert (delivery.state, delivery.attempts) == (DeliveryState.dead, MAX_ATTEMPTS)


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/api/dropship-providers.json", "orderEndpoint", "http://example.com:99999/"),
        ("/api/dropship-providers.json", "orderEndpoint", "http://example.com:0/"),
        ("/api/dropship-providers.json", "orderEndpoint", "http://exa\tmple.com/"),
        ("/api/dropship-providers.json", "orderEndpoint", "http://example.com/a b"),
        ("/api/dropship-providers.json", "orderEndpoint", "ftp://example.com/"),
        ("/api/dropship-providers.json", "orderEndpoint", "http:///no-host"),
        ("/api/custom-channels.json", "inventoryEndpoint", "http://[::1/"),
        ("/api/custom-channels.json", "fulfillmentEndpoint", "https://example.com/\x7f"),
        ("/api/custom-channels.json", "publishingEndpoint", "javascript:alert(1)"),
        ("/api/inventory-feeds.json", "resourceLocation", "gopher://example.com/feed"),
        ("/api/inventory-feeds.json", "resourceLocation", "ftp://bob:pw@example.com:70000/f"),
    ],
)
def test_endpoint_urls_are_validated_on_save(client, path, field, value):
    body = {"name": "n", field: value}
    if path == "/api/inventory-feeds.json":
        vendor = client.post("/api/dropship-providers.json", json={"name": "V"}).json()
        body = {"dropshipProviderId": vendor["id"], field: value}
    response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


def test_feed_locations_take_ftp_with_credentials(client):
    vendor = client.post("/api/dropship-providers.json", json={"name": "V"}).json()
    response = client.post(
        "/api/inventory-feeds.json",
        json={
            "dropshipProviderId": vendor["id"],
            "resourceType": "csv",
            "resourceLocation": "ftps://bob:pw@ftp.example.com:990/stock.csv",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["resourceLocation"] == "ftps://bob:***@ftp.example.com:990/stock.csv"
