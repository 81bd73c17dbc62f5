"""a record can have reached the customer (a delivered order or card): a customer who
says they never got it goes to a person

Revision ID: 0016_record_arrived
Revises: 0015_conversation_urgent
Create Date: 2026-12-05 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_record_arrived"
down_revision: str | None = "0015_conversation_urgent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.add_column(sa.Column("arrived", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.drop_column("arrived")
