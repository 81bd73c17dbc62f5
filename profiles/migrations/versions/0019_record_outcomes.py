"""what an action does to a record, as the customer is told it ("Once it is cancelled, the
$63.50 you paid goes back to your Visa"), by language

Revision ID: 0019_record_outcomes
Revises: 0018_record_instead
Create Date: 2026-12-06 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_record_outcomes"
down_revision: str | None = "0018_record_instead"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.add_column(sa.Column("outcomes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.drop_column("outcomes")
