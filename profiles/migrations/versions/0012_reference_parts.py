"""reference items say which item they are one of (a product's variants) and whether
they can be offered now

Revision ID: 0012_reference_parts
Revises: 0011_record_links
Create Date: 2026-12-05 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012_reference_parts"
down_revision: str | None = "0011_record_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("referenceitem") as batch:
        batch.add_column(
            sa.Column("part_of", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True)
        )
        batch.add_column(
            sa.Column("offered", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.create_index(batch.f("ix_referenceitem_part_of"), ["part_of"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("referenceitem") as batch:
        batch.drop_index(batch.f("ix_referenceitem_part_of"))
        batch.drop_column("offered")
        batch.drop_column("part_of")
