"""Signed one-time links for people without an account.

A link names one record and one purpose (a customer rating a service, a
trainee taking an exam, a customer following a complaint). Its token is
``<id>.<nonce>.<signature>``: HMAC-SHA256 with the site secret over the row's
id, nonce, purpose, record and expiry. The row makes links revocable and
single-use; the signature means a guessed or edited token is refused without
even reading the row.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, utcnow
from .errors import FuwuError
from .i18n import lazy_gettext as _l


class LinkRefused(FuwuError):
    """Why a link gives no data; shown on a clear page (status 403 or 410)."""

    status = 403


class SignedLink(Base):
    __tablename__ = "core_signed_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(80))
    record_table: Mapped[str] = mapped_column(String(80))
    record_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    single_use: Mapped[bool] = mapped_column(default=True)
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


def _signature(secret: str, link: SignedLink) -> str:
    payload = f"{link.id}|{link.nonce}|{link.purpose}|{link.record_table}|{link.record_id}|{int(link.expires_at.timestamp())}"
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def issue(session: Session, secret: str, *, purpose: str, record, valid_for: timedelta,
          single_use: bool = True, created_by_id: int | None = None) -> str:
    """Create a link for ``record`` and return its token (put it in a URL)."""
    link = SignedLink(nonce=secrets.token_urlsafe(16), purpose=purpose, record_table=record.__tablename__,
                      record_id=record.id, expires_at=(utcnow() + valid_for).replace(microsecond=0),
                      single_use=single_use, created_by_id=created_by_id)
    session.add(link)
    session.flush()
    return f"{link.id}.{link.nonce}.{_signature(secret, link)}"


def check(session: Session, secret: str, token: str, *, purpose: str, now: datetime | None = None) -> SignedLink:
    """The link row for a valid token of ``purpose``; LinkRefused with the reason otherwise."""
    now = now or utcnow()
    try:
        link_id, nonce, signature = token.split(".")
        link = session.get(SignedLink, int(link_id))
    except (ValueError, AttributeError):
        link = None
    if link is None or not hmac.compare_digest(link.nonce, nonce) or \
            not hmac.compare_digest(_signature(secret, link), signature) or link.purpose != purpose:
        raise LinkRefused(_l("This link is not valid. Check that you copied all of it."))
    if link.revoked_at is not None:
        raise LinkRefused(_l("This link has been withdrawn. Ask us for a new one if you still need it."))
    if link.expires_at <= now:
        raise LinkRefused(_l("This link has expired. Ask us for a new one if you still need it."))
    if link.single_use and link.used_at is not None:
        raise LinkRefused(_l("This link has already been used."))
    return link


def use(session: Session, link: SignedLink, now: datetime | None = None) -> None:
    """Mark a single-use link used (atomically: a second concurrent use fails)."""
    if not link.single_use:
        return
    done = session.execute(update(SignedLink).where(SignedLink.id == link.id, SignedLink.used_at.is_(None))
                           .values(used_at=now or utcnow())).rowcount
    if done != 1:
        raise LinkRefused(_l("This link has already been used."))


def revoke(session: Session, link_id: int) -> None:
    session.execute(update(SignedLink).where(SignedLink.id == link_id).values(revoked_at=utcnow()))
