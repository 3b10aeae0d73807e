"""A worker SIGKILLed after Stripe made the transfer but before it recorded the answer: once its
lease runs out the transfer is sent again with the same Idempotency-Key, and the payment
completes with one transfer."""

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from dropwire.core.time import utcnow
from dropwire.payments.models import Payment
from dropwire.payments.transfers import send_due_transfers

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import sys
from dropwire import domains
from dropwire.core.settings import Settings
from dropwire.payments.transfers import send_due_transfers
settings = Settings(
    database_url=sys.argv[1],
    stripe_api_key=sys.argv[2],
    stripe_api_base=sys.argv[3],
    _env_file=None,
)
send_due_transfers(domains.database(settings=settings))
"""


def test_a_killed_worker_pays_once_on_retry(fake_stripe, market, client, database, settings):
    fake_stripe.accounts.add("acct_acme")
    market.vendor("Acme", commissionRate=20, stripeId="acct_acme")
    market.stock("Acme", "MUG")
    purchase = market.sell([("MUG", 2, 50.00)])["purchases"][0]
    market.ship(purchase["id"])
    (invoice,) = market.invoices()
    method = client.post("/api/payment-methods.json", json={"name": "S", "source": "stripe"})
    payment = client.post(
        f"/api/dropship-providers/{market.vendors['Acme']['id']}/settle-transfer.json",
        json={"toPay": [invoice["id"]], "paymentMethodId": method.json()["id"]},
    ).json()
    fake_stripe.reply_delay = 30
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            WORKER,
            database.url,
            settings.stripe_api_key.get_secret_value(),
            settings.stripe_api_base,
        ],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("DROPWIRE_")},
    )
    try:
        assert fake_stripe.made_one.wait(60), "the worker never called Stripe"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    key = f"dropwire-payment-{payment['id']}"
    assert fake_stripe.made == {key: 1}
    assert client.get(f"/api/payments/{payment['id']}.json").json()["status"] == "pending"
    fake_stripe.reply_delay = 0
    assert send_due_transfers(database) == 0  # the dead worker's lease holds it
    with database.transaction() as session:  # until it runs out
        session.execute(update(Payment).values(transfer_due_at=utcnow() - timedelta(seconds=1)))
    assert send_due_transfers(database) == 1
    done = client.get(f"/api/payments/{payment['id']}.json").json()
    assert done["status"] == "complete"
    assert fake_stripe.made == {key: 1}
    assert fake_stripe.balance["usd"] == 10_000_000 - 8000
