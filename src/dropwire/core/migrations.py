"""Alembic, driven from code: `dropwire migrate`, the start-up check and `/ready` use this.

Alembic (and the template engine and highlighter it loads) is imported on the first call, not
with the module: an API or worker process that is never asked `/ready` skips its import."""

from typing import TYPE_CHECKING

from dropwire.core.db import Database

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(database: Database) -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "dropwire:migrations")
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    config.attributes["engine"] = database.engine
    return config


def upgrade(database: Database) -> None:
    from alembic import command

    command.upgrade(alembic_config(database), "heads")


def pending(database: Database) -> set[str]:
    """Revisions the code has that the database lacks (empty when current)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(database))
    with database.engine.connect() as connection:
        applied = set(MigrationContext.configure(connection).get_current_heads())
    wanted = set(script.get_heads())
    if applied == wanted:
        return set()
    missing: set[str] = set()
    for head in wanted:
        for revision in script.iterate_revisions(head, "base"):
            missing.add(revision.revision)
    for head in applied:
        for revision in script.iterate_revisions(head, "base"):
            missing.discard(revision.revision)
    return missing
