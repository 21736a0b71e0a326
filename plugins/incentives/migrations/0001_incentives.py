"""incentives: the ledger of rewards and fines, and payroll months

Revision ID: 0001_incentives
Revises:
Create Date: 2026-11-26 01:50:00
"""
from alembic import op
import sqlalchemy as sa
import fuwu.db


revision = '0001_incentives'
down_revision = None
branch_labels = ('incentives',)
depends_on = '0002_web'


def _base():
    return [
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table('incentives_entry',
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('amount', fuwu.db.Money(precision=12, scale=2), nullable=False),
    sa.Column('rule_id', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('source_kind', sa.String(length=80), nullable=False),
    sa.Column('source_id', sa.String(length=80), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('correction_of_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', fuwu.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=False),
    sa.Column('dispute_reason', sa.Text(), nullable=False),
    sa.Column('disputed_at', fuwu.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('dispute_outcome', sa.String(length=10), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', fuwu.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    *_base(),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_incentives_entry_amount_not_zero')),
    sa.CheckConstraint("state IN ('proposed', 'confirmed', 'waived', 'disputed')",
                       name=op.f('ck_incentives_entry_state')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_incentives_entry_staff_id_staff'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'],
                            name=op.f('fk_incentives_entry_department_id_department'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff.id'], name=op.f('fk_incentives_entry_recorded_by_id_staff'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['staff.id'], name=op.f('fk_incentives_entry_reviewed_by_id_staff'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff.id'], name=op.f('fk_incentives_entry_decided_by_id_staff'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['correction_of_id'], ['incentives_entry.id'],
                            name=op.f('fk_incentives_entry_correction_of_id_incentives_entry'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incentives_entry')),
    sa.UniqueConstraint('key', name=op.f('uq_incentives_entry_key'))
    )
    with op.batch_alter_table('incentives_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incentives_entry_rule_id'), ['rule_id'], unique=False)
        batch_op.create_index('ix_incentives_entry_month_staff', ['month', 'staff_id'], unique=False)
        batch_op.create_index('ix_incentives_entry_staff_month', ['staff_id', 'month'], unique=False)
        batch_op.create_index('ix_incentives_entry_month_department', ['month', 'department_id'], unique=False)

    op.create_table('incentives_month',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('closed_at', fuwu.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('rewards', fuwu.db.Money(precision=12, scale=2), nullable=False),
    sa.Column('fines', fuwu.db.Money(precision=12, scale=2), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    *_base(),
    sa.ForeignKeyConstraint(['closed_by_id'], ['staff.id'], name=op.f('fk_incentives_month_closed_by_id_staff'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incentives_month')),
    sa.UniqueConstraint('month', name=op.f('uq_incentives_month_month'))
    )


def downgrade() -> None:
    op.drop_table('incentives_month')
    with op.batch_alter_table('incentives_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_incentives_entry_month_department')
        batch_op.drop_index('ix_incentives_entry_staff_month')
        batch_op.drop_index('ix_incentives_entry_month_staff')
        batch_op.drop_index(batch_op.f('ix_incentives_entry_rule_id'))
    op.drop_table('incentives_entry')
