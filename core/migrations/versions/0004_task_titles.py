"""workflow tasks: titles in each reader's language

A task kept its record's title as text written in the language of whoever
moved the record on, with its dates in ISO form. ``title_params`` now holds
the parameters of a title kept as a msgid (``fuwu.i18n.stored_message``);
None, as for the rows written before, means the title is plain text.

Revision ID: 0004_task_titles
Revises: 0003_form_names
Create Date: 2026-11-27 03:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004_task_titles'
down_revision = '0003_form_names'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('core_workflow_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_params', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('core_workflow_task', schema=None) as batch_op:
        batch_op.drop_column('title_params')
