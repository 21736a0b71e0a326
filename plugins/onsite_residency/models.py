"""What the resident-service plugin stores (RES-1..6)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fuwu.db import Model
from fuwu.i18n import Month, gettext
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Customer, Staff
from fuwu.workflow import WorkflowMixin


class Residency(Model):
    """An engineer resident at a customer's site, under a group lead, from .. to."""

    __tablename__ = "onsite_residency_residency"
    __record_label__ = _l("Residency")  # the audit log's name for it
    __record_url__ = "/onsite_residency/residencies/{id}"
    __table_args__ = (Index("ix_onsite_residency_residency_engineer", "engineer_id", "starts_on"),)

    engineer_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"),
                                             info={"label": _l("Resident engineer")})
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), index=True,
                                                info={"label": _l("Supervising group lead")})
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"), index=True,
                                             info={"label": _l("Customer")})
    site_name: Mapped[str] = mapped_column(String(200), default="", info={"label": _l("Customer site")})
    starts_on: Mapped[date] = mapped_column(info={"label": _l("Resident from")})
    ends_on: Mapped[date | None] = mapped_column(info={"label": _l("Resident until")})
    notes: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Notes")})

    engineer: Mapped[Staff] = relationship(foreign_keys=[engineer_id], lazy="joined")
    lead: Mapped[Staff | None] = relationship(foreign_keys=[lead_id], lazy="joined")
    customer: Mapped[Customer] = relationship(lazy="joined")

    def active_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    def __str__(self) -> str:
        return f"{self.engineer.name} @ {self.customer.name}"


class ResidentAttendance(Model):
    """One day of the resident lead's attendance sheet (RES-1)."""

    __tablename__ = "onsite_residency_attendance"
    __record_label__ = _l("Attendance")  # the audit log's name for it
    __audit_parent__ = ("onsite_residency_residency", "residency_id")
    __table_args__ = (UniqueConstraint("residency_id", "day"),)

    residency_id: Mapped[int] = mapped_column(ForeignKey("onsite_residency_residency.id", ondelete="CASCADE"))
    day: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default="present")
    overtime_hours: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(200), default="")


class ResidentCall(Model):
    """A repair call at the site: called, acknowledged, reached (RES-2)."""

    __tablename__ = "onsite_residency_call"
    __record_label__ = _l("Repair call")  # the audit log's name for it
    __audit_parent__ = ("onsite_residency_residency", "residency_id")
    __table_args__ = (Index("ix_onsite_residency_call_residency", "residency_id", "called_at"),)

    residency_id: Mapped[int] = mapped_column(ForeignKey("onsite_residency_residency.id", ondelete="CASCADE"))
    called_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    reached_at: Mapped[datetime | None]
    summary: Mapped[str] = mapped_column(String(300), default="")
    #: RES-2 verdict with the settings in force when recorded
    compliant: Mapped[bool] = mapped_column(default=False)


class ResidentReport(WorkflowMixin, Model):
    """The resident service monthly report (驻场服务月度报表) and its chain (RES-3, RES-6)."""

    __tablename__ = "onsite_residency_report"
    __audit_parent__ = ("onsite_residency_residency", "residency_id")
    __workflow__ = "onsite_residency.report"
    __table_args__ = (UniqueConstraint("residency_id", "month"),)

    residency_id: Mapped[int] = mapped_column(ForeignKey("onsite_residency_residency.id", ondelete="CASCADE"),
                                              info={"label": _l("Residency")})
    month: Mapped[date] = mapped_column(index=True, info={"label": _l("Month")})
    work_done: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Work done")})
    problems: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Problems found")})
    suggestions: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Suggestions")})
    #: the engineer's own service quality evaluation form (RES-6)
    evaluation: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Service quality self-evaluation")})
    #: RES-1/RES-2 figures filled in from the sheet and the call log
    figures: Mapped[dict] = mapped_column(JSON, default=dict)
    #: RES-6: when each document first reached the chain ({doc: iso datetime})
    documents: Mapped[dict] = mapped_column(JSON, default=dict)
    stamped_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    stamped_at: Mapped[datetime | None]
    stamp_hash: Mapped[str] = mapped_column(String(64), default="")
    sent_at: Mapped[datetime | None] = mapped_column(info={"label": _l("Submitted at")})
    contact_name: Mapped[str] = mapped_column(String(100), default="", info={"label": _l("Customer contact")})

    residency: Mapped[Residency] = relationship(lazy="joined")
    stamped_by: Mapped[Staff | None] = relationship(foreign_keys=[stamped_by_id])
    rating: Mapped[ResidentRating | None] = relationship(back_populates="report", lazy="selectin", uselist=False)

    @property
    def assignee_id(self) -> int | None:
        # the supervising group lead reviews his own residents' reports
        if self.state == "lead_review":
            return self.residency.lead_id
        return None

    def __str__(self) -> str:
        return gettext("Resident report %(month)s, %(engineer)s", month=Month(self.month),
                       engineer=self.residency.engineer.name)

    def workflow_title(self):
        return _l("%(engineer)s at %(customer)s, %(month)s", engineer=self.residency.engineer.name,
                  customer=self.residency.customer.name, month=Month(self.month))


class ResidentRating(Model):
    """The customer's satisfaction survey and service evaluation (RES-3)."""

    __tablename__ = "onsite_residency_rating"
    __record_label__ = _l("Customer rating")  # the audit log's name for it
    __audit_parent__ = ("onsite_residency_report", "report_id")

    report_id: Mapped[int] = mapped_column(ForeignKey("onsite_residency_report.id", ondelete="CASCADE"),
                                           unique=True)
    rating: Mapped[str] = mapped_column(String(20))
    satisfaction: Mapped[str] = mapped_column(String(20))
    comments: Mapped[str] = mapped_column(Text, default="")
    rater_name: Mapped[str] = mapped_column(String(100), default="")
    rated_at: Mapped[datetime]

    report: Mapped[ResidentReport] = relationship(back_populates="rating")


class ResidentMonthResult(Model):
    """What month close decided for one person and month (RES-4, RES-5); at most one each."""

    __tablename__ = "onsite_residency_result"
    __table_args__ = (UniqueConstraint("report_id", "role"),)

    report_id: Mapped[int] = mapped_column(ForeignKey("onsite_residency_report.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"), index=True)
    month: Mapped[date] = mapped_column(index=True)
    role: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal]
    rule: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict] = mapped_column(JSON, default=dict)

    staff: Mapped[Staff] = relationship(lazy="joined")

    def reason_text(self) -> str:
        params = {k: gettext(v) if k == "rating" else v for k, v in (self.params or {}).items()}
        return gettext(self.reason, **params)
