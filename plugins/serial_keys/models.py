"""The installed base (SK-1, SK-2): one row per installed product key, its
history, API tokens for other systems, import batches and written
applications (SK-5)."""

from __future__ import annotations

from datetime import date, datetime

from fuwu.db import Model
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Contact, Contract, Customer, Product, Staff
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship


class ProductKey(Model):
    """An installed product: serial number, service code, dongle (SK-1)."""

    __tablename__ = "serial_keys_key"
    __record_label__ = _l("Product key")  # the audit log's name for it
    __record_url__ = "/serial_keys/keys/{id}"
    __table_args__ = (
        Index("ix_serial_keys_key_customer", "customer_id", "id"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"),
                                             info={"label": _l("Customer")})
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="RESTRICT"),
                                            info={"label": _l("Product")})
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id", ondelete="SET NULL"), index=True,
                                                    info={"label": _l("Contract number")})
    period_id: Mapped[int | None] = mapped_column(ForeignKey("contracts_period.id", ondelete="SET NULL"))
    serial_number: Mapped[str] = mapped_column(String(80), unique=True, info={"label": _l("Serial number")})
    service_code: Mapped[str] = mapped_column(String(80), index=True, info={"label": _l("Service code")})
    #: hardware encryption dongle (加密锁); unique when present
    dongle_number: Mapped[str | None] = mapped_column(String(80), unique=True, info={"label": _l("Dongle number")})
    installed_on: Mapped[date | None] = mapped_column(info={"label": _l("Installation date")})
    #: end of the service period the key is valid for (SK-2)
    expires_on: Mapped[date | None] = mapped_column(index=True, info={"label": _l("Valid until")})
    revoked: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": _l("Revoked")})
    notes: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Notes")})

    customer: Mapped[Customer] = relationship()
    product: Mapped[Product] = relationship()
    contract: Mapped[Contract | None] = relationship()

    def state(self, today: date) -> str:
        from .rules import key_state

        return key_state(revoked=self.revoked, expires_on=self.expires_on, today=today)


class KeyEvent(Model):
    """Key history: issued, renewed, revoked, edited, with who and when."""

    __tablename__ = "serial_keys_event"
    __audit_parent__ = ("serial_keys_key", "key_id")
    __record_label__ = _l("Product key event")  # the audit log's name for it
    __table_args__ = (CheckConstraint("action IN ('issued', 'renewed', 'revoked', 'edited', 'imported')",
                                      name="action"),)

    key_id: Mapped[int] = mapped_column(ForeignKey("serial_keys_key.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    at: Mapped[datetime]
    serial_number: Mapped[str] = mapped_column(String(80))
    old_serial_number: Mapped[str] = mapped_column(String(80), default="")
    expires_on: Mapped[date | None]
    note: Mapped[str] = mapped_column(String(300), default="")

    actor: Mapped[Staff | None] = relationship(lazy="joined")


class ApiToken(Model):
    """A token another system sends to the lookup endpoint. Only its hash is kept."""

    __tablename__ = "serial_keys_api_token"

    label: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the first characters, so an admin can tell tokens apart
    prefix: Mapped[str] = mapped_column(String(12))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))

    issued_by: Mapped[Staff | None] = relationship(foreign_keys=[issued_by_id], lazy="joined")


APPLICATION_KINDS = ("password", "clear_data")


class Application(Model):
    """A written application (SK-5): recover the super-administrator password
    or clear data. No password is ever stored, only who was told."""

    __tablename__ = "serial_keys_application"
    __record_label__ = _l("Written application")  # the audit log's name for it
    __record_url__ = "/serial_keys/applications/{id}"
    __table_args__ = (CheckConstraint("kind IN ('password', 'clear_data')", name="kind"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"), index=True,
                                             info={"label": _l("Customer")})
    key_id: Mapped[int | None] = mapped_column(ForeignKey("serial_keys_key.id", ondelete="SET NULL"),
                                               info={"label": _l("Product key")})
    kind: Mapped[str] = mapped_column(String(12), info={"label": _l("Request")})
    received_on: Mapped[date] = mapped_column(info={"label": _l("Application received on")})
    applicant: Mapped[str] = mapped_column(String(100), info={"label": _l("Signed by (customer)")})
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"),
                                                    info={"label": _l("Approved by")})
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    #: the person told the password / told the data was cleared
    contact_name: Mapped[str] = mapped_column(String(100), info={"label": _l("Contact who was told")})
    done_on: Mapped[date | None] = mapped_column(info={"label": _l("Done on")})
    notes: Mapped[str] = mapped_column(Text, default="", info={"label": _l("Notes")})
    file_name: Mapped[str] = mapped_column(String(200))
    file_type: Mapped[str] = mapped_column(String(60))
    file_size: Mapped[int] = mapped_column(Integer)
    file_data: Mapped[bytes] = deferred(mapped_column(LargeBinary))

    customer: Mapped[Customer] = relationship()
    approver: Mapped[Staff | None] = relationship(lazy="joined")
    contact: Mapped[Contact | None] = relationship()
