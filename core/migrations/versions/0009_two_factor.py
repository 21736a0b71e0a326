"""core_two_factor: a person's authenticator key for the two-step sign-in

Revision ID: 0009_two_factor
Revises: 0008_import_file
Create Date: 2026-11-27 13:00:00
"""
import sqlalchemy as sa
from alembic import op

import fuwu.db

revision = '0009_two_factor'
down_revision = '0008_import_file'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('core_two_factor',
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('totp_secret', sa.String(length=64), nullable=False),
    sa.Column('last_step', sa.Integer(), nullable=False),
    sa.Column('recovery_hash', sa.Text(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_core_two_factor_staff_id_staff'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_two_factor')),
    sa.UniqueConstraint('staff_id', name=op.f('uq_core_two_factor_staff_id'))
    )


def downgrade() -> None:
    op.drop_table('core_two_factor')
