"""Sale references: 10001, 10002, ... unique however many sales race."""

from collections.abc import Collection

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
    return bool(used_among(session, [reference]))


def used_among(session: Session, references: Collection[str]) -> set[str]:
    """Which of these references sales already have: one query for all of them."""
    if not references:
        return set()
    return set(session.scalars(select(Sale.reference).where(Sale.reference.in_(set(references)))))


def require_unused(session: Session, reference: str) -> None:
    if is_used(session, reference):
        raise reference_taken(reference)


def reference_taken(reference: str) -> Conflict:
    return Conflict(f"sale reference '{reference}' is already used", "saleDefaults.reference")


def next_reference(session: Session) -> str:
    """The next sale reference (10001, 10002, ...), unique however many sales race."""
    (reference,) = next_references(session, 1)
    return reference


def next_references(session: Session, count: int) -> list[str]:
    """The next `count` sale references, in order, in one or two statements.

    PostgreSQL uses a sequence (it never makes concurrent sales wait on each other); SQLite, whose
    writers are serial anyway, a guarded counter row advanced by `count` at once.
    """
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        values = session.scalars(
            text("SELECT nextval('sale_reference_seq') FROM generate_series(1, :n)"), {"n": count}
        )
        return [str(value) for value in sorted(values)]
    insert_ignoring_conflict(
        session, Counter, {"name": "sale_reference", "value": FIRST_REFERENCE - 1}, ["name"]
    )
    last = session.execute(
        update(Counter)
        .where(Counter.name == "sale_reference")
        .values(value=Counter.value + count)
        .returning(Counter.value)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return [str(value) for value in range(last - count + 1, last + 1)]
