"""What the two durable queues (jobs, outbound deliveries) share about claiming rows in order."""

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, literal_column, or_
from sqlalchemy.orm import Session, aliased

T = TypeVar("T")


def first_in_line(
    model: Any, key: str, unfinished: tuple[str, ...], *, in_progress: str
) -> ColumnElement[bool]:
    """True for rows without a key, or with no earlier unfinished row under the same key and
    none in progress.

    A row in progress holds back earlier rows as well as later ones: two transactions that add
    rows under one key can commit out of id order (two API processes), and the earlier row,
    seen only after the later one was taken, must not run beside it.

    The states are written into the SQL, not bound: a partial index on (key, id) of unfinished
    rows then serves the probe, in PostgreSQL's generic plans of prepared statements too.
    """
    other = aliased(model)
    column = getattr(model, key)
    states: list[ColumnElement[str]] = [literal_column(f"'{state}'") for state in unfinished]
    blocked = exists().where(
        and_(
            getattr(other, key) == column,
            other.state.in_(states),
            or_(other.id < model.id, other.state == literal_column(f"'{in_progress}'")),
        )
    )
    first: ColumnElement[bool] = column.is_(None) | ~blocked
    return first


def skipping_locked(session: Session, stmt: Select[T]) -> Select[T]:
    """On PostgreSQL, lock the claimed rows and skip those another worker is claiming."""
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt  # SQLite: the writer already holds the database lock
