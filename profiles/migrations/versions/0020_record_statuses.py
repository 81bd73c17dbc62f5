"""every status of a record's kind and the words it is said by ("is it active yet?" of a
pending card: not yet)

Revision ID: 0020_record_statuses
Revises: 0019_record_outcomes
Create Date: 2026-12-06 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_record_statuses"
down_revision: str | None = "0019_record_outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.add_column(sa.Column("statuses", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.drop_column("statuses")
