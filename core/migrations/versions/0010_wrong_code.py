"""core_login_attempt.wrong_code: the password was right, the two-step code was not

Such an attempt is a failure like any other (it counts towards the pause);
marked apart, the sign-in history shows that whoever made it knows the
password. Rows written before are not.

Revision ID: 0010_wrong_code
Revises: 0009_two_factor
Create Date: 2026-11-27 12:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_wrong_code'
down_revision = '0009_two_factor'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('core_login_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wrong_code', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('core_login_attempt', schema=None) as batch_op:
        batch_op.drop_column('wrong_code')
