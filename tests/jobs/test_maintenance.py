"""The hourly maintenance job: what it prunes, and on SQLite the planner's statistics."""

from datetime import timedelta

from sqlalchemy import func, select, text

from dropwire.core.time import utcnow
from dropwire.jobs import service
from dropwire.jobs.models import Job, JobState
from dropwire.jobs.worker import MAINTENANCE, _maintenance


def _queue(database, count: int) -> None:
    with database.transaction() as session:
        for n in range(count):
            service.enqueue(session, kind="test.make_warehouse", payload={"name": f"w{n}"})


def test_maintenance_comes_back_in_an_hour(database):
    with database.transaction() as session:
        _maintenance(session, {})
    with database.session(write=False) as session:
        (job,) = session.scalars(select(Job).where(Job.kind == MAINTENANCE)).all()
    assert job.state == JobState.queued
    assert job.run_at > utcnow() + timedelta(minutes=59)


def test_on_sqlite_maintenance_gives_the_planner_statistics(database, is_postgres):
    """Without them SQLite's planner picks indexes by their shape alone (see `_maintenance`)."""
    _queue(database, 30)
    with database.transaction() as session:
        _maintenance(session, {})
    with database.session(write=False) as session:
        if is_postgres:  # autovacuum gathers PostgreSQL's: the job leaves them to it
            assert session.scalar(select(func.count()).select_from(Job)) == 31
            return
        rows = dict(
            session.execute(text("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'jobs'")).all()
        )
    assert rows, "ANALYZE stored no statistics for the jobs table"
    assert all(int(stat.split()[0]) > 0 for stat in rows.values())
