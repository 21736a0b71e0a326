"""onsite_residency: residencies, attendance, response calls, monthly reports, ratings, month results

Revision ID: 0001_onsite_residency
Revises:
Create Date: 2026-11-26 01:48:00
"""
from alembic import op
import sqlalchemy as sa
import fuwu.db


revision = '0001_onsite_residency'
down_revision = None
branch_labels = ('onsite_residency',)
depends_on = '0002_web'


def upgrade() -> None:
    op.create_table('onsite_residency_residency',
    sa.Column('engineer_id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('site_name', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_onsite_residency_residency_customer_id_customer'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['engineer_id'], ['staff.id'], name=op.f('fk_onsite_residency_residency_engineer_id_staff'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['lead_id'], ['staff.id'], name=op.f('fk_onsite_residency_residency_lead_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_onsite_residency_residency'))
    )
    op.create_index(op.f('ix_onsite_residency_residency_customer_id'), 'onsite_residency_residency', ['customer_id'], unique=False)
    op.create_index('ix_onsite_residency_residency_engineer', 'onsite_residency_residency', ['engineer_id', 'starts_on'], unique=False)
    op.create_index(op.f('ix_onsite_residency_residency_lead_id'), 'onsite_residency_residency', ['lead_id'], unique=False)
    op.create_table('onsite_residency_attendance',
    sa.Column('residency_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('overtime_hours', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['residency_id'], ['onsite_residency_residency.id'], name=op.f('fk_onsite_residency_attendance_residency_id_onsite_residency_residency'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_onsite_residency_attendance')),
    sa.UniqueConstraint('residency_id', 'day', name=op.f('uq_onsite_residency_attendance_residency_id_day'))
    )
    op.create_table('onsite_residency_call',
    sa.Column('residency_id', sa.Integer(), nullable=False),
    sa.Column('called_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', fuwu.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('reached_at', fuwu.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('compliant', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['residency_id'], ['onsite_residency_residency.id'], name=op.f('fk_onsite_residency_call_residency_id_onsite_residency_residency'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_onsite_residency_call'))
    )
    op.create_index('ix_onsite_residency_call_residency', 'onsite_residency_call', ['residency_id', 'called_at'], unique=False)
    op.create_table('onsite_residency_report',
    sa.Column('residency_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('work_done', sa.Text(), nullable=False),
    sa.Column('problems', sa.Text(), nullable=False),
    sa.Column('suggestions', sa.Text(), nullable=False),
    sa.Column('evaluation', sa.Text(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('documents', sa.JSON(), nullable=False),
    sa.Column('stamped_by_id', sa.Integer(), nullable=True),
    sa.Column('stamped_at', fuwu.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('stamp_hash', sa.String(length=64), nullable=False),
    sa.Column('sent_at', fuwu.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=40), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['staff.id'], name=op.f('fk_onsite_residency_report_owner_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['residency_id'], ['onsite_residency_residency.id'], name=op.f('fk_onsite_residency_report_residency_id_onsite_residency_residency'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stamped_by_id'], ['staff.id'], name=op.f('fk_onsite_residency_report_stamped_by_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_onsite_residency_report')),
    sa.UniqueConstraint('residency_id', 'month', name=op.f('uq_onsite_residency_report_residency_id_month'))
    )
    op.create_index(op.f('ix_onsite_residency_report_month'), 'onsite_residency_report', ['month'], unique=False)
    op.create_index(op.f('ix_onsite_residency_report_state'), 'onsite_residency_report', ['state'], unique=False)
    op.create_table('onsite_residency_rating',
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.String(length=20), nullable=False),
    sa.Column('satisfaction', sa.String(length=20), nullable=False),
    sa.Column('comments', sa.Text(), nullable=False),
    sa.Column('rater_name', sa.String(length=100), nullable=False),
    sa.Column('rated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['onsite_residency_report.id'], name=op.f('fk_onsite_residency_rating_report_id_onsite_residency_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_onsite_residency_rating')),
    sa.UniqueConstraint('report_id', name=op.f('uq_onsite_residency_rating_report_id'))
    )
    op.create_table('onsite_residency_result',
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('amount', fuwu.db.Money(precision=12, scale=2), nullable=False),
    sa.Column('rule', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['onsite_residency_report.id'], name=op.f('fk_onsite_residency_result_report_id_onsite_residency_report'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_onsite_residency_result_staff_id_staff'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_onsite_residency_result')),
    sa.UniqueConstraint('report_id', 'role', name=op.f('uq_onsite_residency_result_report_id_role'))
    )
    op.create_index(op.f('ix_onsite_residency_result_month'), 'onsite_residency_result', ['month'], unique=False)
    op.create_index(op.f('ix_onsite_residency_result_staff_id'), 'onsite_residency_result', ['staff_id'], unique=False)


def downgrade() -> None:
    for table in ('onsite_residency_result', 'onsite_residency_rating', 'onsite_residency_report',
                  'onsite_residency_call', 'onsite_residency_attendance', 'onsite_residency_residency'):
        op.drop_table(table)
