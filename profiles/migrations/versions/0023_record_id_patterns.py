"""how customers write a kind's ids ("#?W\\d{7}"), kept with each of its records

Revision ID: 0023_record_id_patterns
Revises: 0022_typed_orders_to_records
Create Date: 2026-12-07 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_record_id_patterns"
down_revision: str | None = "0022_typed_orders_to_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.add_column(sa.Column("id_pattern", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.drop_column("id_pattern")
