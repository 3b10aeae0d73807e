"""The vendor ledger: append-only entries, and per vendor and currency their running sum.

Every change of what the merchant owes a vendor goes through `post`, which writes the entries
and moves the balances by their sums in the same transaction, so `owed` always equals the sum of
the entries (`rebuild` proves it from scratch)."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Insert, Table, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from dropwire.core.inserts import Write, insert_unread, insert_write, riding
from dropwire.core.time import utcnow
from dropwire.payments.models import EntryKind, LedgerEntry, VendorBalance


def post(session: Session, *, entries: Sequence[LedgerEntry], riders: Sequence[Write] = ()) -> None:
    """Append `entries` and add their amounts to the balances they belong to. `riders`, other
    writes of the transaction (PostgreSQL only), go in the same statement as CTEs when the
    entries are few (one round trip for a shipment's writes, its text prepared once), else each
    on its own first."""
    connection = session.connection()
    few = connection.dialect.name == "postgresql" and len(entries) <= ENTRIES_WITH_MOVES
    for rider in riders if not few or not entries else ():
        connection.exec_driver_sql(rider.sql, rider.parameters)
    if not entries:
        return
    if not few:
        insert_unread(session, objects=entries)
    owed: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    paid: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for entry in entries:
        key = (entry.dropship_provider_id, entry.currency)
        owed[key] += entry.amount
        if entry.kind in (EntryKind.payment, EntryKind.payment_failed):
            paid[key] -= entry.amount
    moves = [
        {"dropship_provider_id": key[0], "currency": key[1], "owed": owed[key], "paid": paid[key]}
        for key in sorted(owed)  # in key order: two writers never wait on each other in a circle
    ]
    if few:  # a shipment's few entries ride in the balances' statement, as a CTE
        rows = [{name: getattr(e, name, None) for name in _ENTRY_COLUMNS} for e in entries]
        for row in rows:
            row["created_at"] = row["created_at"] or utcnow()
        dialect = connection.dialect
        statement = riding(
            [*riders, insert_write(dialect, ENTRIES, rows, prefix="entry_")],
            insert_write(dialect, BALANCES, moves, prefix="move_", tail=_ADDING),
        )
        connection.exec_driver_sql(statement.sql, statement.parameters)
        return
    for start in range(0, len(moves), _MOVES_PER_STATEMENT):
        session.execute(_move(session, moves[start : start + _MOVES_PER_STATEMENT]))


_ADDING = (
    " ON CONFLICT (dropship_provider_id, currency) DO UPDATE"
    " SET owed = vendor_balances.owed + excluded.owed,"
    " paid = vendor_balances.paid + excluded.paid"
)
"""`_move` as the tail of a `Write`: the balance rows made when missing, else added to."""
_MOVES_PER_STATEMENT = 1000
ENTRIES_WITH_MOVES = 50
BALANCES = cast(Table, VendorBalance.__table__)
ENTRIES = cast(Table, LedgerEntry.__table__)
_ENTRY_COLUMNS = (
    "dropship_provider_id",
    "currency",
    "kind",
    "amount",
    "invoice_id",
    "payment_id",
    "note",
    "created_at",
)


def _move(session: Session, moves: list[dict[str, Any]]) -> Insert:
    """Add to the balances of these (vendor, currency) pairs in one statement, making the rows
    missing (a vendor's first entry in a currency): an upsert whose update adds."""
    insert_ = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert_(BALANCES).values(moves)
    return statement.on_conflict_do_update(
        index_elements=[BALANCES.c.dropship_provider_id, BALANCES.c.currency],
        set_={
            "owed": BALANCES.c.owed + statement.excluded.owed,
            "paid": BALANCES.c.paid + statement.excluded.paid,
        },
    )


def ensure_balances(session: Session, *, keys: Iterable[tuple[int, str]]) -> None:
    """The balance rows of these (vendor, currency) pairs, made when missing (one statement)."""
    rows = [{"dropship_provider_id": v, "currency": c} for v, c in sorted(set(keys))]
    insert_ = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for start in range(0, len(rows), _MOVES_PER_STATEMENT):
        session.execute(
            insert_(BALANCES)
            .values(rows[start : start + _MOVES_PER_STATEMENT])
            .on_conflict_do_nothing(
                index_elements=[BALANCES.c.dropship_provider_id, BALANCES.c.currency]
            )
        )


def lock_balance(session: Session, *, vendor_id: int, currency: str) -> VendorBalance:
    """The vendor's balance row in `currency`, locked until the transaction ends: whoever pays
    this vendor in this currency waits here, so two payments never take one invoice."""
    ensure_balances(session, keys=[(vendor_id, currency)])
    balance = session.scalar(
        select(VendorBalance)
        .where(VendorBalance.dropship_provider_id == vendor_id, VendorBalance.currency == currency)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert balance is not None
    return balance


def lock_balances(session: Session, *, keys: Iterable[tuple[int, str]]) -> None:
    """`lock_balance` for many (vendor, currency) pairs, in key order, with one statement."""
    wanted = sorted(set(keys))
    ensure_balances(session, keys=wanted)
    for start in range(0, len(wanted), _MOVES_PER_STATEMENT):
        session.execute(
            select(BALANCES.c.id)
            .where(
                tuple_(BALANCES.c.dropship_provider_id, BALANCES.c.currency).in_(
                    wanted[start : start + _MOVES_PER_STATEMENT]
                )
            )
            .order_by(BALANCES.c.dropship_provider_id, BALANCES.c.currency)
            .with_for_update()
        ).all()


def sums(session: Session, *, vendor_id: int) -> dict[str, Decimal]:
    """The sum of the vendor's entries per currency, read from the entries themselves."""
    rows = session.execute(
        select(LedgerEntry.currency, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.dropship_provider_id == vendor_id)
        .group_by(LedgerEntry.currency)
    )
    return {currency: Decimal(total or 0) for currency, total in rows}


def rebuild(session: Session) -> int:
    """Recompute every balance from the ledger; returns how many were off (0 when sound)."""
    totals = session.execute(
        select(
            LedgerEntry.dropship_provider_id,
            LedgerEntry.currency,
            func.sum(LedgerEntry.amount),
        ).group_by(LedgerEntry.dropship_provider_id, LedgerEntry.currency)
    ).all()
    ensure_balances(session, keys=[(vendor, currency) for vendor, currency, _ in totals])
    balances = {
        (b.dropship_provider_id, b.currency): b for b in session.scalars(select(VendorBalance))
    }
    off = 0
    for vendor_id, currency, total in totals:
        balance = balances[(vendor_id, currency)]
        if balance.owed != Decimal(total or 0):
            balance.owed = Decimal(total or 0)
            off += 1
    session.flush()
    return off
