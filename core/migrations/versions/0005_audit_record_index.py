"""core_audit: an index on (table_name, row_id)

The audit log page shows one record's history (a record's page links to
it); without this index that reads the whole log.

Revision ID: 0005_audit_record_index
Revises: 0004_task_titles
Create Date: 2026-11-27 07:30:00
"""
from alembic import op

revision = '0005_audit_record_index'
down_revision = '0004_task_titles'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_core_audit_record', 'core_audit', ['table_name', 'row_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_core_audit_record', table_name='core_audit')
