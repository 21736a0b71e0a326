"""hotline: urgency of a call (existing calls become "normal")

Revision ID: 0002_hotline_urgency
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_hotline_urgency"
down_revision = "0001_hotline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hotline_call") as batch:
        batch.add_column(sa.Column("urgency", sa.String(10), nullable=False, server_default="normal"))


def downgrade() -> None:
    with op.batch_alter_table("hotline_call") as batch:
        batch.drop_column("urgency")
