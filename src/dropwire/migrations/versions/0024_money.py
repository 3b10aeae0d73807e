"""money: vendor commission settings, commission rules, vendor invoices and credits, the vendor
ledger and balances, payment methods and payments; sale currency and invoicing state of orders

Revision ID: 0024_money
Revises: 0023_elasticpath_store_id
Create Date: 2026-12-07 01:09:47.665642
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_money"
down_revision: str | Sequence[str] | None = "0023_elasticpath_store_id"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_methods",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "commission_rules",
        sa.Column("dropship_provider_id", sa.Integer(), nullable=True),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("tag", sa.String(length=255), nullable=True),
        sa.Column(
            "commission_rate", sa.Numeric(precision=14, scale=4), nullable=False, server_default="0"
        ),
        sa.Column("commission_rate_type", sa.String(length=16), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["dropship_provider_id"], ["dropship_providers.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("commission_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commission_rules_dropship_provider_id"),
            ["dropship_provider_id"],
            unique=False,
        )

    op.create_table(
        "payments",
        sa.Column("dropship_provider_id", sa.Integer(), nullable=False),
        sa.Column("payment_method_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("additional_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("invoice_ids", sa.JSON(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("payout_run", sa.String(length=64), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dropship_provider_id"], ["dropship_providers.id"], ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(["payment_method_id"], ["payment_methods.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payments_dropship_provider_id"), ["dropship_provider_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payments_payout_run"), ["payout_run"], unique=False)

    op.create_table(
        "vendor_balances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dropship_provider_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("owed", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("paid", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["dropship_provider_id"], ["dropship_providers.id"], ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dropship_provider_id", "currency"),
    )
    op.create_table(
        "vendor_invoices",
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("dropship_provider_id", sa.Integer(), nullable=False),
        sa.Column("purchase_id", sa.Integer(), nullable=False),
        sa.Column("sale_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("net", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("commission", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("shipping", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("payable", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("payable_at", sa.DateTime(), nullable=False),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("credited_invoice_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["credited_invoice_id"], ["vendor_invoices.id"]),
        sa.ForeignKeyConstraint(
            ["dropship_provider_id"], ["dropship_providers.id"], ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["purchase_id"], ["purchases.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["sale_id"], ["sales.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("vendor_invoices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_vendor_invoices_open", ["dropship_provider_id", "status", "currency"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vendor_invoices_payment_id"), ["payment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vendor_invoices_purchase_id"), ["purchase_id"], unique=False
        )

    op.create_table(
        "vendor_invoice_lines",
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("purchase_item_id", sa.Integer(), nullable=False),
        sa.Column("sale_item_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("net", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("commission", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("payable", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("rate", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("rate_type", sa.String(length=16), nullable=False),
        sa.Column("rate_base", sa.String(length=24), nullable=False),
        sa.Column("rate_source", sa.String(length=32), nullable=False),
        sa.Column(
            "commission_method", sa.String(length=16), nullable=False, server_default="retained"
        ),
        sa.Column("credited_line_id", sa.Integer(), nullable=True),
        sa.Column("credit_reason", sa.String(length=16), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["credited_line_id"], ["vendor_invoice_lines.id"]),
        sa.ForeignKeyConstraint(["invoice_id"], ["vendor_invoices.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["purchase_item_id"], ["purchase_items.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["sale_item_id"], ["sale_items.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("vendor_invoice_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vendor_invoice_lines_credited_line_id"),
            ["credited_line_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_vendor_invoice_lines_invoice_id"), ["invoice_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vendor_invoice_lines_purchase_item_id"),
            ["purchase_item_id"],
            unique=False,
        )

    op.create_table(
        "vendor_ledger_entries",
        sa.Column("dropship_provider_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dropship_provider_id"], ["dropship_providers.id"], ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(["invoice_id"], ["vendor_invoices.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("vendor_ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vendor_ledger_entries_invoice_id"), ["invoice_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vendor_ledger_entries_payment_id"), ["payment_id"], unique=False
        )
        batch_op.create_index(
            "ix_vendor_ledger_vendor", ["dropship_provider_id", "currency"], unique=False
        )

    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=True))

    with op.batch_alter_table("dropship_providers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "commission_method", sa.String(length=16), nullable=False, server_default="retained"
            )
        )
        batch_op.add_column(
            sa.Column(
                "commission_rate",
                sa.Numeric(precision=14, scale=4),
                nullable=False,
                server_default="0",
            )
        )
        batch_op.add_column(
            sa.Column(
                "commission_rate_type",
                sa.String(length=16),
                nullable=False,
                server_default="percentage",
            )
        )
        batch_op.add_column(
            sa.Column(
                "commission_rate_base",
                sa.String(length=24),
                nullable=False,
                server_default="saleItem",
            )
        )
        batch_op.add_column(
            sa.Column(
                "commission_rate_shipping",
                sa.Numeric(precision=14, scale=4),
                nullable=False,
                server_default="100",
            )
        )
        batch_op.add_column(
            sa.Column(
                "commission_rate_discount_split",
                sa.Numeric(precision=14, scale=4),
                nullable=False,
                server_default="100",
            )
        )
        batch_op.add_column(
            sa.Column(
                "apply_return_penalty",
                sa.String(length=16),
                nullable=False,
                server_default="disabled",
            )
        )
        batch_op.add_column(
            sa.Column(
                "payment_trigger",
                sa.String(length=16),
                nullable=False,
                server_default="afterShipping",
            )
        )
        batch_op.add_column(
            sa.Column(
                "payment_schedule", sa.String(length=16), nullable=False, server_default="manual"
            )
        )
        batch_op.add_column(
            sa.Column("payment_delay_days", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("payment_method_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("stripe_id", sa.String(length=255), nullable=True))
        batch_op.create_foreign_key(
            "fk_dropship_providers_payment_method_id",
            "payment_methods",
            ["payment_method_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("fulfillments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("purchase_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("quantity_invoiced", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "invoice_status", sa.String(length=24), nullable=False, server_default="notInvoiced"
            )
        )
        batch_op.add_column(
            sa.Column(
                "vendor_payment_status",
                sa.String(length=16),
                nullable=False,
                server_default="notPaid",
            )
        )

    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "invoice_status", sa.String(length=24), nullable=False, server_default="notInvoiced"
            )
        )
        batch_op.add_column(
            sa.Column(
                "vendor_payment_status",
                sa.String(length=16),
                nullable=False,
                server_default="notPaid",
            )
        )

    with op.batch_alter_table("sale_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "discount", sa.Numeric(precision=14, scale=2), nullable=False, server_default="0"
            )
        )

    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("currency", sa.String(length=3), nullable=False, server_default="USD")
        )

    with op.batch_alter_table("variants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("commission_rate", sa.Numeric(precision=14, scale=4), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "commission_rate_type",
                sa.String(length=16),
                nullable=False,
                server_default="percentage",
            )
        )
        batch_op.add_column(
            sa.Column(
                "commission_rate_routing",
                sa.String(length=24),
                nullable=False,
                server_default="dropship_provider",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("variants", schema=None) as batch_op:
        batch_op.drop_column("commission_rate_routing")
        batch_op.drop_column("commission_rate_type")
        batch_op.drop_column("commission_rate")

    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_column("currency")

    with op.batch_alter_table("sale_items", schema=None) as batch_op:
        batch_op.drop_column("discount")

    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.drop_column("vendor_payment_status")
        batch_op.drop_column("invoice_status")

    with op.batch_alter_table("fulfillments", schema=None) as batch_op:
        batch_op.drop_column("delivered_at")

    with op.batch_alter_table("purchase_items", schema=None) as batch_op:
        batch_op.drop_column("vendor_payment_status")
        batch_op.drop_column("invoice_status")
        batch_op.drop_column("quantity_invoiced")

    with op.batch_alter_table("dropship_providers", schema=None) as batch_op:
        batch_op.drop_constraint("fk_dropship_providers_payment_method_id", type_="foreignkey")
        batch_op.drop_column("stripe_id")
        batch_op.drop_column("payment_method_id")
        batch_op.drop_column("payment_delay_days")
        batch_op.drop_column("payment_schedule")
        batch_op.drop_column("payment_trigger")
        batch_op.drop_column("apply_return_penalty")
        batch_op.drop_column("commission_rate_discount_split")
        batch_op.drop_column("commission_rate_shipping")
        batch_op.drop_column("commission_rate_base")
        batch_op.drop_column("commission_rate_type")
        batch_op.drop_column("commission_rate")
        batch_op.drop_column("commission_method")

    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("currency")

    with op.batch_alter_table("vendor_ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_vendor_ledger_vendor")
        batch_op.drop_index(batch_op.f("ix_vendor_ledger_entries_payment_id"))
        batch_op.drop_index(batch_op.f("ix_vendor_ledger_entries_invoice_id"))

    op.drop_table("vendor_ledger_entries")
    with op.batch_alter_table("vendor_invoice_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendor_invoice_lines_purchase_item_id"))
        batch_op.drop_index(batch_op.f("ix_vendor_invoice_lines_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_vendor_invoice_lines_credited_line_id"))

    op.drop_table("vendor_invoice_lines")
    with op.batch_alter_table("vendor_invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendor_invoices_purchase_id"))
        batch_op.drop_index(batch_op.f("ix_vendor_invoices_payment_id"))
        batch_op.drop_index("ix_vendor_invoices_open")

    op.drop_table("vendor_invoices")
    op.drop_table("vendor_balances")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_payout_run"))
        batch_op.drop_index(batch_op.f("ix_payments_dropship_provider_id"))

    op.drop_table("payments")
    with op.batch_alter_table("commission_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commission_rules_dropship_provider_id"))

    op.drop_table("commission_rules")
    op.drop_table("payment_methods")
