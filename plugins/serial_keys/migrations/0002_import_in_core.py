"""serial_keys: an uploaded installed-base file waits in core's core_import_file

The plugin's own table for files between a dry run and its import goes;
core now holds every import's files. A file waiting there at the upgrade is
dropped with the table: its uploader runs the dry run again.

Revision ID: 0002_import_in_core
Revises: 0001_serial_keys
Create Date: 2026-11-27 12:00:00
"""
import fuwu.db
import sqlalchemy as sa
from alembic import op

revision = '0002_import_in_core'
down_revision = '0001_serial_keys'
branch_labels = None
depends_on = ('0008_import_file',)


def upgrade() -> None:
    op.drop_table('serial_keys_import')


def downgrade() -> None:
    op.create_table('serial_keys_import',
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('imported_at', fuwu.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_serial_keys_import_staff_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_serial_keys_import'))
    )
