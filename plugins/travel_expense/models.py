"""What the travel_expense plugin stores.

A trip starts as a travel application (TRV-4); advances (TRV-5) and one
reimbursement claim (TRV-6) hang off it, each a form under the core workflow
engine. The claim keeps a snapshot of the grade's standard in force when the
trip began (TRV-1), so a later change of standard never rewrites it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fuwu.db import Base, Model
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Customer, Staff
from fuwu.workflow import WorkflowMixin

trip_customer = Table(
    "travel_expense_trip_customer",
    Base.metadata,
    Column("trip_id", ForeignKey("travel_expense_trip.id", ondelete="CASCADE"), primary_key=True),
    Column("customer_id", ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Standard(Model):
    """TRV-1: what a grade may spend, from a date on."""

    __tablename__ = "travel_expense_standard"
    __table_args__ = (
        UniqueConstraint("grade", "effective_from"),
        CheckConstraint("lodging_cap >= 0", name="lodging_cap_not_negative"),
        CheckConstraint("meal_rate >= 0", name="meal_rate_not_negative"),
    )

    grade: Mapped[str] = mapped_column(String(20))
    effective_from: Mapped[date]
    transport_class: Mapped[str] = mapped_column(String(40))
    lodging_cap: Mapped[Decimal]
    meal_rate: Mapped[Decimal]
    notes: Mapped[str] = mapped_column(Text, default="")


class Trip(WorkflowMixin, Model):
    """A travel application (出差申请单, TRV-4)."""

    __tablename__ = "travel_expense_trip"
    __workflow__ = "travel_expense.application"
    __table_args__ = (
        CheckConstraint("return_on >= depart_on", name="dates_in_order"),
        Index("ix_travel_expense_trip_owner", "owner_id", "id"),
    )

    destinations: Mapped[str] = mapped_column(String(200), info={"label": _l("Destination(s)")})
    region: Mapped[str] = mapped_column(String(100), default="", index=True, info={"label": _l("Region of the trip")})
    itinerary: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Itinerary")})
    purpose: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Purpose of the trip")})
    transport_class: Mapped[str] = mapped_column(String(40), info={"label": _l("Transport")})
    depart_on: Mapped[date] = mapped_column(info={"label": _l("Departure date")})
    return_on: Mapped[date] = mapped_column(info={"label": _l("Return date")})
    est_transport: Mapped[Decimal] = mapped_column(default=Decimal("0.00"),
                                                   info={"label": _l("Estimated transport (yuan)")})
    est_lodging: Mapped[Decimal] = mapped_column(default=Decimal("0.00"),
                                                 info={"label": _l("Estimated lodging (yuan)")})
    est_meals: Mapped[Decimal] = mapped_column(default=Decimal("0.00"), info={"label": _l("Estimated meals (yuan)")})
    est_other: Mapped[Decimal] = mapped_column(default=Decimal("0.00"),
                                               info={"label": _l("Estimated other costs (yuan)")})

    owner: Mapped[Staff | None] = relationship(foreign_keys="Trip.owner_id", lazy="joined")
    customers: Mapped[list[Customer]] = relationship(secondary=trip_customer, order_by="Customer.name",
                                                     info={"label": _l("Customers served")})

    @property
    def estimate(self) -> Decimal:
        return self.est_transport + self.est_lodging + self.est_meals + self.est_other

    def __str__(self) -> str:
        return f"{self.destinations} {self.depart_on.isoformat()}"

    def workflow_title(self):
        return _l("%(destinations)s, departing %(day)s", destinations=self.destinations, day=self.depart_on)


class Advance(WorkflowMixin, Model):
    """A payment request (用款申请单, TRV-5) against a trip."""

    __tablename__ = "travel_expense_advance"
    __workflow__ = "travel_expense.advance"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("method IN ('cheque', 'transfer', 'cash')", name="method"),
        Index("ix_travel_expense_advance_owner_state", "owner_id", "state"),
    )

    trip_id: Mapped[int] = mapped_column(ForeignKey("travel_expense_trip.id", ondelete="CASCADE"), index=True,
                                         info={"label": _l("Trip")})
    amount: Mapped[Decimal] = mapped_column(info={"label": _l("Amount requested (yuan)")})
    purpose: Mapped[str] = mapped_column(Text, default="", info={"label": _l("What the money is for")})
    #: TRV-5: cheque unless the approver accepted a written explanation
    method: Mapped[str] = mapped_column(String(20), default="cheque", info={"label": _l("Payment method")})
    method_reason: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Why not by cheque")})
    paid_on: Mapped[date | None] = mapped_column(info={"label": _l("Paid on")})
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    reference: Mapped[str] = mapped_column(String(100), default="", info={"label": _l("Cheque or transfer number")})
    cleared_on: Mapped[date | None] = mapped_column(info={"label": _l("Cleared on")})

    trip: Mapped[Trip] = relationship(lazy="joined")
    owner: Mapped[Staff | None] = relationship(foreign_keys="Advance.owner_id", lazy="joined")
    paid_by: Mapped[Staff | None] = relationship(foreign_keys=[paid_by_id])

    def __str__(self) -> str:
        return f"#{self.id} {self.amount:.2f}"

    def workflow_title(self):
        # under "Travel advance: …", the trip says which one it is
        return self.trip.workflow_title() if self.trip else str(self)


class Claim(WorkflowMixin, Model):
    """The reimbursement of a trip (TRV-6), one per trip."""

    __tablename__ = "travel_expense_claim"
    __workflow__ = "travel_expense.claim"
    __table_args__ = (
        CheckConstraint("returned_at > departed_at", name="return_after_departure"),
        CheckConstraint("settlement_kind IS NULL OR settlement_kind IN ('refund', 'payout', 'even')",
                        name="settlement_kind"),
    )

    trip_id: Mapped[int] = mapped_column(ForeignKey("travel_expense_trip.id", ondelete="CASCADE"), unique=True,
                                         info={"label": _l("Trip")})
    departed_at: Mapped[datetime] = mapped_column(info={"label": _l("Departure of the transport")})
    returned_at: Mapped[datetime] = mapped_column(index=True, info={"label": _l("Return of the transport")})
    #: TRV-1 snapshot: the standard in force when the trip began
    grade: Mapped[str] = mapped_column(String(20))
    std_transport_class: Mapped[str] = mapped_column(String(40))
    std_lodging_cap: Mapped[Decimal]
    std_meal_rate: Mapped[Decimal]
    days: Mapped[Decimal] = mapped_column(info={"label": _l("Trip days")})
    total: Mapped[Decimal] = mapped_column(default=Decimal("0.00"), info={"label": _l("Total payable")})
    employee_bears: Mapped[Decimal] = mapped_column(default=Decimal("0.00"),
                                                    info={"label": _l("Borne by the employee")})
    above_class: Mapped[bool] = mapped_column(Boolean, default=False,
                                              info={"label": _l("Transport above the standard class")})
    #: why a higher transport class was used (the approver reads it)
    remarks: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Remarks for the approver")})
    filed_on: Mapped[date | None]
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    advance_id: Mapped[int | None] = mapped_column(ForeignKey("travel_expense_advance.id", ondelete="SET NULL"),
                                                   info={"label": _l("Advance")})
    settlement_kind: Mapped[str | None] = mapped_column(String(10), info={"label": _l("Settlement")})
    settlement_amount: Mapped[Decimal | None]
    settled_on: Mapped[date | None]
    settled_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    settlement_reference: Mapped[str] = mapped_column(String(100), default="",
                                                      info={"label": _l("Receipt or transfer number")})

    trip: Mapped[Trip] = relationship(lazy="joined")
    owner: Mapped[Staff | None] = relationship(foreign_keys="Claim.owner_id", lazy="joined")
    advance: Mapped[Advance | None] = relationship(foreign_keys=[advance_id])
    settled_by: Mapped[Staff | None] = relationship(foreign_keys=[settled_by_id])
    lines: Mapped[list[ClaimLine]] = relationship(back_populates="claim", cascade="all, delete-orphan",
                                                  order_by="ClaimLine.seq", lazy="selectin")

    def __str__(self) -> str:
        return f"{self.trip.destinations} {self.total:.2f}" if self.trip else f"#{self.id}"

    def workflow_title(self):
        return self.trip.workflow_title() if self.trip else str(self)


class ClaimLine(Model):
    __tablename__ = "travel_expense_claim_line"
    __record_label__ = _l("Expense line")  # the audit log's name for it
    __audit_parent__ = ("travel_expense_claim", "claim_id")
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("kind IN ('transport', 'lodging', 'local', 'other')", name="kind"),
        CheckConstraint("nights >= 0", name="nights_not_negative"),
    )

    claim_id: Mapped[int] = mapped_column(ForeignKey("travel_expense_claim.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200), default="")
    amount: Mapped[Decimal]
    nights: Mapped[int] = mapped_column(Integer, default=0)
    invoice: Mapped[bool] = mapped_column(Boolean, default=False)
    transport_class: Mapped[str] = mapped_column(String(40), default="")

    claim: Mapped[Claim] = relationship(back_populates="lines")


class ServiceRecord(Model):
    """TRV-8: the trip written into a customer's service record."""

    __tablename__ = "travel_expense_record"
    __record_label__ = _l("Service record")  # the audit log's name for it
    __audit_parent__ = ("travel_expense_trip", "trip_id")

    trip_id: Mapped[int] = mapped_column(ForeignKey("travel_expense_trip.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    summary: Mapped[str] = mapped_column(Text)
    written_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))

    customer: Mapped[Customer] = relationship(lazy="joined")
    written_by: Mapped[Staff | None] = relationship()


class Fine(Model):
    """TRV-8: the fine for a trip missing from the service record, booked once."""

    __tablename__ = "travel_expense_fine"

    trip_id: Mapped[int] = mapped_column(ForeignKey("travel_expense_trip.id", ondelete="CASCADE"), unique=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    amount: Mapped[Decimal]
