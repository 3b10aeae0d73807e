"""Alembic, driven from code: `dropwire migrate`, the start-up check and `/ready` use this."""

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from dropwire.core.db import Database


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", "dropwire:migrations")
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    config.attributes["engine"] = database.engine
    return config


def upgrade(database: Database) -> None:
    command.upgrade(alembic_config(database), "heads")


def pending(database: Database) -> set[str]:
    """Revisions the code has that the database lacks (empty when current)."""
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
