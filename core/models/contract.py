"""Sales and after-sales service contracts (CORE-4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, Model
from ..i18n import lazy_gettext as _l
from .customer import Customer, Product

CONTRACT_KINDS = {
    "sales": _l("Sales contract"),
    "service": _l("After-sales service contract"),
}

contract_product = Table(
    "contract_product",
    Base.metadata,
    Column("contract_id", ForeignKey("contract.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("product.id"), primary_key=True),
)


class Contract(Model):
    __tablename__ = "contract"
    __record_label__ = _l("Contract")  # the audit log's name for it
    __record_url__ = "/contracts/{id}"
    __table_args__ = (
        CheckConstraint("kind IN ('sales', 'service')", name="kind"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates_in_order"),
    )
    __created_event__ = "contract_signed"
    __changed_event__ = "contract_changed"
    __event_arg__ = "contract"

    number: Mapped[str] = mapped_column(String(60), unique=True, info={"label": _l("Contract number")})
    kind: Mapped[str] = mapped_column(String(10), default="service",
                                      info={"label": _l("Kind"), "choices": CONTRACT_KINDS})
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"), index=True,
                                             info={"label": _l("Customer")})
    signed_on: Mapped[date] = mapped_column(info={"label": _l("Signed on")})
    #: unknown until the software is installed; CON-1 then falls back to signed_on.
    installed_on: Mapped[date | None] = mapped_column(info={"label": _l("Installed on")})
    starts_on: Mapped[date | None] = mapped_column(info={"label": _l("Service starts on")})
    ends_on: Mapped[date | None] = mapped_column(index=True, info={"label": _l("Service ends on")})
    amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"), info={"label": _l("Amount (yuan)")})
    service_level: Mapped[str] = mapped_column(String(40), default="", info={"label": _l("Service level")})
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                     info={"label": _l("Signed by")})
    notes: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Notes")})

    customer: Mapped[Customer] = relationship()
    products: Mapped[list[Product]] = relationship(secondary=contract_product, info={"label": _l("Software")})

    def __str__(self) -> str:
        return self.number
