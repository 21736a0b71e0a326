"""core_attachment: files kept with a customer or one of its contracts

Revision ID: 0012_attachment
Revises: 0011_saved_view
Create Date: 2026-11-27 16:40:00
"""
import sqlalchemy as sa
from alembic import op

import fuwu.db

revision = '0012_attachment'
down_revision = '0011_saved_view'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'core_attachment',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('contract_id', sa.Integer(), nullable=True),
        sa.Column('file_name', sa.String(length=200), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=False),
        sa.Column('media_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_core_attachment_customer_id_customer'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_core_attachment_contract_id_contract'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['staff.id'],
                                name=op.f('fk_core_attachment_uploaded_by_id_staff'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_core_attachment')),
    )
    with op.batch_alter_table('core_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_attachment_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_attachment_contract_id'), ['contract_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('core_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_attachment_contract_id'))
        batch_op.drop_index(batch_op.f('ix_core_attachment_customer_id'))
    op.drop_table('core_attachment')
