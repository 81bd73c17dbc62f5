"""a record can be still under way (an order not yet delivered, a dispute under review):
what "where is it?" reads when it names nothing

Revision ID: 0014_record_open
Revises: 0013_record_requires
Create Date: 2026-12-05 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_record_open"
down_revision: str | None = "0013_record_requires"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.add_column(sa.Column("open", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.drop_column("open")
