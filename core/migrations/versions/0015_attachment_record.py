"""core_attachment.record_table/record_id: files kept with a plugin's record

Revision ID: 0015_attachment_record
Revises: 0014_saved_view_shared
Create Date: 2026-11-27 19:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_attachment_record'
down_revision = '0014_saved_view_shared'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('core_attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_table', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('record_id', sa.Integer(), nullable=True))
        batch_op.alter_column('customer_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index('ix_core_attachment_record', ['record_table', 'record_id'], unique=False)


def downgrade() -> None:
    # a plugin record's files have no customer to keep them under
    op.execute("DELETE FROM core_attachment WHERE customer_id IS NULL")
    with op.batch_alter_table('core_attachment', schema=None) as batch_op:
        batch_op.drop_index('ix_core_attachment_record')
        batch_op.alter_column('customer_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('record_id')
        batch_op.drop_column('record_table')
