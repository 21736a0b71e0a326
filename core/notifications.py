"""Notifications: in-app messages and e-mail through an outbox.

Plugins notify with one call, ``notify(session, staff, message, ...)``. The
in-app row and the outbox row are written in the caller's transaction; the
``core.send_mail`` job sends the outbox over SMTP later, so a failing mail
server delays mail and loses none.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, bindparam, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import i18n
from .db import Base, run_core, utcnow
from .i18n import msgid, stored_params, stored_text

log = logging.getLogger("fuwu.mail")


class Notification(Base):
    __tablename__ = "core_notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(60), default="core")
    message: Mapped[str] = mapped_column(String(500))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    url: Mapped[str] = mapped_column(String(300), default="")
    read_at: Mapped[datetime | None]

    def text(self, gettext) -> str:
        return stored_text(gettext, self.message, self.params)


class OutboxMail(Base):
    __tablename__ = "core_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    to_addr: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")


def notify(session: Session, staff, message, *, url: str = "", source: str = "core", email: bool = False,
           subject: str = "", body: str = "", **params: Any) -> Notification:
    """Tell ``staff`` something: an in-app notification, and e-mail if asked.

    ``message`` is an untranslated msgid with ``%(name)s`` placeholders filled
    from ``params``; it is shown in the reader's language. ``subject`` and
    ``body`` are the e-mail's text, already rendered (for example in the
    recipient's language).
    """
    note = Notification(staff_id=staff.id, message=msgid(message), params=stored_params(params),
                        url=url, source=source)
    session.add(note)
    if email and staff.email:
        site = session.info.get("site")
        fallback = _in_language_of(site, staff, note) if site is not None else note_body(msgid(message), params)
        text = body or fallback
        public = site.config.public_url if site is not None else ""
        if url and public:
            # the page it is about, for a mail read outside fuwu (a job knows no request's host)
            text += "\n\n" + public.rstrip("/") + url
        queue_mail(session, staff.email, subject or fallback, text)
    return note


def _in_language_of(site, staff, note: Notification) -> str:
    """The notification as ``staff`` reads it: in their language (else the
    site's), dates in its format, for a mail with no text of its own."""
    with i18n.use_reader_language(site, staff):
        return note.text(i18n.gettext)


def note_body(text: str, params: dict[str, Any]) -> str:
    try:
        return text % params if params else text
    except (KeyError, TypeError, ValueError):
        return text


def queue_mail(session: Session, to_addr: str, subject: str, body: str) -> OutboxMail:
    mail = OutboxMail(to_addr=to_addr, subject=subject[:300], body=body)
    session.add(mail)
    return mail


def unread_count(session: Session, staff_id: int) -> int:
    return run_core(session, _UNREAD, {"staff_id": staff_id}).scalar() or 0


# Built once: every full page shows the count.
_UNREAD = (select(func.count()).select_from(Notification)
           .where(Notification.staff_id == bindparam("staff_id"), Notification.read_at.is_(None)))


def mark_read(session: Session, staff_id: int, ids: list[int] | None = None) -> int:
    stmt = update(Notification).where(Notification.staff_id == staff_id, Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    return session.execute(stmt.values(read_at=utcnow())).rowcount


def send_outbox(site, session: Session, now: datetime, *, batch: int = 100) -> tuple[int, int]:
    """Send due mail over SMTP; a failure backs off and keeps the mail. Returns (sent, failed)."""
    get = lambda key: site.settings.get(key, session)  # noqa: E731
    host = get("core.smtp_host")
    if not host:
        return 0, 0
    due = list(session.scalars(select(OutboxMail).where(OutboxMail.sent_at.is_(None), OutboxMail.next_attempt_at <= now)
                               .order_by(OutboxMail.id).limit(batch)))
    if not due:
        return 0, 0
    sent = failed = 0
    try:
        client = _connect(host, get("core.smtp_port"), get("core.smtp_tls"), get("core.smtp_user"),
                          get("core.smtp_password"))
    except (OSError, smtplib.SMTPException) as exc:
        for mail in due:
            _failed(mail, now, exc)
        return 0, len(due)
    with client:
        for mail in due:
            message = EmailMessage()
            message["From"] = get("core.mail_sender")
            message["To"] = mail.to_addr
            message["Subject"] = mail.subject
            message.set_content(mail.body)
            try:
                client.send_message(message)
            except (OSError, smtplib.SMTPException) as exc:
                _failed(mail, now, exc)
                failed += 1
            else:
                mail.sent_at, mail.attempts = now, mail.attempts + 1
                sent += 1
    return sent, failed


def send_mail_job(site, session: Session, now: datetime) -> None:
    """Job ``core.send_mail``: the outbox, every few minutes."""
    sent, failed = send_outbox(site, session, now)
    if failed:
        log.warning("outbox: %s sent, %s failed (kept for a later try)", sent, failed)


def _failed(mail: OutboxMail, now: datetime, exc: Exception) -> None:
    mail.attempts += 1
    mail.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    mail.next_attempt_at = now + timedelta(minutes=min(2 ** mail.attempts, 240))


def _connect(host: str, port: int, tls: str, user: str, password: str) -> smtplib.SMTP:
    if tls == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=20, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=20)
        if tls == "starttls":
            client.starttls(context=ssl.create_default_context())
    if user:
        client.login(user, password)
    return client
