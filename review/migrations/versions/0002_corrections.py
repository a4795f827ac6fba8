"""Each item's problem (its tests), and the sandbox verdict of each corrected code."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("items", sa.Column("problem", sa.JSON(), nullable=True))
    op.add_column("judgments", sa.Column("correction_status", sa.String(32), nullable=True))
    op.add_column("judgments", sa.Column("correction_message", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("judgments") as judgments:
        judgments.drop_column("correction_message")
        judgments.drop_column("correction_status")
    with op.batch_alter_table("items") as items:
        items.drop_column("problem")
