"""what a record's amount is, as a customer who asks how much is told it ("You paid
$663.85 for it.")

Revision ID: 0021_record_amount_texts
Revises: 0020_record_statuses
Create Date: 2026-12-06 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_record_amount_texts"
down_revision: str | None = "0020_record_statuses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.add_column(sa.Column("amount_texts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.drop_column("amount_texts")
