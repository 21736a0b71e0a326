"""core_saved_view: a person's saved list views (a list page as they filtered it)

Revision ID: 0011_saved_view
Revises: 0010_wrong_code
Create Date: 2026-11-27 14:40:00
"""
import sqlalchemy as sa
import fuwu.db
from alembic import op

revision = '0011_saved_view'
down_revision = '0010_wrong_code'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'core_saved_view',
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('path', sa.String(length=300), nullable=False),
        sa.Column('query', sa.String(length=2000), nullable=False),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_core_saved_view_staff_id_staff'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_core_saved_view')),
        sa.UniqueConstraint('staff_id', 'name', name=op.f('uq_core_saved_view_staff_id_name')),
    )
    with op.batch_alter_table('core_saved_view', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_saved_view_staff_id'), ['staff_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('core_saved_view', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_saved_view_staff_id'))
    op.drop_table('core_saved_view')
