"""The customer's service history (服务记录, CORE-1): one timeline every
plugin appends to, in the same transaction as the change it records.

An entry stores an untranslated message and its parameters, so each reader
sees it in their own language.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, utcnow
from .i18n import CORE_DOMAIN, msgid, stored_params, stored_text
from .i18n import lazy_gettext as _l


class TimelineEntry(Base):
    __tablename__ = "core_timeline"
    __record_label__ = _l("Service history entry")  # how a merge or a deletion names these rows
    __record_url__ = ""  # shown on its customer's page, not a page of its own

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(60))  # plugin name, "core" for core
    kind: Mapped[str] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(String(500))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ref_table: Mapped[str | None] = mapped_column(String(80))
    ref_id: Mapped[int | None] = mapped_column(Integer)

    def text(self, gettext) -> str:
        return stored_text(gettext, self.message, self.params)


def append(session: Session, customer_id: int, message: str, *, source: str = CORE_DOMAIN,
           kind: str = "note", ref: Any = None, at: datetime | None = None,
           **params: Any) -> TimelineEntry:
    """Add an entry to a customer's service history.

    ``message`` is the untranslated msgid (mark it with ``N_`` or ``_l`` so
    it is extracted); ``params`` fill its ``%(name)s`` placeholders.
    ``ref`` is the record the entry is about (its table and id are kept).
    """
    entry = TimelineEntry(
        customer_id=customer_id, message=msgid(message),
        source=source, kind=kind, params=stored_params(params),
        actor_id=session.info.get("actor_id"), at=at or utcnow(),
        ref_table=getattr(ref, "__tablename__", None), ref_id=getattr(ref, "id", None),
    )
    session.add(entry)
    return entry


def history(session: Session, customer_id: int, *, limit: int = 50, before_id: int | None = None):
    """Newest first, keyset-paginated by id."""
    query = select(TimelineEntry).where(TimelineEntry.customer_id == customer_id)
    if before_id:
        query = query.where(TimelineEntry.id < before_id)
    return session.scalars(query.order_by(TimelineEntry.id.desc()).limit(limit)).all()
