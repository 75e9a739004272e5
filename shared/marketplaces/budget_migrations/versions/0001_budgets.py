"""Token buckets of marketplace apps, shared by every replica.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("key", sa.Text(), nullable=False, comment="marketplace:app (or store) the budget meters"),
        sa.Column("tokens", sa.Double(), nullable=False, comment="negative: tokens already promised to waiters"),
        sa.Column("refilled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        comment="Token buckets of marketplace apps, shared by every replica",
    )


def downgrade() -> None:
    op.drop_table("budgets")
