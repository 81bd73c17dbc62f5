"""one feedback per turn

Revision ID: 0007_feedback_once
Revises: 0006_handoff
Create Date: 2026-12-04 01:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_feedback_once"
down_revision: str | None = "0006_handoff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Keep the latest rating of each turn (as the experiment report already counted them).
    op.execute(
        sa.text(
            "DELETE FROM feedback WHERE id NOT IN (SELECT MAX(id) FROM feedback GROUP BY turn_id)"
        )
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_turn_id"))
        batch_op.create_index(batch_op.f("ix_feedback_turn_id"), ["turn_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_turn_id"))
        batch_op.create_index(batch_op.f("ix_feedback_turn_id"), ["turn_id"], unique=False)
