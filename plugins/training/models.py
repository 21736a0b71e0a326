"""What the training plugin stores: courses and their question banks
(TRN-1, TRN-4), plans agreed with customers (TRN-2, TRN-6), sessions with
registrations and attendance (TRN-3), exam attempts (TRN-4), acceptance
sheets (TRN-5) and staff assessments (TRN-7)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fuwu.db import Model
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Customer, Staff
from fuwu.workflow import WorkflowMixin


class Course(Model):
    __tablename__ = "training_course"
    __record_label__ = _l("Course")  # the audit log's name for it
    __record_url__ = "/training/courses/{id}"

    code: Mapped[str] = mapped_column(String(40), unique=True, info={"label": _l("Course code")})
    title: Mapped[str] = mapped_column(String(200), info={"label": _l("Course title")})
    #: operation / upgrade / business / internal (TRN-1, TRN-7)
    category: Mapped[str] = mapped_column(String(20), default="operation", info={"label": _l("Course type")})
    goals: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Training goals")})
    outline: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Course outline")})
    hours: Mapped[int] = mapped_column(Integer, default=4, info={"label": _l("Duration (hours)")})
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                   info={"label": _l("Trainer")})
    trainer: Mapped[Staff | None] = relationship(lazy="joined")


class Material(Model):
    """An uploaded course file (manual, slides), size- and type-checked."""

    __tablename__ = "training_material"
    __record_label__ = _l("Course material")  # the audit log's name for it
    __audit_parent__ = ("training_course", "course_id")

    course_id: Mapped[int] = mapped_column(ForeignKey("training_course.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class Question(Model):
    __tablename__ = "training_question"
    __record_label__ = _l("Question")  # the audit log's name for it
    __audit_parent__ = ("training_course", "course_id")

    course_id: Mapped[int] = mapped_column(ForeignKey("training_course.id", ondelete="CASCADE"), index=True)
    #: single / multiple / truefalse / short
    kind: Mapped[str] = mapped_column(String(10), default="single")
    text: Mapped[str] = mapped_column(Text)
    #: the choices shown (single, multiple); true/false has two fixed ones
    options: Mapped[list] = mapped_column(JSON, default=list)
    #: indexes of the right choices ("0", "0,2"), "true"/"false", or a model answer (short)
    answer: Mapped[str] = mapped_column(Text, default="")
    points: Mapped[int] = mapped_column(Integer, default=2)


class Plan(WorkflowMixin, Model):
    """A training plan agreed with the customer (TRN-2, TRN-6)."""

    __tablename__ = "training_plan"
    __workflow__ = "training.plan"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True, info={"label": _l("Customer")})
    customer: Mapped[Customer] = relationship(lazy="joined")
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id", ondelete="SET NULL"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("training_course.id", ondelete="SET NULL"),
                                                  info={"label": _l("Course")})
    course: Mapped[Course | None] = relationship(lazy="joined")
    title: Mapped[str] = mapped_column(String(200), info={"label": _l("Plan title")})
    goals: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Training goals")})
    content: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Training content")})
    #: on_site / remote / room
    place: Mapped[str] = mapped_column(String(10), default="on_site", info={"label": _l("Where")})
    starts_on: Mapped[date | None] = mapped_column(info={"label": _l("From")})
    ends_on: Mapped[date | None] = mapped_column(info={"label": _l("Until")})
    trainees: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Trainees")})
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), index=True,
                                                   info={"label": _l("Responsible trainer")})
    trainer: Mapped[Staff | None] = relationship(foreign_keys=[trainer_id], lazy="joined")
    #: TRN-6: made by the plugin when a contract is installed
    first_use: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def assignee_id(self) -> int | None:
        """The workflow's "waiting on me" list names the responsible trainer (TRN-6)."""
        return self.trainer_id

    def __str__(self) -> str:
        return self.title


class TrainingSession(Model):
    __tablename__ = "training_session"
    __record_label__ = _l("Training session")  # the audit log's name for it
    __record_url__ = "/training/sessions/{id}"

    course_id: Mapped[int] = mapped_column(ForeignKey("training_course.id"), index=True, info={"label": _l("Course")})
    course: Mapped[Course] = relationship(lazy="joined")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True,
                                                    info={"label": _l("Customer")})
    customer: Mapped[Customer | None] = relationship(lazy="joined")
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("training_plan.id", ondelete="SET NULL"),
                                                info={"label": _l("Training plan")})
    starts_at: Mapped[datetime] = mapped_column(info={"label": _l("Starts at")})
    place: Mapped[str] = mapped_column(String(200), default="", info={"label": _l("Place")})
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), index=True,
                                                   info={"label": _l("Trainer")})
    trainer: Mapped[Staff | None] = relationship(lazy="joined")
    capacity: Mapped[int] = mapped_column(Integer, default=20, info={"label": _l("Capacity")})
    #: exam (TRN-4): how many questions are drawn (0: the whole bank, fixed order)
    exam_questions: Mapped[int] = mapped_column(Integer, default=0,
                                                info={"label": _l("Exam questions drawn (0: the whole bank)")})
    exam_minutes: Mapped[int] = mapped_column(Integer, default=30, info={"label": _l("Exam time limit (minutes)")})
    pass_mark: Mapped[int] = mapped_column(Integer, default=60, info={"label": _l("Pass mark (%)")})


class Registration(Model):
    __tablename__ = "training_registration"
    __record_label__ = _l("Registration")  # the audit log's name for it
    __audit_parent__ = ("training_session", "session_id")
    __table_args__ = (UniqueConstraint("session_id", "email", name="uq_training_registration_email"),)

    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"), index=True)
    session: Mapped[TrainingSession] = relationship(lazy="joined")
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40), default="")
    #: registered / waiting / cancelled (TRN-3)
    status: Mapped[str] = mapped_column(String(12), default="registered")
    attended: Mapped[bool | None] = mapped_column(Boolean, default=None)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    self_registered: Mapped[bool] = mapped_column(Boolean, default=False)


class Invitation(Model):
    """What a customer's contact's self-registration link names."""

    __tablename__ = "training_invitation"
    __record_label__ = _l("Invitation")  # the audit log's name for it
    __audit_parent__ = ("training_session", "session_id")

    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"), index=True)
    session: Mapped[TrainingSession] = relationship(lazy="joined")
    email: Mapped[str] = mapped_column(String(200), default="")


class Attempt(Model):
    """One trainee's exam (TRN-4): the drawn questions, the answers as they
    were saved, the score."""

    __tablename__ = "training_attempt"

    registration_id: Mapped[int] = mapped_column(ForeignKey("training_registration.id", ondelete="CASCADE"),
                                                 unique=True)
    registration: Mapped[Registration] = relationship(lazy="joined")
    question_ids: Mapped[list] = mapped_column(JSON, default=list)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    #: short answers' points given by the trainer
    marks: Mapped[dict] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[Decimal | None] = mapped_column(default=None)
    max_score: Mapped[int] = mapped_column(Integer, default=0)
    #: score as a percentage of the maximum, in hundredths (7550 = 75.50 %), so SQL averages stay exact
    percent_x100: Mapped[int | None] = mapped_column(Integer, default=None)
    passed: Mapped[bool | None] = mapped_column(Boolean, default=None)
    pending_marking: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def percent(self) -> Decimal | None:
        return None if self.percent_x100 is None else (Decimal(self.percent_x100) / 100).quantize(Decimal("0.01"))


class Sheet(Model):
    """The acceptance sheet of a session (TRN-5)."""

    __tablename__ = "training_sheet"

    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"), unique=True)
    responsible_name: Mapped[str] = mapped_column(String(100), default="")
    responsible_signature: Mapped[str] = mapped_column(Text, default="")
    completed_at: Mapped[datetime | None]


class Signature(Model):
    __tablename__ = "training_signature"
    __table_args__ = (UniqueConstraint("sheet_id", "registration_id"),)

    sheet_id: Mapped[int] = mapped_column(ForeignKey("training_sheet.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("training_registration.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    #: typed name or a drawn signature (data: URL of a PNG)
    signature: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime]


class Assessment(Model):
    """Staff assessment (TRN-7): probation, professional skill, periodic."""

    __tablename__ = "training_assessment"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    staff: Mapped[Staff] = relationship(foreign_keys=[staff_id], lazy="joined")
    kind: Mapped[str] = mapped_column(String(12), default="periodic")
    assessed_on: Mapped[date]
    technical: Mapped[int] = mapped_column(Integer, default=0)
    attitude: Mapped[int] = mapped_column(Integer, default=0)
    proficiency: Mapped[int] = mapped_column(Integer, default=0)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("training_course.id", ondelete="SET NULL"))
    remarks: Mapped[str] = mapped_column(Text, default="")
    assessor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
