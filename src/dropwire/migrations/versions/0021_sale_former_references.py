"""sales: references a sale gave up stay reserved

Revision ID: 0021_sale_former_references
Revises: 0020_jobs_waiting_line
Create Date: 2026-11-25 18:34:25.004229
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_sale_former_references"
down_revision: str | Sequence[str] | None = "0020_jobs_waiting_line"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Documents named after a reference their sale no longer has (`{reference}-NN`, `-RNN`).
_RENAMED = """
SELECT d.{name}, sales.id FROM {table} AS d JOIN sales ON sales.id = d.sale_id
WHERE substr(d.{name}, 1, length(sales.reference) + 1) != sales.reference || '-'
ORDER BY sales.id, d.id
"""


def upgrade() -> None:
    table = op.create_table(
        "sale_former_references",
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("sale_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["sale_id"], ["sales.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("reference"),
    )
    with op.batch_alter_table("sale_former_references", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sale_former_references_sale_id"), ["sale_id"], unique=False
        )
    # Sales renamed before this revision: their old references are read off their documents.
    connection = op.get_bind()
    current = set(connection.scalars(sa.text("SELECT reference FROM sales")))
    former: dict[str, int] = {}
    for name, source in (("external_reference", "purchases"), ("reference", "sale_returns")):
        for document, sale_id in connection.execute(
            sa.text(_RENAMED.format(name=name, table=source))
        ):
            reference = str(document).rsplit("-", 1)[0]
            if reference not in current:
                former.setdefault(reference, sale_id)
    if former:
        op.bulk_insert(
            table, [{"reference": ref, "sale_id": sale_id} for ref, sale_id in former.items()]
        )


def downgrade() -> None:
    with op.batch_alter_table("sale_former_references", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sale_former_references_sale_id"))

    op.drop_table("sale_former_references")
