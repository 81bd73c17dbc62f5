"""privacy: audit log and erasure requests

Revision ID: 0002_privacy_audit
Revises: 0001
Create Date: 2026-11-29 07:00:46.801316
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002_privacy_audit"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by create_all before migrations existed is stamped at 0001 and
    # upgraded; it may already hold these tables.
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "auditlog" not in existing:
        op.create_table(
            "auditlog",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
            sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
            sa.Column("customer_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
            sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
            sa.Column("detail", sa.JSON(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("auditlog", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_auditlog_at"), ["at"], unique=False)
            batch_op.create_index(
                batch_op.f("ix_auditlog_customer_id"), ["customer_id"], unique=False
            )
    if "erasurerequest" not in existing:
        op.create_table(
            "erasurerequest",
            sa.Column("customer_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
            sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
            sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
            sa.Column("requested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.Column("completed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
            sa.PrimaryKeyConstraint("customer_id"),
        )


def downgrade() -> None:
    op.drop_table("erasurerequest")
    with op.batch_alter_table("auditlog", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auditlog_customer_id"))
        batch_op.drop_index(batch_op.f("ix_auditlog_at"))
    op.drop_table("auditlog")
