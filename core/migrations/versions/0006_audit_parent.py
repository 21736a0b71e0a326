"""core_audit: the record a row's record belongs to

A contact's changes belong in its customer's history, a grant's in its
role's. ``parent_table``/``parent_id`` say whose; rows written before stay
without one (they still show under their own record).

Revision ID: 0006_audit_parent
Revises: 0005_audit_record_index
Create Date: 2026-11-27 08:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_audit_parent'
down_revision = '0005_audit_record_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('core_audit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_table', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_core_audit_parent', ['parent_table', 'parent_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('core_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_core_audit_parent')
        batch_op.drop_column('parent_id')
        batch_op.drop_column('parent_table')
