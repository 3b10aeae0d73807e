"""A worker's and a group committer's PostgreSQL connections plan each execution of a prepared
statement for the tables as they are now.

A generic plan made while the queue was nearly empty walked every queued job once it was deep
(see `core.db.planning`); these tests read the server's own count of generic and custom plans.
"""

from sqlalchemy import Connection

from dropwire.core.db import Database, Role
from dropwire.jobs import claiming, service

CLAIMS = 12  # psycopg prepares a statement on its fifth execution; PostgreSQL makes five custom
# plans of a prepared statement, then weighs a generic plan against them


def _plans_after_claims(database: Database, connection: Connection) -> tuple[int, int]:
    with database.transaction() as session:
        service.enqueue(session, kind="test.make_warehouse", payload={"name": "plan"})
    for _ in range(CLAIMS):
        claiming.claim_batch(database, "planner", limit=5, held=connection)
    generic, custom = connection.exec_driver_sql(
        "SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0)"
        " FROM pg_prepared_statements"
    ).one()
    connection.rollback()
    return int(generic), int(custom)


def test_a_workers_prepared_statements_are_planned_per_execution(postgres_only, database):
    worker = database.for_role(Role.worker)
    with worker.engine.connect() as connection:
        generic, custom = _plans_after_claims(worker, connection)
    assert generic == 0
    assert custom > 5  # the claims did run prepared, each planned for itself


def test_a_group_committers_prepared_statements_are_planned_per_execution(
    postgres_only, database, app
):
    """The async accepts' look-up of stored sales, on a generic plan made while the table was
    empty, read every sale of the channel for each group."""
    committer = app.state.group_committer.database
    assert committer.role is Role.group_commit
    with committer.engine.connect() as connection:
        generic, custom = _plans_after_claims(committer, connection)
    assert generic == 0
    assert custom > 5


def test_the_api_keeps_the_server_default_which_goes_generic(postgres_only, database):
    """The check above tells the two apart: the API's connections, at the server's default
    (`auto`), run the same claims on a generic plan."""
    with database.for_role(Role.api).engine.connect() as connection:
        generic, _ = _plans_after_claims(database, connection)
    assert generic > 0
