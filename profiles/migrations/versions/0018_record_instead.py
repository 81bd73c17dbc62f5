"""what a record's kind does instead of an action its status does not allow ("return" of
an order not yet delivered is a cancellation): a customer's wish counts for it

Revision ID: 0018_record_instead
Revises: 0017_record_status_texts
Create Date: 2026-12-06 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_record_instead"
down_revision: str | None = "0017_record_status_texts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.add_column(sa.Column("instead", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.drop_column("instead")
