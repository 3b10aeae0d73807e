"""Every Elastic Path call goes through the outbound guard: the token fetch, the relay's
deliveries, reading an order and `dropwire elasticpath setup`. The fake store is on loopback,
which the guard refuses unless private targets or its network are allowed."""

import pytest
from bench.fake_elasticpath import CLIENT_ID, CLIENT_SECRET, order_document
from sqlalchemy import select
from typer.testing import CliRunner

from dropwire.cli import app as cli_app
from dropwire.connectors.elasticpath.client import ElasticPathClient, TokenCache
from dropwire.connectors.elasticpath.models import ElasticPathStore
from dropwire.core.outbound import AddressPolicy, TargetRefused, parse_networks
from dropwire.delivery.models import Delivery
from dropwire.delivery.relay import Relay
from dropwire.jobs.models import Job
from dropwire.jobs.service import run_pending
from tests.delivery.conftest import drain
from tests.elasticpath.conftest import WEBHOOK_SECRET


def test_the_client_refuses_a_private_store_unless_allowed(fake, configure):
    fake.stock["p1"] = {"total": 5, "available": 5, "allocated": 0}
    by_name = fake.url.replace("127.0.0.1", "localhost")
    for url in (fake.url, by_name):
        refused = ElasticPathClient(
            url, CLIENT_ID, CLIENT_SECRET, policy=AddressPolicy(), tokens=TokenCache()
        )
        with pytest.raises(TargetRefused, match="not a public address"):
            refused.get_stock("p1")
        refused.close()
    denied = AddressPolicy.from_settings(configure(allow_private_targets=False))
    from_settings = ElasticPathClient(
        fake.url, CLIENT_ID, CLIENT_SECRET, policy=denied, tokens=TokenCache()
    )
    with pytest.raises(TargetRefused):
        from_settings.get_stock("p1")
    from_settings.close()
    assert fake.calls == [] and fake.token_fetches == 0  # not even the token was asked for
    loopback = AddressPolicy(allowed_networks=parse_networks("127.0.0.0/8"))
    allowed = ElasticPathClient(
        fake.url, CLIENT_ID, CLIENT_SECRET, policy=loopback, tokens=TokenCache()
    )
    assert allowed.get_stock("p1")["available"] == 5
    allowed.close()
    assert fake.token_fetches == 1


def test_the_relay_gives_up_on_a_private_store_and_sends_once_allowed(shop, fake, database):
    shop.product("TENT", vendor_stock=5)
    strict = Relay(database, policy=AddressPolicy())
    try:
        drain(strict, database)
    finally:
        strict.close()
    with database.transaction() as session:
        (refused,) = session.scalars(select(Delivery).where(Delivery.transport == "elasticpath"))
        assert refused.state == "dead" and refused.attempts == 1  # unsendable: no retries
        assert "not a public address" in (refused.last_error or "")
    assert fake.calls == []
    shop.set_vendor_stock("TENT", 7)
    loopback = Relay(
        database, policy=AddressPolicy(allowed_networks=(parse_networks("127.0.0.1/32")))
    )
    try:
        drain(loopback, database)
    finally:
        loopback.close()
    assert fake.stock["prod-tent"]["available"] == 7


def test_reading_an_order_from_a_private_store_is_refused(shop, fake, database):
    fake.add_order(
        order_document(
            "o-9", [{"id": "i", "sku": "X", "product_id": "p", "quantity": 1, "amount": 100}]
        )
    )
    small = {
        "id": "evt-small",
        "trigger": "order.updated",
        "resources": {"type": "order", "id": "o-9"},
        "configuration": {"secret_key": WEBHOOK_SECRET},
    }
    assert shop.send(small, header=None).status_code == 200
    run_pending(database)  # the job only records the read, for the relay to make after commit
    strict = Relay(database, policy=AddressPolicy())
    try:
        drain(strict, database)
    finally:
        strict.close()
    assert fake.calls == []
    with database.transaction() as session:
        (read,) = session.scalars(
            select(Delivery).where(Delivery.event == "elasticpath.fetch_order")
        )
        jobs = session.scalars(select(Job)).all()
    assert read.state == "dead" and "not a public address" in (read.last_error or "")
    assert [job.state for job in jobs] == ["succeeded"]  # refused once, not retried


def test_setup_command_refuses_a_private_store_unless_allowed(
    shop, fake, database, configure, cli_in_this_process
):
    configure(allow_private_targets=False)
    args = ["elasticpath", "setup", str(shop.channel_id), "--public-url", "https://dw.example.com"]
    refused = CliRunner().invoke(cli_app, args)
    assert refused.exit_code == 1
    assert "elasticPath.baseUrl" in refused.output and "not a public address" in refused.output
    assert fake.calls == [] and fake.integrations == {}
    with database.transaction() as session:
        store = session.scalars(select(ElasticPathStore)).one()
        assert store.integration_id is None
    configure(allowed_target_networks="127.0.0.0/8")
    allowed = CliRunner().invoke(cli_app, args)
    assert allowed.exit_code == 0, allowed.output
    assert len(fake.integrations) == 1
