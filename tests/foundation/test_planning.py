"""PostgreSQL plans each execution of a prepared statement for the tables as they are now.

A generic plan made while the queue was nearly empty walked every queued job once it was deep
(see `core.db.PLANNING`); these tests read the server's own count of generic and custom plans.
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


def test_prepared_statements_are_planned_per_execution_for_both_roles(postgres_only, database):
    for role in (Role.api, Role.worker):
        of_role = database.for_role(role)
        with of_role.engine.connect() as connection:
            generic, custom = _plans_after_claims(of_role, connection)
        assert generic == 0
        assert custom > 5  # the claims did run prepared, each planned for itself


def test_the_server_default_would_have_kept_a_generic_plan(postgres_only, database):
    """The check above tells the two apart: left at `auto`, the same claims go generic."""
    with database.engine.connect() as connection:
        connection.exec_driver_sql("SET plan_cache_mode = auto")
        connection.commit()
        generic, _ = _plans_after_claims(database, connection)
    assert generic > 0
