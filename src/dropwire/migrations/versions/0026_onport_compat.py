"""Onport compatibility: API users' email and name, vendors' default carrier, sale clones and
source, purchase notes, vendors' shipping rate tables, variant weights,
data exports

Revision ID: 0026_onport_compat
Revises: 0025_list_indexes
Create Date: 2026-12-07 01:53:24.415431
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_onport_compat"
down_revision: str | Sequence[str] | None = "0025_list_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_exports",
        sa.Column("export_type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("inventory_feed_id", sa.Integer(), nullable=True),
        sa.Column("dropship_provider_id", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["inventory_feed_id"], ["inventory_feeds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("data_exports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_data_exports_dropship_provider_id"),
            ["dropship_provider_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_data_exports_inventory_feed_id"), ["inventory_feed_id"], unique=False
        )

    op.create_table(
        "shipping_rates",
        sa.Column("dropship_provider_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("code", sa.String(length=255), nullable=True),
        sa.Column("carrier", sa.String(length=255), nullable=True),
        sa.Column("service_level", sa.String(length=255), nullable=True),
        sa.Column("price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("min_grams", sa.Integer(), nullable=True),
        sa.Column("max_grams", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dropship_provider_id"], ["dropship_providers.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("shipping_rates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shipping_rates_dropship_provider_id"),
            ["dropship_provider_id"],
            unique=False,
        )

    with op.batch_alter_table("variants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grams", sa.Integer(), server_default="0", nullable=False))

    with op.batch_alter_table("api_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("first_name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("last_name", sa.String(length=255), nullable=True))

    with op.batch_alter_table("dropship_providers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("default_carrier", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("default_service_level", sa.String(length=255), nullable=True)
        )

    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))

    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("clone_reason", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("cloned_from_sale_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_sales_cloned_from_sale_id"), ["cloned_from_sale_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("data_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_exports_inventory_feed_id"))
        batch_op.drop_index(batch_op.f("ix_data_exports_dropship_provider_id"))

    op.drop_table("data_exports")
    with op.batch_alter_table("variants", schema=None) as batch_op:
        batch_op.drop_column("grams")

    with op.batch_alter_table("shipping_rates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipping_rates_dropship_provider_id"))

    op.drop_table("shipping_rates")
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_cloned_from_sale_id"))
        batch_op.drop_column("cloned_from_sale_id")
        batch_op.drop_column("clone_reason")
        batch_op.drop_column("source")

    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.drop_column("notes")

    with op.batch_alter_table("dropship_providers", schema=None) as batch_op:
        batch_op.drop_column("default_service_level")
        batch_op.drop_column("default_carrier")

    with op.batch_alter_table("api_users", schema=None) as batch_op:
        batch_op.drop_column("last_name")
        batch_op.drop_column("first_name")
        batch_op.drop_column("email")
