"""What the contracts plugin stores, next to core's ``contract`` table.

Core's ``Contract`` keeps the paper contract (signing, installation, validity,
amount). This plugin adds, per service contract: its terms (SLA level,
free-visit policy, who is responsible), the history of its service periods,
the on-site visit log with free/charged decisions, and renewals run through
the core workflow engine.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fuwu.db import Model
from fuwu.i18n import gettext, stored_text
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Contract, Product, Staff
from fuwu.workflow import WorkflowMixin

from .rules import is_charged


class SlaLevel(Model):
    """A service level (CON-3): milestones on working hours or 7x24."""

    __tablename__ = "contracts_sla_level"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    #: built-in levels store an untranslated message (shown translated)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    #: costs borne by the company (in warranty) or charged at cost
    in_warranty: Mapped[bool] = mapped_column(Boolean, default=True)
    #: "working": the core calendar's working hours and days; "24x7": round the clock
    clock: Mapped[str] = mapped_column(String(10), default="working")
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    rule: Mapped[str] = mapped_column(String(20), default="")
    sequence: Mapped[int] = mapped_column(Integer, default=100)

    milestones: Mapped[list[SlaMilestone]] = relationship(
        back_populates="level", cascade="all, delete-orphan", order_by="SlaMilestone.sequence", lazy="selectin")

    @property
    def round_the_clock(self) -> bool:
        return self.clock == "24x7"

    def __str__(self) -> str:
        return self.name


class SlaMilestone(Model):
    __tablename__ = "contracts_sla_milestone"
    __table_args__ = (
        UniqueConstraint("level_id", "key"),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        CheckConstraint("unit IN ('hours', 'days')", name="unit"),
    )

    level_id: Mapped[int] = mapped_column(ForeignKey("contracts_sla_level.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(100))
    #: None: take the regulation's value from ``setting_key`` (built-in levels)
    amount: Mapped[int | None] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(10), default="hours")
    setting_key: Mapped[str | None] = mapped_column(String(120))
    sequence: Mapped[int] = mapped_column(Integer, default=0)

    level: Mapped[SlaLevel] = relationship(back_populates="milestones")


class ContractTerms(Model):
    """Per service contract: SLA level, free-visit policy, responsible person.

    Empty values mean "the site's setting", so a contract follows the
    regulation's default until someone chooses otherwise.
    """

    __tablename__ = "contracts_terms"
    __table_args__ = (
        CheckConstraint("visit_policy IS NULL OR visit_policy IN ('visits', 'days')", name="visit_policy"),
        CheckConstraint("free_visits IS NULL OR free_visits >= 0", name="free_visits"),
        CheckConstraint("free_days IS NULL OR free_days >= 0", name="free_days"),
    )

    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"), unique=True)
    sla_level_id: Mapped[int | None] = mapped_column(ForeignKey("contracts_sla_level.id", ondelete="SET NULL"))
    visit_policy: Mapped[str | None] = mapped_column(String(10))
    free_visits: Mapped[int | None] = mapped_column(Integer)
    free_days: Mapped[int | None] = mapped_column(Integer)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    notes: Mapped[str] = mapped_column(Text, default="")

    contract: Mapped[Contract] = relationship()
    sla_level: Mapped[SlaLevel | None] = relationship(lazy="joined")
    responsible: Mapped[Staff | None] = relationship(lazy="joined")


class ServicePeriod(Model):
    """One service period of a contract (CON-1, CON-2); renewals add the next."""

    __tablename__ = "contracts_period"
    __record_label__ = _l("Service period")  # the audit log's name for it
    __audit_parent__ = ("contract", "contract_id")
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        Index("ix_contracts_period_contract_ends", "contract_id", "ends_on"),
    )

    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"),
                                             info={"label": _l("Contract")})
    starts_on: Mapped[date] = mapped_column(info={"label": _l("Starts on")})
    ends_on: Mapped[date] = mapped_column(index=True, info={"label": _l("Ends on")})
    #: signing (CON-1/CON-2 from the contract), renewal (CON-5), manual, migration
    source: Mapped[str] = mapped_column(String(20), default="manual")
    amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"), info={"label": _l("Amount (yuan)")})
    notes: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Notes")})

    contract: Mapped[Contract] = relationship()

    def __str__(self) -> str:
        return f"{self.starts_on.isoformat()} – {self.ends_on.isoformat()}"


class Visit(Model):
    """An on-site visit and whether it is free or charged, and why (CON-4)."""

    __tablename__ = "contracts_visit"
    __record_label__ = _l("On-site visit")  # the audit log's name for it
    __audit_parent__ = ("contract", "contract_id")
    __table_args__ = (
        CheckConstraint("fee >= 0", name="fee_not_negative"),
        CheckConstraint("problem IN ('software', 'hardware')", name="problem"),
        CheckConstraint("decision IS NULL OR decision IN ('charge', 'waive')", name="decision"),
        Index("ix_contracts_visit_contract_day", "contract_id", "visited_on"),
    )

    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"))
    period_id: Mapped[int | None] = mapped_column(ForeignKey("contracts_period.id", ondelete="SET NULL"))
    visited_on: Mapped[date] = mapped_column(index=True)
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"))
    problem: Mapped[str] = mapped_column(String(10), default="software")
    manufacturer_warranty: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str] = mapped_column(String(300))
    #: the rule's answer (recomputed when an earlier visit is added or removed)
    free: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[str] = mapped_column(String(300), default="")
    reason_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ordinal: Mapped[int | None] = mapped_column(Integer)
    fee: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    # A disputed charge (004 charging §3, §5): the customer's objection and
    # the salesperson's or department head's decision, which the engineer follows.
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)
    dispute_note: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str | None] = mapped_column(String(10))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str] = mapped_column(Text, default="")

    contract: Mapped[Contract] = relationship()
    engineer: Mapped[Staff | None] = relationship(foreign_keys=[engineer_id], lazy="joined")
    decided_by: Mapped[Staff | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")
    product: Mapped[Product | None] = relationship(lazy="joined")

    @property
    def charged(self) -> bool:
        return is_charged(self.free, self.decision)

    def reason_text(self) -> str:
        """Why the visit is free or charged, in the reader's language."""
        return stored_text(gettext, self.reason, self.reason_params) if self.reason else ""


class Renewal(WorkflowMixin, Model):
    """A renewal (CON-5): proposed -> agreed (new period) -> customer contacted
    -> software updated -> done. Each step is logged by the workflow engine."""

    __tablename__ = "contracts_renewal"
    __audit_parent__ = ("contract", "contract_id")
    __workflow__ = "contracts.renewal"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"), index=True,
                                             info={"label": _l("Contract")})
    #: the period being renewed, and the one the agreement created
    period_id: Mapped[int | None] = mapped_column(ForeignKey("contracts_period.id", ondelete="SET NULL"),
                                                  info={"label": _l("Service period")})
    new_period_id: Mapped[int | None] = mapped_column(ForeignKey("contracts_period.id", ondelete="SET NULL"),
                                                      info={"label": _l("New period")})
    starts_on: Mapped[date] = mapped_column(info={"label": _l("New period starts on")})
    ends_on: Mapped[date] = mapped_column(info={"label": _l("New period ends on")})
    amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"), info={"label": _l("Amount (yuan)")})
    #: who drives the renewal (not ``assignee_id``: the workflow engine would then show
    #: each step only to this person, hiding the agreement from the salespeople)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                       info={"label": _l("Assignee")})
    notes: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Notes")})

    contract: Mapped[Contract] = relationship()
    assigned_to: Mapped[Staff | None] = relationship(foreign_keys=[assigned_to_id], lazy="joined")
    period: Mapped[ServicePeriod | None] = relationship(foreign_keys=[period_id])
    new_period: Mapped[ServicePeriod | None] = relationship(foreign_keys=[new_period_id])

    def __str__(self) -> str:
        return f"{self.contract.number} {self.starts_on.isoformat()} – {self.ends_on.isoformat()}"

    def workflow_title(self):
        return _l("%(number)s, %(start)s to %(end)s", number=self.contract.number, start=self.starts_on,
                  end=self.ends_on)


class Reminder(Model):
    """A CON-5 reminder already sent, so the daily job never sends it twice."""

    __tablename__ = "contracts_reminder"
    __audited__ = False
    __table_args__ = (UniqueConstraint("contract_id", "period_end", "stage"),)

    #: None for the monthly-plan notice (stage "plan", period_end = first of the month)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"))
    period_end: Mapped[date]
    stage: Mapped[str] = mapped_column(String(20))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
