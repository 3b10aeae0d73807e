"""Sale references: 10001, 10002, ... unique however many sales race.

A reference names its sale's documents too: purchase orders `{reference}-NN`, their fulfillments,
returns `{reference}-RNN`. A sale that changes its reference keeps the old one (`FormerReference`):
another sale under that name would number its documents the same (10001-01 twice)."""

from collections.abc import Collection
from functools import cache

from sqlalchemy import CompoundSelect, select, text, union
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from dropwire.core.expressions import among_bound
from dropwire.core.inserts import insert_ignoring_conflict
from dropwire.sales.errors import SaleReferenceTaken
from dropwire.sales.models import (
    Counter,
    FormerReference,
    Sale,
)

FIRST_REFERENCE = 10001

# --- references ----------------------------------------------------------------------------


def used_among(session: Session, *, references: Collection[str]) -> set[str]:
    """Which of these references sales have or had: one query for all of them."""
    if not references:
        return set()
    statement = _used_among(session.get_bind().dialect.name)
    return set(session.scalars(statement, {"references": list(set(references))}))


@cache
def _used_among(dialect: str) -> CompoundSelect[str]:
    return union(
        select(Sale.reference).where(among_bound(Sale.reference, "references", dialect)),
        select(FormerReference.reference).where(
            among_bound(FormerReference.reference, "references", dialect)
        ),
    )


def reference_taken(reference: str, field: str = "saleDefaults.reference") -> SaleReferenceTaken:
    return SaleReferenceTaken(reference, field)


def change_reference(session: Session, *, sale: Sale, reference: str, field: str) -> bool:
    """Give a stored sale another reference, unless another sale has or had it (a Conflict
    naming `field`); its own former ones it may take back. The old one stays the sale's."""
    if reference == sale.reference:
        return False
    held = session.scalar(
        union(
            select(Sale.id).where(Sale.reference == reference),
            select(FormerReference.sale_id).where(
                FormerReference.reference == reference, FormerReference.sale_id != sale.id
            ),
        ).limit(1)
    )
    if held is not None:
        raise reference_taken(reference, field)
    insert_ignoring_conflict(
        session,
        model=FormerReference,
        values={"reference": sale.reference, "sale_id": sale.id},
        conflict_columns=["reference"],
    )
    sale.reference = reference
    return True


def next_reference(session: Session) -> str:
    """The next sale reference (10001, 10002, ...), unique however many sales race."""
    (reference,) = next_references(session, count=1)
    return reference


def fresh_references(session: Session, *, count: int) -> tuple[list[str], set[str]]:
    """`next_references`, and which of them sales have or had (a channel may have chosen one of
    ours itself): on PostgreSQL in one statement, as a sale's transaction waits on each."""
    if count <= 0:
        return [], set()
    if session.get_bind().dialect.name != "postgresql":
        fresh = next_references(session, count=count)
        return fresh, used_among(session, references=fresh)
    rows = session.execute(_FRESH_REFERENCES, {"n": count}).all()
    return (
        [reference for reference, _ in sorted(rows, key=lambda row: int(row[0]))],
        {reference for reference, used in rows if used},
    )


_FRESH_REFERENCES = text(
    "SELECT fresh.reference,"
    " EXISTS (SELECT 1 FROM sales WHERE sales.reference = fresh.reference)"
    " OR EXISTS (SELECT 1 FROM sale_former_references AS former"
    " WHERE former.reference = fresh.reference)"
    " FROM (SELECT CAST(nextval('sale_reference_seq') AS TEXT) AS reference"
    " FROM generate_series(1, :n)) AS fresh"
)


def next_references(session: Session, *, count: int) -> list[str]:
    """The next `count` sale references, in order, in one or two statements.

    PostgreSQL uses a sequence (it never makes concurrent sales wait on each other); SQLite, whose
    writers are serial anyway, a counter row made or advanced by `count` in one statement.
    """
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        values = session.scalars(
            text("SELECT nextval('sale_reference_seq') FROM generate_series(1, :n)"), {"n": count}
        )
        return [str(value) for value in sorted(values)]
    first_use = {"name": "sale_reference", "value": FIRST_REFERENCE - 1 + count}
    last = session.execute(
        sqlite_insert(Counter)
        .values(first_use)
        .on_conflict_do_update(index_elements=["name"], set_={"value": Counter.value + count})
        .returning(Counter.value)
    ).scalar_one()
    return [str(value) for value in range(last - count + 1, last + 1)]
