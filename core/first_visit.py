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

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from . import i18n, timeline
from .db import Model, utcnow
from .errors import ValidationError
from .i18n import N_
from .i18n import lazy_gettext as _l
from .models import Customer, Department, Staff

log = logging.getLogger("fuwu.first_visit")

STATUSES = {
    "queued": _l("Waiting for the call"),
    "retry": _l("Call again later"),
    "answered": _l("Reached, verification open"),
    "done": _l("Verified"),
    "cancelled": _l("Cancelled"),
}
#: statuses of calls still in the queue
OPEN_STATUSES = ("queued", "retry", "answered")

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
    #: when the call is due; set while the call is open (the queue sorts on it), None once closed
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True, default=utcnow)
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

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def was_answered(self) -> bool:
        return any(a.outcome == "answered" for a in self.attempts)

    def is_due(self, now: datetime) -> bool:
        return self.is_open and (self.next_attempt_at is None or self.next_attempt_at <= now)


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


# --- What the pages and the job do --------------------------------------------


def checklist(site, customer: Customer) -> list[tuple[str, Any]]:
    """Core's items, then every plugin's (``first_visit_checks``); a key listed twice counts once."""
    items: dict[str, Any] = {}
    for key, label in [*CORE_CHECKS, *site.plugins.collect("first_visit_checks", customer=customer)]:
        items.setdefault(str(key), label)
    return list(items.items())


def submit(session: Session, customer: Customer, staff: Staff | None) -> tuple[FirstVisitCall, bool]:
    """Put ``customer`` in the call queue; ``(call, created)``. Submitting twice
    (even at the same moment, from two tabs) gives the one existing call."""
    existing = session.scalar(select(FirstVisitCall).where(FirstVisitCall.customer_id == customer.id))
    if existing is not None:
        return existing, False
    call = FirstVisitCall(customer_id=customer.id, submitted_by_id=getattr(staff, "id", None), status="queued",
                          next_attempt_at=utcnow())
    try:
        with session.begin_nested():
            session.add(call)
            session.flush()
    except IntegrityError:  # the other submission committed first: the unique customer_id says so
        return session.scalar(select(FirstVisitCall).where(FirstVisitCall.customer_id == customer.id)), False
    timeline.append(session, customer.id, N_("Submitted for the first-visit call by %(staff)s"),
                    kind="first_visit", ref=call, staff=getattr(staff, "name", "—"))
    return call, True


def _refuse_closed(call: FirstVisitCall) -> None:
    if not call.is_open:
        raise ValidationError(message=_l("This call is closed (%(status)s); it can no longer be changed.",
                                         status=STATUSES.get(call.status, call.status)))


def record_attempt(session: Session, call: FirstVisitCall, staff: Staff, *, outcome: str, note: str = "",
                   retry_at: datetime | None = None, now: datetime | None = None) -> FirstVisitAttempt:
    """One phone attempt. Not reached: ``retry_at`` (aware, in the future) is required
    and the call waits until then; reached: the call stays due until it is completed."""
    now = now or utcnow()
    _refuse_closed(call)
    if outcome not in OUTCOMES:
        raise ValidationError({"outcome": _l("Choose from the list.")})
    if outcome == "answered":
        retry_at = None
    elif retry_at is None:
        raise ValidationError({"retry_at": _l("When the customer was not reached, say when to call again.")})
    elif retry_at <= now:
        raise ValidationError({"retry_at": _l("The next attempt must be in the future.")})
    attempt = FirstVisitAttempt(at=now, by_id=staff.id, outcome=outcome, note=note or "", retry_at=retry_at)
    call.attempts.append(attempt)
    if call.assigned_to_id is None:
        call.assigned_to_id = staff.id
    if outcome == "answered":
        call.status, call.next_attempt_at = "answered", now
    else:
        call.status, call.next_attempt_at = "retry", retry_at
    session.flush()
    return attempt


def save_checks(call: FirstVisitCall, items: Iterable[tuple[str, Any]], ticked: Iterable[str],
                notes: dict[str, str]) -> None:
    """Store the ticks of the items shown; items of a plugin no longer enabled keep their row."""
    _refuse_closed(call)
    # Touch the call so its version moves: two people ticking one checklist see a conflict.
    call.updated_at = utcnow()
    ticked = set(ticked)
    rows = {c.key: c for c in call.checks}
    for key, _label in items:
        row = rows.get(key)
        if row is None:
            row = FirstVisitCheck(key=key)
            call.checks.append(row)
        row.ok = key in ticked
        row.note = (notes.get(key) or "").strip()[:300]


def missing_checks(call: FirstVisitCall, items: Iterable[tuple[str, Any]]) -> list[Any]:
    ok = {c.key for c in call.checks if c.ok}
    return [label for key, label in items if key not in ok]


def complete(session: Session, call: FirstVisitCall, staff: Staff, items: list[tuple[str, Any]],
             now: datetime | None = None) -> None:
    """Close the call as verified: needs an answered attempt and every item ticked."""
    _refuse_closed(call)
    if not call.was_answered:
        raise ValidationError(message=_l("Record an answered call before completing the verification."))
    missing = missing_checks(call, items)
    if missing:
        raise ValidationError(message=_l("Tick every checklist item before completing; still open: %(items)s.",
                                         items=i18n.listed(missing)))
    now = now or utcnow()
    call.status, call.completed_at, call.next_attempt_at = "done", now, None
    timeline.append(session, call.customer_id,
                    N_("First-visit call completed by %(staff)s: customer details verified"),
                    kind="first_visit", ref=call, staff=staff.name, at=now)


def cancel(session: Session, call: FirstVisitCall, staff: Staff, reason: str) -> None:
    _refuse_closed(call)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _l("Please give a reason.")})
    call.status, call.next_attempt_at = "cancelled", None
    call.note = reason
    timeline.append(session, call.customer_id, N_("First-visit call cancelled by %(staff)s: %(reason)s"),
                    kind="first_visit", ref=call, staff=staff.name, reason=reason)


def add_need(call: FirstVisitCall, text: str, department_id: int | None) -> CustomerNeed:
    _refuse_closed(call)
    need = CustomerNeed(text=text, department_id=department_id)
    call.needs.append(need)
    return need


# --- The after-work digest (job ``core.first_visit_digest``) -------------------

#: where a manager reads the needs (the page of core/web/pages/first_visits.py)
NEEDS_PATH = "/first-visits/needs"


def digest_cutoff(site, session: Session, now: datetime) -> datetime:
    """The latest digest time at or before ``now`` (site time zone): needs recorded
    before it belong to a digest that is due."""
    tz = site.zone
    at = site.settings.get("core.first_visit_digest_time", session)
    local = now.astimezone(tz)
    cutoff = datetime.combine(local.date(), at, tzinfo=tz)
    return cutoff if cutoff <= local else cutoff - timedelta(days=1)


def send_digest(site, session: Session, now: datetime) -> int:
    """Send each department head the needs recorded before today's digest time
    and not sent yet; returns how many needs went out.

    Needs without a department go to the head of the after-sales department
    (kind ``after_sales``), as do those of a department without a head. A need
    is marked sent in the same transaction as its notification and e-mail, so a
    second run sends nothing twice; a need nobody can receive waits.
    """
    cutoff = digest_cutoff(site, session, now)
    needs = list(session.scalars(
        select(CustomerNeed).where(CustomerNeed.digest_sent_at.is_(None), CustomerNeed.created_at < cutoff)
        .options(joinedload(CustomerNeed.call).joinedload(FirstVisitCall.customer),
                 joinedload(CustomerNeed.department).joinedload(Department.manager))
        .order_by(CustomerNeed.id)))
    if not needs:
        return 0
    after_sales = session.scalar(select(Department).where(Department.kind == "after_sales")
                                 .options(joinedload(Department.manager)).order_by(Department.id).limit(1))
    groups: dict[int, tuple[Department, list[CustomerNeed]]] = {}
    for need in needs:
        dept = need.department if _has_head(need.department) else after_sales
        if not _has_head(dept):
            log.warning("first-visit need %s has nobody to receive it (no after-sales head)", need.id)
            continue
        groups.setdefault(dept.id, (dept, []))[1].append(need)
    sent = 0
    for dept, rows in groups.values():
        _send_one(site, session, dept, rows, cutoff)
        for need in rows:
            need.digest_sent_at = now
        sent += len(rows)
    return sent


def _has_head(dept: Department | None) -> bool:
    return dept is not None and dept.manager is not None and dept.manager.active


def _send_one(site, session: Session, dept: Department, rows: list[CustomerNeed], cutoff: datetime) -> None:
    from .notifications import notify

    manager = dept.manager
    day = site.day_of(cutoff).isoformat()
    wanted = sorted({str(n.department_id) if n.department_id else "none" for n in rows})
    url = NEEDS_PATH + "?" + urlencode([("department", d) for d in wanted])
    with i18n.use_reader_language(site, manager):
        _ = i18n.gettext
        subject = _("First-visit needs for %(department)s (%(date)s)", department=dept.name, date=day)
        lines = [_("Needs customers told us during first-visit calls, for %(department)s:", department=dept.name),
                 ""]
        for need in rows:
            where = ""
            if need.department_id != dept.id:
                where = " [" + (need.department.name if need.department else _("no department given")) + "]"
            lines.append("- " + i18n.labelled(need.call.customer.name + where, need.text))
        lines += ["", _("They are listed in fuwu under First-visit calls → Customer needs.")]
    notify(session, manager, N_("%(count)s customer needs from first-visit calls for %(department)s"),
           url=url, email=True, subject=subject, body="\n".join(lines), count=len(rows), department=dept.name)


def digest_job(site, session: Session, now: datetime) -> None:
    send_digest(site, session, now)
