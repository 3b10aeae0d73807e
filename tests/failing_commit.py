"""A write that the database refuses only when its transaction commits."""

from sqlalchemy import text
from sqlalchemy.orm import Session


def add_a_row_that_fails_at_commit(session: Session) -> None:
    """A row whose deferred foreign key is checked, and fails, only at the commit."""
    session.execute(text("CREATE TEMP TABLE IF NOT EXISTS dw_parent (id INTEGER PRIMARY KEY)"))
    session.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS dw_child (parent_id INTEGER"
            " REFERENCES dw_parent (id) DEFERRABLE INITIALLY DEFERRED)"
        )
    )
    session.execute(text("INSERT INTO dw_child (parent_id) VALUES (42)"))
