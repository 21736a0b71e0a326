"""What the incentives ledger stores: one row per reward or fine, and the
months finance has closed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fuwu.db import Model
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Department, Staff


class Entry(Model):
    """A reward (amount > 0) or fine (< 0) for one person, from one cause."""

    __tablename__ = "incentives_entry"
    __record_label__ = _l("Reward or fine")  # the audit log's name for it
    __record_url__ = "/incentives/entry/{id}"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("state IN ('proposed', 'confirmed', 'waived', 'disputed')", name="state"),
        Index("ix_incentives_entry_month_staff", "month", "staff_id"),
        Index("ix_incentives_entry_staff_month", "staff_id", "month"),
        Index("ix_incentives_entry_month_department", "month", "department_id"),
    )

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"), info={"label": _l("Employee")})
    #: the department when the entry was booked: the month's summary stays put when people move
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"),
                                                      info={"label": _l("Department")})
    amount: Mapped[Decimal] = mapped_column(info={"label": _l("Amount (yuan)")})
    rule_id: Mapped[str] = mapped_column(String(20), index=True, info={"label": _l("Rule ID")})
    reason: Mapped[str] = mapped_column(Text, info={"label": _l("Reason for the entry")})
    #: the record that caused it, e.g. ("complaints.complaint", 12); "manual" for entries made by hand
    source_kind: Mapped[str] = mapped_column(String(80))
    source_id: Mapped[str] = mapped_column(String(80), default="")
    #: one entry per source and rule (the idempotency key)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    #: YYYY-MM of the payroll it belongs to
    month: Mapped[str] = mapped_column(String(7), info={"label": _l("Payroll month")})
    state: Mapped[str] = mapped_column(String(12), default="proposed", info={"label": _l("Entry state")})
    #: who booked it by hand; None when a rule plugin emitted it
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    #: a correction of an entry in a closed month
    correction_of_id: Mapped[int | None] = mapped_column(ForeignKey("incentives_entry.id", ondelete="SET NULL"),
                                                         info={"label": _l("Corrects")})
    # the manager's review
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                       info={"label": _l("Reviewed by")})
    reviewed_at: Mapped[datetime | None] = mapped_column(info={"label": _l("Reviewed")})
    review_note: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Remark")})
    # the employee's dispute and its decision
    dispute_reason: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Why is it wrong?")})
    disputed_at: Mapped[datetime | None] = mapped_column(info={"label": _l("Disputed")})
    dispute_outcome: Mapped[str] = mapped_column(String(10), default="",  # "", "upheld", "rejected"
                                                 info={"label": _l("Decision")})
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                      info={"label": _l("Decided by")})
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Reason for the decision")})

    staff: Mapped[Staff] = relationship(foreign_keys=[staff_id], lazy="joined", innerjoin=True)
    department: Mapped[Department | None] = relationship(foreign_keys=[department_id], lazy="joined")
    recorded_by: Mapped[Staff | None] = relationship(foreign_keys=[recorded_by_id])
    reviewed_by: Mapped[Staff | None] = relationship(foreign_keys=[reviewed_by_id])
    decided_by: Mapped[Staff | None] = relationship(foreign_keys=[decided_by_id])
    correction_of: Mapped[Entry | None] = relationship(remote_side=lambda: [Entry.id])

    @property
    def kind(self) -> str:
        return "reward" if self.amount > 0 else "fine"


class Month(Model):
    """A payroll month; closed by finance, after which its entries are frozen."""

    __tablename__ = "incentives_month"

    month: Mapped[str] = mapped_column(String(7), unique=True)
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    entries: Mapped[int] = mapped_column(Integer, default=0)
    rewards: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    fines: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    note: Mapped[str] = mapped_column(Text, default="")

    closed_by: Mapped[Staff | None] = relationship(lazy="joined")

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def net(self) -> Decimal:
        return self.rewards + self.fines
