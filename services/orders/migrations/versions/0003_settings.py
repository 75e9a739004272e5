"""What connection settings need here: manual sync requests, archive imports done, registered customers.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sync_states", sa.Column("manual_requested", sa.Boolean(), server_default=sa.false(), nullable=False,
                                           comment="a POST …/sync asked for this run: it runs even with auto import off"))
    op.add_column("sync_states", sa.Column("archive_imported_since", sa.Date(), nullable=True,
                                           comment="the archive import already done for this date"))
    op.create_table(
        "customers",
        sa.Column("merchant_id", sa.UUID(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False, comment="lower-cased buyer e-mail"),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("first_order_id", sa.UUID(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("merchant_id", "email"),
        comment="Buyers registered as customers: customer.registered is emitted once per e-mail and merchant",
    )


def downgrade() -> None:
    op.drop_table("customers")
    op.drop_column("sync_states", "archive_imported_since")
    op.drop_column("sync_states", "manual_requested")
