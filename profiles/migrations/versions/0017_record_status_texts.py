"""a record's status as customers read it, by language ("entregado" for delivered): a
reply in Spanish says the status in Spanish

Revision ID: 0017_record_status_texts
Revises: 0016_record_arrived
Create Date: 2026-12-05 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_record_status_texts"
down_revision: str | None = "0016_record_arrived"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.add_column(sa.Column("status_texts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.drop_column("status_texts")
