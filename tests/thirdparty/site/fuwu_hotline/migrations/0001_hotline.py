"""hotline: call log

Revision ID: 0001_hotline
"""
import sqlalchemy as sa
from alembic import op

import fuwu.db

revision = "0001_hotline"
down_revision = None
branch_labels = ("hotline",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "hotline_call",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id", name="fk_hotline_call_customer_id_customer"),
                  nullable=False),
        sa.Column("summary", sa.String(200), nullable=False),
        sa.Column("state", sa.String(40), nullable=False, index=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("staff.id", ondelete="SET NULL",
                                                          name="fk_hotline_call_owner_id_staff")),
        sa.Column("created_at", fuwu.db.AwareDateTime(), nullable=False),
        sa.Column("updated_at", fuwu.db.AwareDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hotline_call")
