"""core_saved_view.shared: a saved view shared with one's department or everyone

Revision ID: 0014_saved_view_shared
Revises: 0013_follow_up
Create Date: 2026-11-27 17:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0014_saved_view_shared'
down_revision = '0013_follow_up'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('core_saved_view', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shared', sa.String(length=20), server_default='me', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('core_saved_view', schema=None) as batch_op:
        batch_op.drop_column('shared')
