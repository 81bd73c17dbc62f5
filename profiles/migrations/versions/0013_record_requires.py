"""an action a record's status allows can also need something of its fields (a zero
balance, an age), with why not in each language

Revision ID: 0013_record_requires
Revises: 0012_reference_parts
Create Date: 2026-12-05 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_record_requires"
down_revision: str | None = "0012_reference_parts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.add_column(sa.Column("requires", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.drop_column("requires")
