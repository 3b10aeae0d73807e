"""PostgreSQL: two payout runs and a settle-transfer racing for one vendor pay each invoice once."""

import threading
from collections import Counter
from decimal import Decimal

from sqlalchemy import select

from dropwire.core.errors import DomainError
from dropwire.payments import ledger, payouts, settling
from dropwire.payments.models import Payment, PaymentState, VendorInvoice
from dropwire.vendors.models import DropshipProvider


def test_racing_payers_pay_each_invoice_once(market, database, postgres_only):
    vendor = market.vendor("Acme", commissionRate=20)
    market.stock("Acme", "MUG")
    for _ in range(6):
        purchase = market.sell([("MUG", 1, 10.00)])["purchases"][0]
        market.ship(purchase["id"])
    invoice_ids = [invoice["id"] for invoice in market.invoices()]
    start = threading.Barrier(3)
    outcomes: list[str] = []

    def payout_run() -> None:
        start.wait()
        with database.transaction() as session:
            _run, made = payouts.run_payouts(session, vendor_ids=[vendor["id"]])
        outcomes.append(f"run:{len(made)}")

    def settle() -> None:
        start.wait()
        try:
            with database.transaction() as session:
                settling.claim(
                    session,
                    vendor=session.get(DropshipProvider, vendor["id"]),
                    invoice_ids=invoice_ids,
                )
            outcomes.append("settled")
        except DomainError:
            outcomes.append("refused")

    threads = [threading.Thread(target=f) for f in (payout_run, payout_run, settle)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 3
    with database.transaction() as session:
        payments = list(session.scalars(select(Payment)))
        taken = Counter(
            i for p in payments if p.status != PaymentState.error for i in p.invoice_ids
        )
        assert sorted(taken) == sorted(invoice_ids)
        assert set(taken.values()) == {1}
        paid = session.scalars(select(VendorInvoice.status)).all()
        assert set(paid) == {"paid"}
        assert ledger.sums(session, vendor_id=vendor["id"]) == {"USD": Decimal("0.00")}
        assert sum(p.amount for p in payments) == Decimal("48.00")
