"""First-visit calls (首访, CORE-2).

Sales submit a new customer; it enters the call queue. The service centre
phones the customer: each attempt is recorded (no answer -> retry at a set
time), the verification checklist is ticked (company name, contact, phone,
address, purchased software, plus items plugins add through the
``first_visit_checks`` hook, e.g. SK-4's service code and dongle number), the
customer is told the service code, phone numbers, how to ask for service and
the response times, and their needs are recorded. After work, the day's needs
go to the responsible department heads (job ``core.first_visit_digest``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Model
from .i18n import lazy_gettext as _l
from .models import Customer, Department, Staff

STATUSES = {
    "queued": _l("Waiting for the call"),
    "retry": _l("Call again later"),
    "done": _l("Verified"),
    "cancelled": _l("Cancelled"),
}

OUTCOMES = {
    "answered": _l("Answered"),
    "no_answer": _l("No answer"),
    "busy": _l("Busy, call back"),
    "wrong_number": _l("Wrong number"),
}

CORE_CHECKS = [
    ("core.company_name", _l("Company name confirmed")),
    ("core.contact", _l("Contact person confirmed")),
    ("core.phone", _l("Phone number confirmed")),
    ("core.address", _l("Address confirmed")),
    ("core.software", _l("Purchased software confirmed")),
    ("core.told_service", _l("Told the supervision and technical phone numbers, how to ask for service "
                             "and the response times")),
]


class FirstVisitCall(Model):
    __tablename__ = "core_first_visit"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), unique=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    completed_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")

    customer: Mapped[Customer] = relationship(lazy="joined", innerjoin=True)
    submitted_by: Mapped[Staff | None] = relationship(foreign_keys=[submitted_by_id])
    assigned_to: Mapped[Staff | None] = relationship(foreign_keys=[assigned_to_id])
    attempts: Mapped[list[FirstVisitAttempt]] = relationship(back_populates="call", order_by="FirstVisitAttempt.id",
                                                             cascade="all, delete-orphan")
    checks: Mapped[list[FirstVisitCheck]] = relationship(back_populates="call", cascade="all, delete-orphan")
    needs: Mapped[list[CustomerNeed]] = relationship(back_populates="call", order_by="CustomerNeed.id",
                                                     cascade="all, delete-orphan")

    def __str__(self) -> str:
        return self.customer.name


class FirstVisitAttempt(Model):
    __tablename__ = "core_first_visit_attempt"

    call_id: Mapped[int] = mapped_column(ForeignKey("core_first_visit.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    retry_at: Mapped[datetime | None]

    call: Mapped[FirstVisitCall] = relationship(back_populates="attempts")
    by: Mapped[Staff | None] = relationship()


class FirstVisitCheck(Model):
    __tablename__ = "core_first_visit_check"
    __table_args__ = (UniqueConstraint("call_id", "key"),)

    call_id: Mapped[int] = mapped_column(ForeignKey("core_first_visit.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    ok: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(String(300), default="")

    call: Mapped[FirstVisitCall] = relationship(back_populates="checks")


class CustomerNeed(Model):
    """A need the customer told us during the first visit, for a department head."""

    __tablename__ = "core_customer_need"

    call_id: Mapped[int] = mapped_column(ForeignKey("core_first_visit.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    digest_sent_at: Mapped[datetime | None] = mapped_column(index=True)

    call: Mapped[FirstVisitCall] = relationship(back_populates="needs")
    department: Mapped[Department | None] = relationship()
