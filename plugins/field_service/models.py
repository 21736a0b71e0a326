"""What the field_service plugin stores: mobile jobs with their return visit
(RES-7), the monthly award results, and team projects with members, documents
and bonus lines (RES-8)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fuwu.db import Model
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Customer, Staff


class MobileJob(Model):
    """A call handed to a mobile technician (RES-7)."""

    __tablename__ = "field_service_job"
    __record_label__ = _l("Mobile service job")  # the audit log's name for it
    __record_url__ = "/field_service/jobs/{id}"
    __table_args__ = (
        CheckConstraint("state IN ('assigned', 'departed', 'arrived', 'finished')", name="state"),
        CheckConstraint("answer IS NULL OR answer IN ('very_satisfied', 'satisfied', 'dissatisfied')",
                        name="answer"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True,
                                             info={"label": _l("Customer")})
    technician_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"), index=True,
                                               info={"label": _l("Mobile technician")})
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                       info={"label": _l("Coordinator")})
    problem: Mapped[str] = mapped_column(String(300), info={"label": _l("Problem reported")})
    kind: Mapped[str] = mapped_column(String(40), info={"label": _l("Kind of job")})
    state: Mapped[str] = mapped_column(String(20), default="assigned", index=True, info={"label": _l("Job state")})
    assigned_at: Mapped[datetime] = mapped_column(index=True, info={"label": _l("Assigned at")})
    departed_at: Mapped[datetime | None] = mapped_column(info={"label": _l("Departed at")})
    left_in_time: Mapped[bool | None] = mapped_column(Boolean, info={"label": _l("Left in time")})
    arrived_at: Mapped[datetime | None] = mapped_column(info={"label": _l("Arrived at")})
    finished_at: Mapped[datetime | None] = mapped_column(index=True, info={"label": _l("Finished at")})
    #: the finish day in Asia/Shanghai: the return-visit list and the month read it
    finished_on: Mapped[date | None] = mapped_column(index=True, info={"label": _l("Finished on")})
    score: Mapped[int] = mapped_column(Integer, default=0, info={"label": _l("Workload score")})
    work_done: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Work done")})
    answer: Mapped[str | None] = mapped_column(String(20), info={"label": _l("Customer's answer")})
    answer_comment: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Comments")})
    visit_attempts: Mapped[int] = mapped_column(Integer, default=0, info={"label": _l("Failed attempts")})
    visit_failed_note: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Comments")})
    visited_at: Mapped[datetime | None]
    visited_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))

    customer: Mapped[Customer] = relationship()
    technician: Mapped[Staff] = relationship(foreign_keys=[technician_id])
    coordinator: Mapped[Staff | None] = relationship(foreign_keys=[coordinator_id])

    @property
    def visit_done(self) -> bool:
        return self.answer is not None or self.visit_attempts > 0


class AwardResult(Model):
    """One technician's reward or fine of one month (RES-7), emitted once."""

    __tablename__ = "field_service_award"
    __table_args__ = (UniqueConstraint("month", "staff_id", "kind"),)

    month: Mapped[date] = mapped_column(index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal]
    place: Mapped[int | None]
    reason: Mapped[str] = mapped_column(String(300))

    staff: Mapped[Staff] = relationship()


class Project(Model):
    """A team service project (RES-8)."""

    __tablename__ = "field_service_project"
    __record_label__ = _l("Team service project")  # the audit log's name for it
    __record_url__ = "/field_service/projects/{id}"
    __table_args__ = (
        CheckConstraint("state IN ('running', 'summarised', 'closed')", name="state"),
        CheckConstraint("expected_finish >= expected_start", name="dates_in_order"),
    )

    title: Mapped[str] = mapped_column(String(200), info={"label": _l("Project title")})
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True,
                                             info={"label": _l("Customer")})
    manager_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"),
                                            info={"label": _l("Project manager")})
    leader_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"),
                                           info={"label": _l("Group leader")})
    expected_start: Mapped[date] = mapped_column(info={"label": _l("Expected start")})
    expected_finish: Mapped[date] = mapped_column(info={"label": _l("Expected finish")})
    actual_start: Mapped[date | None] = mapped_column(info={"label": _l("Actual start")})
    actual_finish: Mapped[date | None] = mapped_column(info={"label": _l("Actual finish")})
    state: Mapped[str] = mapped_column(String(20), default="running", index=True, info={"label": _l("Project state")})
    summary: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Summary report")})
    #: "satisfied" / "dissatisfied" from the customer's survey
    survey: Mapped[str | None] = mapped_column(String(20), info={"label": _l("Customer survey")})
    survey_comment: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Comments")})
    bonus: Mapped[Decimal] = mapped_column(default=Decimal("0.00"), info={"label": _l("Project bonus (yuan)")})

    customer: Mapped[Customer] = relationship()
    manager: Mapped[Staff] = relationship(foreign_keys=[manager_id])
    leader: Mapped[Staff] = relationship(foreign_keys=[leader_id])
    # module-qualified targets: another plugin may one day name a class the same
    members: Mapped[list[ProjectMember]] = relationship(
        "fuwu_plugins.field_service.models.ProjectMember", back_populates="project", cascade="all, delete-orphan",
        order_by=lambda: ProjectMember.id)
    documents: Mapped[list[ProjectDocument]] = relationship(
        "fuwu_plugins.field_service.models.ProjectDocument", back_populates="project", cascade="all, delete-orphan",
        order_by=lambda: (ProjectDocument.due_on, ProjectDocument.id))

    def __str__(self) -> str:
        return self.title


class ProjectMember(Model):
    __tablename__ = "field_service_member"
    __record_label__ = _l("Project member")  # the audit log's name for it
    __audit_parent__ = ("field_service_project", "project_id")
    __table_args__ = (UniqueConstraint("project_id", "staff_id"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("field_service_project.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"), index=True)
    task: Mapped[str] = mapped_column(String(300), default="")

    project: Mapped[Project] = relationship("fuwu_plugins.field_service.models.Project", back_populates="members")
    staff: Mapped[Staff] = relationship()


class ProjectDocument(Model):
    """A plan, daily report, work record or summary report, with its due day."""

    __tablename__ = "field_service_document"
    __record_label__ = _l("Project document")  # the audit log's name for it
    __audit_parent__ = ("field_service_project", "project_id")
    __table_args__ = (CheckConstraint("kind IN ('plan', 'daily', 'work_record', 'summary')", name="kind"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("field_service_project.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    responsible_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"))
    due_on: Mapped[date]
    submitted_on: Mapped[date | None]
    body: Mapped[str] = mapped_column(Text, default="")
    serials: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[int | None]

    project: Mapped[Project] = relationship("fuwu_plugins.field_service.models.Project", back_populates="documents")
    responsible: Mapped[Staff] = relationship()
