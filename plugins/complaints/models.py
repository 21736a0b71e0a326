"""What the complaints plugin stores.

A complaint keeps its current facts (who, what, validity, cause, reply,
follow-up, measures); *when* things happened lives in its event history
(``ComplaintEvent``). Every deadline is computed from that history by
``rules.deadlines``, so correcting an event's time recomputes them (issue §5).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fuwu.db import Model
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Contact, Customer, Department, Staff

from .rules import CATEGORIES, CAUSES, CHANNELS, REPLY_KINDS, SOURCES, STATES, VALIDITY


class Complaint(Model):
    __tablename__ = "complaints_complaint"
    __record_label__ = _l("Complaint")  # the audit log's name for it
    __record_url__ = "/complaints/{id}"
    __table_args__ = (
        CheckConstraint("source IN ('direct', 'headquarters')", name="source"),
        CheckConstraint("validity IS NULL OR validity IN ('valid', 'invalid')", name="validity"),
        CheckConstraint("compensation >= 0", name="compensation_not_negative"),
        Index("ix_complaints_complaint_received", "received_at", "id"),
        Index("ix_complaints_complaint_customer", "customer_id", "received_at"),
    )

    number: Mapped[str] = mapped_column(String(30), unique=True, info={"label": _l("Complaint number")})
    #: CMP-1: directly from the user, or forwarded by headquarters
    source: Mapped[str] = mapped_column(String(20), default="direct",
                                        info={"label": _l("Complaint source"), "choices": SOURCES})
    #: phone, visit, letter, link (the customer's own signed link)
    channel: Mapped[str] = mapped_column(String(20), default="phone",
                                         info={"label": _l("Received through"), "choices": CHANNELS})
    hq_reference: Mapped[str] = mapped_column(String(60), default="", info={"label": _l("Headquarters' reference")})
    received_at: Mapped[datetime] = mapped_column(info={"label": _l("Received at")})
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"),
                                             info={"label": _l("Customer")})
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    contact_name: Mapped[str] = mapped_column(String(100), default="", info={"label": _l("Complainant")})
    contact_phone: Mapped[str] = mapped_column(String(40), default="", info={"label": _l("Complainant's phone")})
    category: Mapped[str] = mapped_column(String(20), default="other", index=True,
                                          info={"label": _l("Complaint category"), "choices": CATEGORIES})
    description: Mapped[str] = mapped_column(Text, default="", info={"label": _l("What happened")})
    concerned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), index=True,
                                                           info={"label": _l("Staff concerned")})
    concerned_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"),
                                                                info={"label": _l("Department concerned")})
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                       info={"label": _l("Received by")})
    #: received, handling, replied, follow_up, escalated, to_archive, archived
    state: Mapped[str] = mapped_column(String(20), default="received", index=True,
                                       info={"label": _l("Complaint state"), "choices": STATES})
    # CMP-2
    validity: Mapped[str | None] = mapped_column(String(10), info={"label": _l("Validity"), "choices": VALIDITY})
    invalid_explanation: Mapped[str] = mapped_column(Text, default="",
                                                     info={"label": _l("Explanation given to the complainant")})
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                       info={"label": _l("Reviewed by")})
    responsible_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"),
                                                                  info={"label": _l("Responsible department")})
    # CMP-3
    cause: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Cause")})
    cause_category: Mapped[str | None] = mapped_column(String(20),
                                                       info={"label": _l("Kind of cause"), "choices": CAUSES})
    responsible_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), index=True,
                                                             info={"label": _l("Person responsible")})
    measures: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Measures taken")})
    reply_kind: Mapped[str | None] = mapped_column(
        String(20), info={"label": _l("Reply to the complainant"), "choices": REPLY_KINDS})
    reply_text: Mapped[str] = mapped_column(Text, default="", info={"label": _l("What the complainant was told")})
    compensation: Mapped[Decimal] = mapped_column(default=Decimal("0.00"), info={"label": _l("Compensation (yuan)")})
    result_text: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Handling result")})
    gm_call_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    gm_called: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": _l("General manager's call")})
    # CMP-4
    resolved: Mapped[bool | None] = mapped_column(Boolean, info={"label": _l("Outcome of the follow-up call")})
    customer_opinion: Mapped[str] = mapped_column(Text, default="", info={"label": _l("The user's opinion")})
    hq_answer: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Headquarters' answer")})
    # CMP-5
    corrective_measures: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Corrective measures")})
    preventive_measures: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Preventive measures")})
    #: staff-only remarks; never shown through the customer's link (issue §9)
    internal_note: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Internal note")})
    # CMP-7: booked once per complaint
    fine_emitted: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship()
    contact: Mapped[Contact | None] = relationship()
    concerned_staff: Mapped[Staff | None] = relationship(foreign_keys=[concerned_staff_id])
    concerned_department: Mapped[Department | None] = relationship(foreign_keys=[concerned_department_id])
    responsible_department: Mapped[Department | None] = relationship(foreign_keys=[responsible_department_id])
    responsible_staff: Mapped[Staff | None] = relationship(foreign_keys=[responsible_staff_id])
    received_by: Mapped[Staff | None] = relationship(foreign_keys=[received_by_id])
    reviewed_by: Mapped[Staff | None] = relationship(foreign_keys=[reviewed_by_id])
    events: Mapped[list[ComplaintEvent]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="(ComplaintEvent.at, ComplaintEvent.id)")
    promises: Mapped[list[Promise]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="Promise.due_on")

    @property
    def archived(self) -> bool:
        return self.state == "archived"

    def __str__(self) -> str:
        return self.number


class ComplaintEvent(Model):
    """One dated step of a complaint; the deadlines are derived from these."""

    __tablename__ = "complaints_event"
    __record_label__ = _l("Handling step")  # the audit log's name for it
    __audit_parent__ = ("complaints_complaint", "complaint_id")

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints_complaint.id", ondelete="CASCADE"), index=True)
    #: received, validated, invalidated, replied, handled, followed_up, escalated,
    #: hq_answered, hq_reported, gm_called, paused, resumed, archived, note
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    #: internal events are hidden from the customer's link
    internal: Mapped[bool] = mapped_column(Boolean, default=False)

    complaint: Mapped[Complaint] = relationship(back_populates="events")
    actor: Mapped[Staff | None] = relationship()


class Promise(Model):
    """CMP-6: what the customer was told, due when, kept or broken."""

    __tablename__ = "complaints_promise"
    __record_label__ = _l("Promise")  # the audit log's name for it
    __audit_parent__ = ("complaints_complaint", "complaint_id")
    __table_args__ = (CheckConstraint("status IN ('open', 'kept', 'broken')", name="status"),)

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints_complaint.id", ondelete="CASCADE"), index=True)
    #: process, time_limit, result
    kind: Mapped[str] = mapped_column(String(20), default="result")
    text: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default="open")
    settled_at: Mapped[datetime | None]
    made_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))

    complaint: Mapped[Complaint] = relationship(back_populates="promises")


class Reminder(Model):
    """An overdue deadline already notified: once per deadline (issue §5)."""

    __tablename__ = "complaints_reminder"
    __record_label__ = _l("Reminder")  # the audit log's name for it
    __audit_parent__ = ("complaints_complaint", "complaint_id")
    __table_args__ = (UniqueConstraint("complaint_id", "key"),)

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints_complaint.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))


class ReviewFlag(Model):
    """CMP-7: an employee (or their manager) to be reviewed for dismissal or demotion."""

    __tablename__ = "complaints_review_flag"
    __table_args__ = (UniqueConstraint("staff_id", "kind", "complaint_id"),)

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    #: dismissal (repeated attitude complaint), manager_review (three in six months)
    kind: Mapped[str] = mapped_column(String(20))
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints_complaint.id", ondelete="CASCADE"))
    count: Mapped[int] = mapped_column(default=0)

    staff: Mapped[Staff] = relationship()
    complaint: Mapped[Complaint] = relationship()


class MonthlyReport(Model):
    """CMP-5: the month's analysis report, built and sent by the month-end job."""

    __tablename__ = "complaints_report"
    __record_label__ = _l("Complaint report")  # the audit log's name for it
    __record_url__ = "/complaints/reports/{id}"

    month: Mapped[date] = mapped_column(unique=True, info={"label": _l("Month")})
    due_on: Mapped[date] = mapped_column(info={"label": _l("Due on")})
    built_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(info={"label": _l("Sent at")})
    data: Mapped[dict] = mapped_column(JSON, default=dict)
