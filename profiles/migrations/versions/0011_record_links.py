"""records link to other records and to reference data (a catalog, plans, flights),
say what their status allows next and read in several languages

Revision ID: 0011_record_links
Revises: 0010_customer_records
Create Date: 2026-12-04 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011_record_links"
down_revision: str | None = "0010_customer_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customerrecord") as batch:
        batch.add_column(sa.Column("links", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("allows", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("actions", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("texts", sa.JSON(), nullable=True))
    op.create_table(
        "referenceitem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=True),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "key"),
    )


def downgrade() -> None:
    op.drop_table("referenceitem")
    with op.batch_alter_table("customerrecord") as batch:
        batch.drop_column("texts")
        batch.drop_column("actions")
        batch.drop_column("allows")
        batch.drop_column("links")
