"""a business's own attributes of each customer ("tier": "gold"), beside the fixed fields

Revision ID: 0024_customer_attributes
Revises: 0023_record_id_patterns
Create Date: 2026-12-07 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_customer_attributes"
down_revision: str | None = "0023_record_id_patterns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A column added in place, not by a batch copy: SQLite cannot drop the customer table the
# batch would copy from while the tables that refer to it hold rows.
def upgrade() -> None:
    op.add_column(
        "customer", sa.Column("attributes", sa.JSON(), nullable=True, server_default="{}")
    )


def downgrade() -> None:
    op.drop_column("customer", "attributes")
