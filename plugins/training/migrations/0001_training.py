"""training: courses, question banks, plans, sessions, registrations, exams,
acceptance sheets and staff assessments (TRN-1..7).

Revision ID: 0001_training
Revises:
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa
import fuwu.db


revision = '0001_training'
down_revision = None
branch_labels = ('training',)
depends_on = '0002_web'


def upgrade() -> None:
    op.create_table('training_course',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('goals', sa.Text(), nullable=False),
    sa.Column('outline', sa.Text(), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.Column('trainer_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['trainer_id'], ['staff.id'], name=op.f('fk_training_course_trainer_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_course')),
    sa.UniqueConstraint('code', name=op.f('uq_training_course_code'))
    )
    op.create_table('training_assessment',
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('technical', sa.Integer(), nullable=False),
    sa.Column('attitude', sa.Integer(), nullable=False),
    sa.Column('proficiency', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=False),
    sa.Column('assessor_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assessor_id'], ['staff.id'], name=op.f('fk_training_assessment_assessor_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['course_id'], ['training_course.id'], name=op.f('fk_training_assessment_course_id_training_course'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_training_assessment_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_assessment'))
    )
    op.create_index(op.f('ix_training_assessment_staff_id'), 'training_assessment', ['staff_id'], unique=False)
    op.create_table('training_material',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['training_course.id'], name=op.f('fk_training_material_course_id_training_course'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_material'))
    )
    op.create_index(op.f('ix_training_material_course_id'), 'training_material', ['course_id'], unique=False)
    op.create_table('training_question',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['training_course.id'], name=op.f('fk_training_question_course_id_training_course'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_question'))
    )
    op.create_index(op.f('ix_training_question_course_id'), 'training_question', ['course_id'], unique=False)
    op.create_table('training_plan',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('goals', sa.Text(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('place', sa.String(length=10), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('trainees', sa.Text(), nullable=False),
    sa.Column('trainer_id', sa.Integer(), nullable=True),
    sa.Column('first_use', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=40), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_training_plan_contract_id_contract'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['course_id'], ['training_course.id'], name=op.f('fk_training_plan_course_id_training_course'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_training_plan_customer_id_customer')),
    sa.ForeignKeyConstraint(['owner_id'], ['staff.id'], name=op.f('fk_training_plan_owner_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['trainer_id'], ['staff.id'], name=op.f('fk_training_plan_trainer_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_plan'))
    )
    op.create_index(op.f('ix_training_plan_customer_id'), 'training_plan', ['customer_id'], unique=False)
    op.create_index(op.f('ix_training_plan_state'), 'training_plan', ['state'], unique=False)
    op.create_index(op.f('ix_training_plan_trainer_id'), 'training_plan', ['trainer_id'], unique=False)
    op.create_table('training_session',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('trainer_id', sa.Integer(), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('exam_questions', sa.Integer(), nullable=False),
    sa.Column('exam_minutes', sa.Integer(), nullable=False),
    sa.Column('pass_mark', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['training_course.id'], name=op.f('fk_training_session_course_id_training_course')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_training_session_customer_id_customer')),
    sa.ForeignKeyConstraint(['plan_id'], ['training_plan.id'], name=op.f('fk_training_session_plan_id_training_plan'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['trainer_id'], ['staff.id'], name=op.f('fk_training_session_trainer_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_session'))
    )
    op.create_index(op.f('ix_training_session_course_id'), 'training_session', ['course_id'], unique=False)
    op.create_index(op.f('ix_training_session_customer_id'), 'training_session', ['customer_id'], unique=False)
    op.create_index(op.f('ix_training_session_trainer_id'), 'training_session', ['trainer_id'], unique=False)
    op.create_table('training_invitation',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['training_session.id'], name=op.f('fk_training_invitation_session_id_training_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_invitation'))
    )
    op.create_index(op.f('ix_training_invitation_session_id'), 'training_invitation', ['session_id'], unique=False)
    op.create_table('training_registration',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attended', sa.Boolean(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('self_registered', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['training_session.id'], name=op.f('fk_training_registration_session_id_training_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_training_registration_staff_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_registration')),
    sa.UniqueConstraint('session_id', 'email', name='uq_training_registration_email')
    )
    op.create_index(op.f('ix_training_registration_session_id'), 'training_registration', ['session_id'], unique=False)
    op.create_table('training_sheet',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('responsible_name', sa.String(length=100), nullable=False),
    sa.Column('responsible_signature', sa.Text(), nullable=False),
    sa.Column('completed_at', fuwu.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['training_session.id'], name=op.f('fk_training_sheet_session_id_training_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_sheet')),
    sa.UniqueConstraint('session_id', name=op.f('uq_training_sheet_session_id'))
    )
    op.create_table('training_attempt',
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('question_ids', sa.JSON(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('marks', sa.JSON(), nullable=False),
    sa.Column('started_at', fuwu.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', fuwu.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('score', fuwu.db.Money(precision=12, scale=2), nullable=True),
    sa.Column('max_score', sa.Integer(), nullable=False),
    sa.Column('percent_x100', sa.Integer(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('pending_marking', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['training_registration.id'], name=op.f('fk_training_attempt_registration_id_training_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_attempt')),
    sa.UniqueConstraint('registration_id', name=op.f('uq_training_attempt_registration_id'))
    )
    op.create_table('training_signature',
    sa.Column('sheet_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.Column('signed_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fuwu.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['training_registration.id'], name=op.f('fk_training_signature_registration_id_training_registration'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sheet_id'], ['training_sheet.id'], name=op.f('fk_training_signature_sheet_id_training_sheet'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_signature')),
    sa.UniqueConstraint('sheet_id', 'registration_id', name=op.f('uq_training_signature_sheet_id_registration_id'))
    )
    op.create_index(op.f('ix_training_signature_sheet_id'), 'training_signature', ['sheet_id'], unique=False)



def downgrade() -> None:
    op.drop_index(op.f('ix_training_signature_sheet_id'), table_name='training_signature')
    op.drop_table('training_signature')
    op.drop_table('training_attempt')
    op.drop_table('training_sheet')
    op.drop_index(op.f('ix_training_registration_session_id'), table_name='training_registration')
    op.drop_table('training_registration')
    op.drop_index(op.f('ix_training_invitation_session_id'), table_name='training_invitation')
    op.drop_table('training_invitation')
    op.drop_index(op.f('ix_training_session_trainer_id'), table_name='training_session')
    op.drop_index(op.f('ix_training_session_customer_id'), table_name='training_session')
    op.drop_index(op.f('ix_training_session_course_id'), table_name='training_session')
    op.drop_table('training_session')
    op.drop_index(op.f('ix_training_plan_trainer_id'), table_name='training_plan')
    op.drop_index(op.f('ix_training_plan_state'), table_name='training_plan')
    op.drop_index(op.f('ix_training_plan_customer_id'), table_name='training_plan')
    op.drop_table('training_plan')
    op.drop_index(op.f('ix_training_question_course_id'), table_name='training_question')
    op.drop_table('training_question')
    op.drop_index(op.f('ix_training_material_course_id'), table_name='training_material')
    op.drop_table('training_material')
    op.drop_index(op.f('ix_training_assessment_staff_id'), table_name='training_assessment')
    op.drop_table('training_assessment')
    op.drop_table('training_course')
