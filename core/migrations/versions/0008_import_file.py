"""core_import_file: an uploaded import file between its dry run and its confirmation

Revision ID: 0008_import_file
Revises: 0007_sign_in_pause
Create Date: 2026-11-27 12:00:00
"""
import sqlalchemy as sa
from alembic import op

import fuwu.db

revision = '0008_import_file'
down_revision = '0007_sign_in_pause'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('core_import_file',
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('imported_at', fuwu.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_core_import_file_staff_id_staff'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_import_file'))
    )


def downgrade() -> None:
    op.drop_table('core_import_file')
