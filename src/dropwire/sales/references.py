"""Sale references: 10001, 10002, ... unique however many sales race."""

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from dropwire.core.errors import Conflict
from dropwire.core.inserts import insert_ignoring_conflict
from dropwire.sales.models import (
    Counter,
    Sale,
)

FIRST_REFERENCE = 10001

# --- references ----------------------------------------------------------------------------


def is_used(session: Session, reference: str) -> bool:
    return session.scalar(select(Sale.id).where(Sale.reference == reference)) is not None


def require_unused(session: Session, reference: str) -> None:
    if is_used(session, reference):
        raise Conflict(f"sale reference '{reference}' is already used", "saleDefaults.reference")


def next_reference(session: Session) -> str:
    """The next sale reference (10001, 10002, ...), unique however many sales race.

    PostgreSQL uses a sequence (it never makes concurrent sales wait on each other); SQLite, whose
    writers are serial anyway, a guarded counter row.
    """
    if session.get_bind().dialect.name == "postgresql":
        return str(session.execute(text("SELECT nextval('sale_reference_seq')")).scalar_one())
    insert_ignoring_conflict(
        session, Counter, {"name": "sale_reference", "value": FIRST_REFERENCE - 1}, ["name"]
    )
    value = session.execute(
        update(Counter)
        .where(Counter.name == "sale_reference")
        .values(value=Counter.value + 1)
        .returning(Counter.value)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return str(value)
