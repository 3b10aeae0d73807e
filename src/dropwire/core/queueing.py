"""What the two durable queues (jobs, outbound deliveries) share about claiming rows in order."""

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, literal_column
from sqlalchemy.orm import Session, aliased

T = TypeVar("T")


def first_in_line(model: Any, key: str, unfinished: tuple[str, ...]) -> ColumnElement[bool]:
    """True for rows without a key, or with no earlier unfinished row under the same key.

    The states are written into the SQL, not bound: a partial index on (key, id) of unfinished
    rows then serves the probe, in PostgreSQL's generic plans of prepared statements too.
    """
    earlier = aliased(model)
    column = getattr(model, key)
    states: list[ColumnElement[str]] = [literal_column(f"'{state}'") for state in unfinished]
    blocked = exists().where(
        and_(
            getattr(earlier, key) == column,
            earlier.id < model.id,
            earlier.state.in_(states),
        )
    )
    first: ColumnElement[bool] = column.is_(None) | ~blocked
    return first


def skipping_locked(session: Session, stmt: Select[T]) -> Select[T]:
    """On PostgreSQL, lock the claimed rows and skip those another worker is claiming."""
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt  # SQLite: the writer already holds the database lock
