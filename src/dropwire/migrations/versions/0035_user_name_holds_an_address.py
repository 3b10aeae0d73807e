"""A person's name holds an email address: an invited person without a name is named by it

Revision ID: 0035_user_name_holds_an_address
Revises: 0034_mail_composed_when_sent
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035_user_name_holds_an_address"
down_revision: str | Sequence[str] | None = "0034_mail_composed_when_sent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enforces_lengths() -> bool:
    """SQLite keeps strings of any length whatever the declared type, and rebuilding the table
    to change only its declared length would reflect indexes it cannot read."""
    return op.get_bind().dialect.name != "sqlite"


def upgrade() -> None:
    if _enforces_lengths():
        op.alter_column(
            "users", "name", existing_type=sa.VARCHAR(length=255), type_=sa.String(length=320)
        )


def downgrade() -> None:
    if _enforces_lengths():
        op.execute("UPDATE users SET name = substr(name, 1, 255) WHERE length(name) > 255")
        op.alter_column(
            "users", "name", existing_type=sa.String(length=320), type_=sa.VARCHAR(length=255)
        )
