"""Customers, their contacts and purchased products (CORE-1)."""

from __future__ import annotations

import functools
from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Model, run_core
from ..i18n import lazy_gettext as _l

ACCOUNT_TYPES = {
    "key": _l("Key account (monthly settlement)"),
    "retail": _l("Retail (pays on the spot)"),
}


class Product(Model):
    """A software product the company sells and services."""

    __tablename__ = "product"
    __record_label__ = _l("Software product")  # the audit log's name for it
    __record_url__ = "/products/{id}/edit"

    code: Mapped[str] = mapped_column(String(40), unique=True, info={"label": _l("Product code")})
    name: Mapped[str] = mapped_column(String(200), info={"label": _l("Product name")})

    def __str__(self) -> str:
        return self.name


class Customer(Model):
    __tablename__ = "customer"
    __record_label__ = _l("Customer")  # the audit log's name for it
    __record_url__ = "/customers/{id}"
    __table_args__ = (CheckConstraint("account_type IN ('key', 'retail')", name="account_type"),)
    __created_event__ = "customer_created"
    __changed_event__ = "customer_changed"
    __event_arg__ = "customer"

    name: Mapped[str] = mapped_column(String(200), unique=True, info={"label": _l("Company name")})
    address: Mapped[str] = mapped_column(String(300), default="", info={"label": _l("Address")})
    region: Mapped[str] = mapped_column(String(100), default="", index=True, info={"label": _l("Region")})
    office: Mapped[str] = mapped_column(String(100), default="", info={"label": _l("Office")})
    account_type: Mapped[str] = mapped_column(String(10), default="retail",
                                              info={"label": _l("Account type"), "choices": ACCOUNT_TYPES})
    phone: Mapped[str] = mapped_column(String(40), default="", info={"label": _l("Phone")})
    notes: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Notes")})
    sales_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                       info={"label": _l("Salesperson")})
    #: department responsible for the customer; record rules use it.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"),
                                                      info={"label": _l("Responsible department")})

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Contact.id"
    )
    products: Mapped[list[CustomerProduct]] = relationship(
        back_populates="customer", cascade="all, delete-orphan"
    )

    @property
    def is_key_account(self) -> bool:
        return self.account_type == "key"

    def __str__(self) -> str:
        return self.name


class Contact(Model):
    __tablename__ = "contact"
    __record_label__ = _l("Contact")  # the audit log's name for it
    __audit_parent__ = ("customer", "customer_id")

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), info={"label": _l("Full name")})
    title: Mapped[str] = mapped_column(String(100), default="", info={"label": _l("Position")})
    phone: Mapped[str] = mapped_column(String(40), default="", info={"label": _l("Phone")})
    email: Mapped[str] = mapped_column(String(200), default="", info={"label": _l("E-mail")})
    is_primary: Mapped[bool] = mapped_column(default=False, info={"label": _l("Primary contact")})

    customer: Mapped[Customer] = relationship(back_populates="contacts")

    def __str__(self) -> str:
        return self.name


class CustomerProduct(Model):
    """A product a customer bought (CORE-1 "purchased software")."""

    __tablename__ = "customer_product"
    __record_label__ = _l("Purchased software")  # the audit log's name for it
    __audit_parent__ = ("customer", "customer_id")
    __table_args__ = (
        UniqueConstraint("customer_id", "product_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    quantity: Mapped[int] = mapped_column(default=1)
    purchased_on: Mapped[date | None]

    customer: Mapped[Customer] = relationship(back_populates="products")
    product: Mapped[Product] = relationship(lazy="joined")


@functools.cache
def _regions_statement():
    """A loose index scan: one seek of the region index per region, where
    SELECT DISTINCT reads the whole index. Built once: building it costs
    many times what running it does."""
    step = select(func.min(Customer.region)).where(Customer.region > "").cte("regions", recursive=True)
    following = select(func.min(Customer.region)).where(Customer.region > step.c.min).scalar_subquery()
    step = step.union_all(select(following).where(step.c.min.is_not(None)))
    return select(step.c.min)


def customer_regions(session) -> list[str]:
    """The regions customers are in, sorted, without the empty one (for filters)."""
    return [r for r in run_core(session, _regions_statement()).scalars() if r is not None]
