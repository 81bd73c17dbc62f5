"""conversation states, events and agent replies

Revision ID: 0006_handoff
Revises: 0003_idempotency
Create Date: 2026-12-04 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006_handoff"
down_revision: str | None = "0003_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", _STR(), nullable=False, server_default="bot"))
        batch_op.add_column(sa.Column("assignee", _STR(), nullable=True))
        # A constant default, so SQLite adds the column in place (ALTER TABLE ADD COLUMN)
        # instead of copying the table; existing rows then take their creation time.
        batch_op.add_column(
            sa.Column(
                "state_at",
                sqlmodel.sql.sqltypes.UTCDateTime(),
                nullable=False,
                server_default="1970-01-01 00:00:00.000000",
            )
        )
        batch_op.create_index(batch_op.f("ix_conversation_state"), ["state"], unique=False)
    op.execute(sa.text("UPDATE conversation SET state_at = created_at"))
    op.create_table(
        "conversationevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", _STR(), nullable=False),
        sa.Column("customer_id", _STR(), nullable=False),
        sa.Column("kind", _STR(), nullable=False),
        sa.Column("actor", _STR(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("state", _STR(), nullable=True),
        sa.Column("reason", _STR(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("conversationevent", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversationevent_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_conversationevent_customer_id"), ["customer_id"], unique=False
        )
    op.create_table(
        "agentreply",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", _STR(), nullable=False),
        sa.Column("customer_id", _STR(), nullable=False),
        sa.Column("agent", _STR(), nullable=False),
        sa.Column("draft_index", sa.Integer(), nullable=True),
        sa.Column("variant", _STR(), nullable=True),
        sa.Column("intent", _STR(), nullable=True),
        sa.Column("edit_distance", sa.Integer(), nullable=True),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.PrimaryKeyConstraint("message_id"),
    )
    with op.batch_alter_table("agentreply", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agentreply_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_agentreply_customer_id"), ["customer_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("agentreply")
    op.drop_table("conversationevent")
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_state"))
        batch_op.drop_column("state_at")
        batch_op.drop_column("assignee")
        batch_op.drop_column("state")
