"""webhook endpoints per owner and url

Each endpoint (and so each signing secret) now belongs to one owner, a channel or a vendor: two
owners naming the same URL no longer share a secret. Existing endpoints take the owner of their
first delivery; an endpoint with no delivery left is dropped (the next delivery makes a new one).

Revision ID: 0013_security
Revises: 0007_users
Create Date: 2026-11-25 11:51:43.042754
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_security"
down_revision: str | Sequence[str] | None = "0010_onport"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FIRST_DELIVERY = (
    "(SELECT {column} FROM webhook_deliveries d WHERE d.endpoint_id = webhook_endpoints.id "
    "ORDER BY d.id LIMIT 1)"
)


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_type", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
    owner_type = _FIRST_DELIVERY.format(
        column="CASE WHEN d.dropship_provider_id IS NOT NULL THEN 'vendor' ELSE 'channel' END"
    )
    owner_id = _FIRST_DELIVERY.format(column="COALESCE(d.dropship_provider_id, d.channel_id)")
    op.execute(f"UPDATE webhook_endpoints SET owner_type = {owner_type}, owner_id = {owner_id}")
    op.execute("DELETE FROM webhook_endpoints WHERE owner_type IS NULL OR owner_id IS NULL")
    url_unique = next(
        (
            c["name"] or "uq_webhook_endpoints_url"  # SQLite: unnamed, named by the convention
            for c in sa.inspect(op.get_bind()).get_unique_constraints("webhook_endpoints")
            if c["column_names"] == ["url"]
        ),
        None,
    )
    with op.batch_alter_table(
        "webhook_endpoints",
        schema=None,
        naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"},
    ) as batch_op:
        if url_unique is not None:
            batch_op.drop_constraint(url_unique, type_="unique")
        batch_op.alter_column("owner_type", existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column("owner_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(
            "uq_webhook_endpoints_owner_url", ["owner_type", "owner_id", "url"]
        )


def downgrade() -> None:
    # Endpoints of different owners may share a URL now: keep the oldest of each URL.
    op.execute(
        "DELETE FROM webhook_endpoints WHERE id NOT IN "
        "(SELECT MIN(id) FROM webhook_endpoints GROUP BY url)"
    )
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_constraint("uq_webhook_endpoints_owner_url", type_="unique")
        batch_op.create_unique_constraint("webhook_endpoints_url_key", ["url"])
        batch_op.drop_column("owner_id")
        batch_op.drop_column("owner_type")
