"""Insert many new ORM objects of one class with one statement, and keep using them as objects.

The ORM's flush already batches INSERT ... RETURNING on PostgreSQL, but SQLite's dialect has no
way to match RETURNING rows to parameter sets (SQLite returns them in no promised order), so the
ORM falls back to one INSERT per row there. Here the ids come back from one multi-row INSERT:
on PostgreSQL in parameter order (SQLAlchemy's `sort_by_parameter_order`), on SQLite sorted,
because while this transaction holds SQLite's write lock each new row of an INTEGER PRIMARY
KEY table gets the next rowid (max + 1) in the order of the VALUES.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, inspect
from sqlalchemy.orm import Session, make_transient_to_detached


def _default(column: Any) -> Any:
    default = column.default
    if default is None:
        return None
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps zero-argument callables to take a context
    if default.is_scalar:
        return default.arg
    raise ValueError(f"{column} has a default this helper can't evaluate")


def insert_all(session: Session, objects: Sequence[Any]) -> None:
    """INSERT transient objects of one mapped class in one statement; they become persistent.

    Attributes left unset get their column's Python default. The objects must not be attached
    to a relationship of a session object yet (the cascade would insert them a second time);
    attach them afterwards with `set_committed_value`.
    """
    if not objects:
        return
    mapper = inspect(type(objects[0]))
    table = mapper.local_table
    (pk,) = mapper.primary_key
    rows: list[dict[str, Any]] = []
    for obj in objects:
        state = obj.__dict__
        row: dict[str, Any] = {}
        for prop in mapper.column_attrs:
            column = prop.columns[0]
            if column is pk:
                continue
            if prop.key not in state:
                setattr(obj, prop.key, _default(column))
            row[column.key] = getattr(obj, prop.key)
        rows.append(row)
    if session.get_bind().dialect.name == "postgresql":
        stmt = insert(table).returning(pk, sort_by_parameter_order=True)
        ids = list(session.execute(stmt, rows).scalars())
    else:
        ids = sorted(session.execute(insert(table).returning(pk), rows).scalars())
    for obj, new_id in zip(objects, ids, strict=True):
        setattr(obj, pk.key, new_id)
        make_transient_to_detached(obj)
        session.add(obj)
