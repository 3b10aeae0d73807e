"""Inserts (and an update) several domains need and the two databases spell differently.

`insert_all` inserts many new ORM objects of one class with one statement and keeps using them as
objects. The ORM's flush already batches INSERT ... RETURNING on PostgreSQL, but SQLite's dialect
has no way to match RETURNING rows to parameter sets, so the ORM falls back to one INSERT per row
there. Here the ids come back from one multi-row INSERT: on PostgreSQL in parameter order
(SQLAlchemy's `sort_by_parameter_order`), on SQLite sorted, because while this transaction holds
SQLite's write lock each new row of an INTEGER PRIMARY KEY table gets the next rowid in the
order of the VALUES.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import (
    Column,
    Connection,
    Dialect,
    Integer,
    Numeric,
    Row,
    String,
    Table,
    inspect,
    literal_column,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.instrumentation import manager_of_class


def _default(column: Any) -> Any:
    default = column.default
    if default is None:
        return None
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps zero-argument callables to take a context
    if default.is_scalar:
        return default.arg
    raise ValueError(f"{column} has a default this helper can't evaluate")


_SHAREABLE = (str, int, float, Decimal, datetime, type(None))
"""Defaults of these types can't be changed in place: one value serves every row."""


def _rows(objects: Sequence[Any]) -> tuple[Any, Any, list[dict[str, Any]]]:
    """Each object's row, its unset attributes given their defaults. A default is evaluated
    once per call when immutable (the rows of one INSERT share their timestamps, bind-processed
    once), a mutable one (`dict`, `list`) per object. Values go straight into the object's
    `__dict__`, which becomes its committed state when it turns persistent (`_persist`): no
    attribute events for objects that are about to match their rows anyway."""
    mapper = inspect(type(objects[0]))
    (pk,) = mapper.primary_key
    table = mapper.local_table
    columns = [  # stored columns only (a column_property reading another table is no column)
        (p.key, p.columns[0])
        for p in mapper.column_attrs
        if p.columns[0] is not pk and getattr(p.columns[0], "table", None) is table
    ]
    shared: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    for obj in objects:
        values = obj.__dict__
        row: dict[str, Any] = {}
        for key, column in columns:
            if key not in values:
                if key in shared:
                    values[key] = shared[key]
                else:
                    values[key] = _default(column)
                    if isinstance(values[key], _SHAREABLE):
                        shared[key] = values[key]
            row[column.key] = values[key]
        rows.append(row)
    return mapper.local_table, pk, rows


def _persist(session: Session, obj: Any, pk: Any, new_id: int) -> None:
    obj.__dict__[pk.key] = new_id
    make_transient_to_detached(obj)
    session.add(obj)


Mapped = TypeVar("Mapped")


def new_row(cls: type[Mapped], **values: Any) -> Mapped:
    """A transient object for `insert_all`, its values put straight into its `__dict__` (where
    `insert_all` reads them): the mapped constructor's attribute events cost eight times as
    much, and the history they record is reset when the object turns persistent anyway."""
    obj: Mapped = manager_of_class(cls).new_instance()
    obj.__dict__.update(values)
    return obj


def insert_all(session: Session, *, objects: Sequence[Any]) -> None:
    """INSERT transient objects of one mapped class in one statement; they become persistent.

    Attributes left unset get their column's Python default. Rows they reference must already
    be written: pending changes of other objects are left for the next flush (no autoflush, so
    they go out together). The objects must not be attached to a relationship of a session
    object yet (the cascade would insert them a second time); attach them afterwards with
    `set_committed_value`.
    """
    if not objects:
        return
    table, pk, rows = _rows(objects)
    with session.no_autoflush:
        ids = insert_rows_returning_ids(session.connection(), table, rows)
    for obj, new_id in zip(objects, ids, strict=True):
        _persist(session, obj, pk, new_id)


def insert_unread(session: Session, *, objects: Sequence[Any]) -> None:
    """INSERT transient objects of one mapped class in one statement, as rows only: they stay
    transient and get no ids (for rows nobody reads back in this unit of work, such as ledger
    entries), which saves making each one persistent."""
    if not objects:
        return
    table, _pk, rows = _rows(objects)
    with session.no_autoflush:
        insert_rows(session.connection(), table, rows)


def insert_unless_taken(session: Session, *, obj: Any) -> bool:
    """INSERT one transient object unless a unique key is already taken (ON CONFLICT DO
    NOTHING: no savepoint needed to survive the clash); True when it was inserted."""
    table, pk, (row,) = _rows([obj])
    dialect = session.get_bind().dialect.name
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    with session.no_autoflush:
        new_id = session.execute(
            insert_(table).values(row).on_conflict_do_nothing().returning(pk)
        ).scalar()
    if new_id is None:
        return False
    _persist(session, obj, pk, new_id)
    return True


def insert_each_unless_taken(
    session: Session, *, objects: Sequence[Any], key: Sequence[str]
) -> list[bool]:
    """`insert_unless_taken` for many transient objects of one class in one statement: those whose
    unique keys are free are inserted (and become persistent), the others are left out. `key`
    names the attributes of a unique key, by which the inserted rows are matched to the objects
    (no two objects may share it). Answers, per object, whether it was inserted."""
    if not objects:
        return []
    table, pk, rows = _rows(objects)
    columns = [table.c[name] for name in key]
    with session.no_autoflush:
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            result = _unnest(
                connection, table, rows, returning=[pk, *columns], on_conflict_do_nothing=True
            )
        else:
            statement = sqlite_insert(table).on_conflict_do_nothing().returning(pk, *columns)
            result = list(session.execute(statement, rows))
        new_ids: dict[tuple[Any, ...], int] = {tuple(row[1:]): row[0] for row in result}
    inserted = []
    for obj in objects:
        new_id = new_ids.get(tuple(getattr(obj, name) for name in key))
        if new_id is not None:
            _persist(session, obj, pk, new_id)
        inserted.append(new_id is not None)
    return inserted


def insert_ignoring_conflict(
    session: Session, *, model: type[Any], values: dict[str, Any], conflict_columns: list[str]
) -> bool:
    """INSERT that quietly does nothing when a concurrent writer inserted the same key first.

    True when this call inserted the row.
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict_columns)
    # RETURNING, not rowcount: psycopg reports a row count for a skipped row too
    return session.execute(stmt.returning(literal_column("1"))).first() is not None


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT plain rows of one table (the same keys in each) in one statement, ids in order.

    The values go to the driver already bind-processed, a value all rows share (a group's
    timestamps) processed once. On PostgreSQL one array per column, through `unnest`, and a
    value all rows share bound once instead (dumping an array of copies, element by element in
    Python, was most of the CPU left): the statement's text depends only on which columns
    share a value, never on the number of rows, so psycopg parses it once and the server
    prepares it once. A multi-row VALUES is a new text of a parameter per value, which psycopg
    parses again on every execution (it caches none over 50 parameters): that was most of the
    CPU a group commit spent per request. On SQLite a multi-row VALUES: one statement for the
    rows, not a step per row.
    """
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        _unnest(connection, table, rows)
    else:
        _values(connection, table, rows)


def insert_rows_returning_ids(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]]
) -> list[int]:
    """`insert_rows`, answering the new rows' ids in the order of the rows.

    Both databases number a statement's new rows in the order it makes them (the order given),
    so sorting the ids matches them to the rows, as SQLAlchemy's `sort_by_parameter_order`
    does for an integer key."""
    if not rows:
        return []
    (pk,) = table.primary_key.columns
    if connection.dialect.name == "postgresql":
        made = _unnest(connection, table, rows, returning=[pk])
    else:
        made = _values(connection, table, rows, returning=[pk])
    return sorted(new_id for (new_id,) in made)


def _values(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    returning: Sequence[Column[Any]] = (),
) -> list[Row[Any]]:
    """SQLite: INSERT the rows through multi-row VALUES (`insert_rows`), a statement per
    `_ROWS_PER_VALUES` rows; answers the `returning` columns of the rows inserted."""
    dialect = connection.dialect
    preparer = dialect.identifier_preparer
    columns = [table.c[name] for name in rows[0]]
    values = [_array(column, rows, dialect) for column in columns]
    names = ", ".join(preparer.quote(column.name) for column in columns)
    target = preparer.format_table(table)
    placeholders = "(" + ", ".join("?" * len(columns)) + ")"
    tail = _returning(dialect, returning)
    made: list[Row[Any]] = []
    for start in range(0, len(rows), _ROWS_PER_VALUES):
        part = [array[start : start + _ROWS_PER_VALUES] for array in values]
        count = len(part[0])
        statement = (
            f"INSERT INTO {target} ({names}) VALUES {', '.join([placeholders] * count)}{tail}"
        )
        result = connection.exec_driver_sql(
            statement, tuple(v for row in zip(*part, strict=True) for v in row)
        )
        if returning:
            made.extend(result)
    return made


def update_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE rows of one table by id, each with its own values (the same keys in each, `id`
    among them), in one statement: on PostgreSQL from one array per column through `unnest`
    (one statement text for any number of rows, as `insert_rows`), on SQLite an executemany.
    Its `onupdate` columns are stamped, as `update_write` stamps them."""
    if not rows:
        return
    dialect = connection.dialect
    if dialect.name == "postgresql":
        write = update_write(dialect, table, rows, prefix="c")
        connection.exec_driver_sql(write.sql, write.parameters)
        return
    rows = _stamped(table, rows)
    preparer = dialect.identifier_preparer
    (pk,) = table.primary_key.columns
    columns = [table.c[name] for name in rows[0] if name != pk.key]
    assignments = ", ".join(f"{preparer.quote(column.name)} = ?" for column in columns)
    values = [_array(column, rows, dialect) for column in [*columns, pk]]
    connection.exec_driver_sql(
        f"UPDATE {preparer.format_table(table)} SET {assignments}"
        f" WHERE {preparer.quote(pk.name)} = ?",
        list(zip(*values, strict=True)),
    )


@dataclass(frozen=True)
class Write:
    """PostgreSQL: a write as its SQL text and parameters, to run alone or to ride in another
    statement as a CTE (`riding`). Its text depends on the table and columns only, never on
    the number of rows, so a statement made of such writes is parsed and prepared once: a
    statement built of SQLAlchemy constructs with a VALUES list has no cache key, and compiling
    it anew for every shipment cost more than PostgreSQL took to run it."""

    sql: str
    parameters: dict[str, Any]


def insert_write(
    dialect: Dialect, table: Table, rows: Sequence[dict[str, Any]], *, prefix: str, tail: str = ""
) -> Write:
    """The INSERT of `insert_rows` on PostgreSQL as a `Write` (its parameters named `prefix`
    and a number); `tail` follows the SELECT (an ON CONFLICT clause, a RETURNING)."""
    preparer = dialect.identifier_preparer
    columns = [table.c[name] for name in rows[0]]
    names = ", ".join(preparer.quote(column.name) for column in columns)
    types = [_binding(column, dialect).type_sql for column in columns]
    values = [_array(column, rows, dialect) for column in columns]
    once = [all(value is array[0] for value in array) for array in values]
    once[0] = once[0] and not all(once)  # unnest needs an array (a single row: all shared)
    unnested = [n for n in range(len(columns)) if not once[n]]
    arrays = ", ".join(
        f"CAST({_placeholder(prefix, n, columns[n])} AS {types[n]}[])" for n in unnested
    )
    aliases = ", ".join(f"c{n}" for n in unnested)
    selected = ", ".join(
        f"CAST(%({prefix}{n})b AS {types[n]})" if once[n] else f"c{n}" for n in range(len(columns))
    )
    return Write(
        # in array order, so ids follow it (as `sort_by_parameter_order` does)
        f"INSERT INTO {preparer.format_table(table)} ({names}) SELECT {selected}"
        f" FROM unnest({arrays}) WITH ORDINALITY AS given({aliases}, position) ORDER BY position"
        + tail,
        {
            f"{prefix}{n}": array[0] if once[n] else _pg_array(columns[n], array)
            for n, array in enumerate(values)
        },
    )


def update_write(
    dialect: Dialect, table: Table, rows: Sequence[dict[str, Any]], *, prefix: str
) -> Write:
    """The UPDATE of `update_rows` on PostgreSQL as a `Write`, its `onupdate` columns stamped."""
    return _update_sql(dialect, table, _stamped(table, rows), prefix=prefix)


def _stamped(table: Table, rows: Sequence[dict[str, Any]]) -> Sequence[dict[str, Any]]:
    """The rows with the table's `onupdate` columns they do not set (SQLAlchemy fills those in
    only for the UPDATEs it writes itself), one value for all."""
    names = set(rows[0])
    stamps = {
        c.key: c.onupdate.arg(None)  # type: ignore[attr-defined]
        for c in table.c
        if c.onupdate is not None and c.onupdate.is_callable and c.key not in names
    }
    return [row | stamps for row in rows] if stamps else rows


def _update_sql(
    dialect: Dialect, table: Table, rows: Sequence[dict[str, Any]], *, prefix: str
) -> Write:
    preparer = dialect.identifier_preparer
    (pk,) = table.primary_key.columns
    every = [pk, *(table.c[name] for name in rows[0] if name != pk.key)]
    target = preparer.format_table(table)
    arrays = ", ".join(
        f"CAST({_placeholder(prefix, n, column)} AS {_binding(column, dialect).type_sql}[])"
        for n, column in enumerate(every)
    )
    aliases = ", ".join(f"c{n}" for n in range(len(every)))
    assignments = ", ".join(
        f"{preparer.quote(column.name)} = given.c{n}" for n, column in enumerate(every) if n
    )
    return Write(
        f"UPDATE {target} SET {assignments} FROM unnest({arrays}) AS given({aliases})"
        f" WHERE {target}.{preparer.quote(pk.name)} = given.c0",
        {
            f"{prefix}{n}": _pg_array(column, _array(column, rows, dialect))
            for n, column in enumerate(every)
        },
    )


def riding(riders: Sequence[Write], statement: Write) -> Write:
    """One statement: `statement`, the riders before it as data-modifying CTEs (PostgreSQL runs
    each exactly once, whether or not anything reads it). Their parameter names must differ."""
    if not riders:
        return statement
    ctes = ", ".join(f"rider_{n} AS ({rider.sql})" for n, rider in enumerate(riders))
    parameters = dict(statement.parameters)
    for rider in riders:
        parameters |= rider.parameters
    return Write(f"WITH {ctes} {statement.sql}", parameters)


_ROWS_PER_VALUES = 500
"""Rows per SQLite INSERT: far under its limit of 32,766 parameters for any table of ours."""


def _unnest(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    returning: Sequence[Column[Any]] = (),
    on_conflict_do_nothing: bool = False,
) -> list[Row[Any]]:
    """PostgreSQL: INSERT the rows from one binary array per column (`insert_rows`), a value
    all rows share bound once instead (dumping an array of copies, element by element in
    Python, cost more than the rest), the new rows made in the order given; answers the
    `returning` columns of the rows inserted."""
    dialect = connection.dialect
    tail = " ON CONFLICT DO NOTHING" if on_conflict_do_nothing else ""
    tail += _returning(dialect, returning)
    write = insert_write(dialect, table, rows, prefix="c", tail=tail)
    result = connection.exec_driver_sql(write.sql, write.parameters)
    return list(result) if returning else []


def _as_text(column: Column[Any]) -> bool:
    """Numbers and strings go to PostgreSQL as one array literal (`{1,2.50,NULL}`,
    `{"a\\"b",NULL}`): `str` of each is C code, where the driver dumps a binary array element
    by element in Python (that was a third of the CPU of invoicing a batch). Other types
    (times, JSON) binary."""
    return isinstance(column.type, Integer | Numeric | String)


def _placeholder(prefix: str, n: int, column: Column[Any]) -> str:
    return f"%({prefix}{n})s" if _as_text(column) else f"%({prefix}{n})b"


def _pg_array(column: Column[Any], values: list[Any]) -> Any:
    if not _as_text(column):
        return values
    if isinstance(column.type, String):
        return "{" + ",".join(_quoted(value) for value in values) + "}"
    return "{" + ",".join("NULL" if value is None else str(value) for value in values) + "}"


def _quoted(value: object) -> str:
    if value is None:
        return "NULL"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _returning(dialect: Dialect, columns: Sequence[Column[Any]]) -> str:
    quote = dialect.identifier_preparer.quote
    return (" RETURNING " + ", ".join(quote(column.name) for column in columns)) if columns else ""


@dataclass(frozen=True)
class _Binding:
    """How a dialect takes a column's values: its type as written in a cast, and its bind
    processor (an engine's settings, such as its JSON serializer, shape it)."""

    type_sql: str
    process: Callable[[Any], Any] | None


_BINDINGS: "WeakKeyDictionary[Dialect, dict[tuple[str, str], _Binding]]" = WeakKeyDictionary()


def _binding(column: Column[Any], dialect: Dialect) -> _Binding:
    """Made once per dialect and column rather than per statement: compiling the casts' types
    was a twentieth of a group of sales' time."""
    made = _BINDINGS.setdefault(dialect, {})
    key = (column.table.name, column.key)
    if key not in made:
        made[key] = _Binding(
            column.type.compile(dialect=dialect),
            column.type.dialect_impl(dialect).bind_processor(dialect),
        )
    return made[key]


def _array(column: Column[Any], rows: Sequence[dict[str, Any]], dialect: Dialect) -> list[Any]:
    """A column's values as the driver takes them (what SQLAlchemy's bind processing makes of
    each); a value every row shares (a group's timestamps) is processed once."""
    values = [row[column.key] for row in rows]
    process = _binding(column, dialect).process
    if process is None:
        return values
    first = values[0]
    if all(value is first for value in values):
        return [process(first)] * len(values)
    return [process(value) for value in values]
