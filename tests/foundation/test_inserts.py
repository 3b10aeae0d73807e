"""`insert_rows`: plain rows of one table in one statement, stored as given, ids in their order."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Table, select

from dropwire.core.inserts import insert_rows, insert_rows_returning_ids, update_rows
from dropwire.core.time import utcnow
from dropwire.jobs.models import Job


@pytest.mark.parametrize("count", [1, 60, 1201])  # 1201: SQLite takes them in three statements
def test_rows_are_stored_as_given_with_ids_in_their_order(database, count):
    table = Job.__table__
    assert isinstance(table, Table)
    now = utcnow()
    rows = [
        {
            "kind": "test.rows",
            "payload": {"n": n, "text": 'é€ "quoted" \\ back', "nested": [1, None]},
            "priority": 100 - n,  # ids must follow the rows, not any column
            "state": "queued",
            "attempts": 0,
            "max_attempts": 5,
            "run_at": now + timedelta(seconds=n),  # differing values as well as shared ones
            # strings go to PostgreSQL as an array literal: what its syntax means must survive
            "ordering_key": None if n % 2 else f'key-{n} "q" \\ {{a,b}} NULL, é€ ',
            "dedupe_key": {0: "", 3: "NULL"}.get(n),  # unique: the word, not a NULL
            "last_error": None,  # a column of nothing but NULLs
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]
    with database.write_engine.begin() as connection:
        insert_rows(connection, table, rows)
        insert_rows(connection, table, [])
    with database.session(write=False) as session:
        stored = session.scalars(select(Job).where(Job.kind == "test.rows").order_by(Job.id)).all()
    assert [job.payload for job in stored] == [row["payload"] for row in rows]
    assert [job.priority for job in stored] == [row["priority"] for row in rows]
    assert [job.ordering_key for job in stored] == [row["ordering_key"] for row in rows]
    assert [job.run_at for job in stored] == [row["run_at"] for row in rows]
    assert {job.created_at for job in stored} == {now}
    assert [job.dedupe_key for job in stored] == [row["dedupe_key"] for row in rows]
    assert {job.last_error for job in stored} == {None}


def _job(n: int, now: datetime) -> dict[str, object]:
    return {
        "kind": "test.ids",
        "payload": {"n": n},
        "priority": 100 - n,
        "state": "queued",
        "attempts": 0,
        "max_attempts": 5,
        "run_at": now,
        "ordering_key": None,
        "dedupe_key": None,
        "created_at": now,
        "updated_at": now,
    }


def test_ids_come_back_in_the_order_of_the_rows_and_updates_take_each_its_values(database):
    table = Job.__table__
    assert isinstance(table, Table)
    now = utcnow()
    with database.write_engine.begin() as connection:
        ids = insert_rows_returning_ids(connection, table, [_job(n, now) for n in range(60)])
        update_rows(connection, table, [{"id": i, "attempts": i % 7} for i in ids[::2]])
    with database.session(write=False) as session:
        stored = session.scalars(select(Job).where(Job.kind == "test.ids").order_by(Job.id)).all()
    assert [job.id for job in stored] == ids
    assert [job.payload["n"] for job in stored] == list(range(60))
    assert [job.attempts for job in stored] == [
        job.id % 7 if n % 2 == 0 else 0 for n, job in enumerate(stored)
    ]


def test_updates_stamp_the_columns_stamped_on_update(database):
    """`updated_at` moves on an update that does not set it, as on the ORM's own updates (on
    PostgreSQL and SQLite alike), and keeps what an update sets."""
    table = Job.__table__
    assert isinstance(table, Table)
    then = utcnow() - timedelta(days=1)
    with database.write_engine.begin() as connection:
        ids = insert_rows_returning_ids(connection, table, [_job(n, then) for n in range(2)])
        update_rows(connection, table, [{"id": ids[0], "attempts": 3}])
        update_rows(connection, table, [{"id": ids[1], "attempts": 4, "updated_at": then}])
    with database.session(write=False) as session:
        stamped, kept = session.scalars(select(Job).where(Job.id.in_(ids)).order_by(Job.id))
    assert stamped.updated_at > then + timedelta(hours=23)
    assert kept.updated_at == then
    assert (stamped.attempts, kept.attempts) == (3, 4)
