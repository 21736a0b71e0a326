"""complaints: intake, review, handling, follow-up, promises, consequences, monthly report

Revision ID: 0001_complaints
"""
import sqlalchemy as sa
from alembic import op

import fuwu.db

revision = "0001_complaints"
down_revision = None
branch_labels = ("complaints",)
depends_on = "0002_web"


def upgrade() -> None:
    op.create_table('complaints_report',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('built_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', fuwu.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints_report')),
    sa.UniqueConstraint('month', name=op.f('uq_complaints_report_month'))
    )
    op.create_table('complaints_complaint',
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('hq_reference', sa.String(length=60), nullable=False),
    sa.Column('received_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('concerned_staff_id', sa.Integer(), nullable=True),
    sa.Column('concerned_department_id', sa.Integer(), nullable=True),
    sa.Column('received_by_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('validity', sa.String(length=10), nullable=True),
    sa.Column('invalid_explanation', sa.Text(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('responsible_department_id', sa.Integer(), nullable=True),
    sa.Column('cause', sa.Text(), nullable=False),
    sa.Column('cause_category', sa.String(length=20), nullable=True),
    sa.Column('responsible_staff_id', sa.Integer(), nullable=True),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('reply_kind', sa.String(length=20), nullable=True),
    sa.Column('reply_text', sa.Text(), nullable=False),
    sa.Column('compensation', fuwu.db.Money(precision=12, scale=2), nullable=False),
    sa.Column('result_text', sa.Text(), nullable=False),
    sa.Column('gm_call_needed', sa.Boolean(), nullable=False),
    sa.Column('gm_called', sa.Boolean(), nullable=False),
    sa.Column('resolved', sa.Boolean(), nullable=True),
    sa.Column('customer_opinion', sa.Text(), nullable=False),
    sa.Column('hq_answer', sa.Text(), nullable=False),
    sa.Column('corrective_measures', sa.Text(), nullable=False),
    sa.Column('preventive_measures', sa.Text(), nullable=False),
    sa.Column('internal_note', sa.Text(), nullable=False),
    sa.Column('fine_emitted', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("source IN ('direct', 'headquarters')", name=op.f('ck_complaints_complaint_source')),
    sa.CheckConstraint("validity IS NULL OR validity IN ('valid', 'invalid')", name=op.f('ck_complaints_complaint_validity')),
    sa.CheckConstraint('compensation >= 0', name=op.f('ck_complaints_complaint_compensation_not_negative')),
    sa.ForeignKeyConstraint(['concerned_department_id'], ['department.id'], name=op.f('fk_complaints_complaint_concerned_department_id_department'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['concerned_staff_id'], ['staff.id'], name=op.f('fk_complaints_complaint_concerned_staff_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_complaints_complaint_contact_id_contact'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_complaints_complaint_customer_id_customer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['received_by_id'], ['staff.id'], name=op.f('fk_complaints_complaint_received_by_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['responsible_department_id'], ['department.id'], name=op.f('fk_complaints_complaint_responsible_department_id_department'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['responsible_staff_id'], ['staff.id'], name=op.f('fk_complaints_complaint_responsible_staff_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['staff.id'], name=op.f('fk_complaints_complaint_reviewed_by_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints_complaint')),
    sa.UniqueConstraint('number', name=op.f('uq_complaints_complaint_number'))
    )
    op.create_index(op.f('ix_complaints_complaint_category'), 'complaints_complaint', ['category'], unique=False)
    op.create_index(op.f('ix_complaints_complaint_concerned_staff_id'), 'complaints_complaint', ['concerned_staff_id'], unique=False)
    op.create_index('ix_complaints_complaint_customer', 'complaints_complaint', ['customer_id', 'received_at'], unique=False)
    op.create_index('ix_complaints_complaint_received', 'complaints_complaint', ['received_at', 'id'], unique=False)
    op.create_index(op.f('ix_complaints_complaint_responsible_staff_id'), 'complaints_complaint', ['responsible_staff_id'], unique=False)
    op.create_index(op.f('ix_complaints_complaint_state'), 'complaints_complaint', ['state'], unique=False)
    op.create_table('complaints_event',
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['staff.id'], name=op.f('fk_complaints_event_actor_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints_complaint.id'], name=op.f('fk_complaints_event_complaint_id_complaints_complaint'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints_event'))
    )
    op.create_index(op.f('ix_complaints_event_complaint_id'), 'complaints_event', ['complaint_id'], unique=False)
    op.create_table('complaints_promise',
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('settled_at', fuwu.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('made_by_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('open', 'kept', 'broken')", name=op.f('ck_complaints_promise_status')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints_complaint.id'], name=op.f('fk_complaints_promise_complaint_id_complaints_complaint'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['made_by_id'], ['staff.id'], name=op.f('fk_complaints_promise_made_by_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints_promise'))
    )
    op.create_index(op.f('ix_complaints_promise_complaint_id'), 'complaints_promise', ['complaint_id'], unique=False)
    op.create_table('complaints_reminder',
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints_complaint.id'], name=op.f('fk_complaints_reminder_complaint_id_complaints_complaint'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints_reminder')),
    sa.UniqueConstraint('complaint_id', 'key', name=op.f('uq_complaints_reminder_complaint_id_key'))
    )
    op.create_table('complaints_review_flag',
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints_complaint.id'], name=op.f('fk_complaints_review_flag_complaint_id_complaints_complaint'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_complaints_review_flag_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints_review_flag')),
    sa.UniqueConstraint('staff_id', 'kind', 'complaint_id', name=op.f('uq_complaints_review_flag_staff_id_kind_complaint_id'))
    )
    op.create_index(op.f('ix_complaints_review_flag_staff_id'), 'complaints_review_flag', ['staff_id'], unique=False)


def downgrade() -> None:
    op.drop_table('complaints_report')
    op.drop_table('complaints_review_flag')
    op.drop_table('complaints_reminder')
    op.drop_table('complaints_promise')
    op.drop_table('complaints_event')
    op.drop_table('complaints_complaint')
