"""core_follow_up: dated to-dos on a customer for one member of staff

Revision ID: 0013_follow_up
Revises: 0012_attachment
Create Date: 2026-11-27 16:45:00
"""
import sqlalchemy as sa
from alembic import op

import fuwu.db

revision = '0013_follow_up'
down_revision = '0012_attachment'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'core_follow_up',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('assigned_to_id', sa.Integer(), nullable=False),
        sa.Column('scheduled_by_id', sa.Integer(), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.Column('done_at', fuwu.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(length=500), nullable=False),
        sa.Column('reminded_on', sa.Date(), nullable=True),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_core_follow_up_customer_id_customer'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['assigned_to_id'], ['staff.id'], name=op.f('fk_core_follow_up_assigned_to_id_staff')),
        sa.ForeignKeyConstraint(['scheduled_by_id'], ['staff.id'], name=op.f('fk_core_follow_up_scheduled_by_id_staff'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_core_follow_up')),
    )
    with op.batch_alter_table('core_follow_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_follow_up_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_follow_up_assigned_to_id'), ['assigned_to_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_follow_up_due_on'), ['due_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('core_follow_up', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_follow_up_due_on'))
        batch_op.drop_index(batch_op.f('ix_core_follow_up_assigned_to_id'))
        batch_op.drop_index(batch_op.f('ix_core_follow_up_customer_id'))
    op.drop_table('core_follow_up')
