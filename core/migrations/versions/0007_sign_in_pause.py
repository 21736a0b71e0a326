"""core_login_attempt: attempts refused during a pause, and pauses lifted

An attempt made while its account or address is paused is now stored
(``refused``) for the sign-in history, without counting towards the pause.
An admin may lift a pause: the failures it forgives name who did
(``lifted_by_id``) and count no more. Rows written before are neither.

Revision ID: 0007_sign_in_pause
Revises: 0006_audit_parent
Create Date: 2026-11-27 10:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_sign_in_pause'
down_revision = '0006_audit_parent'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('core_login_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refused', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('lifted_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_core_login_attempt_lifted_by_id_staff', 'staff', ['lifted_by_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('core_login_attempt', schema=None) as batch_op:
        batch_op.drop_constraint('fk_core_login_attempt_lifted_by_id_staff', type_='foreignkey')
        batch_op.drop_column('lifted_by_id')
        batch_op.drop_column('refused')
