"""Follow-ups (跟进): "call 王经理 back on Friday about the upgrade" — a
dated to-do on a customer for one member of staff.

Anyone who sees a customer may schedule one, for themselves or a colleague
who sees the customer too; it waits on the dashboard and in "My follow-ups"
of whoever it is for until they mark it done, with what came of it. The
customer's service history records both.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import timeline
from .db import Model, utcnow
from .errors import FuwuError
from .i18n import N_
from .i18n import lazy_gettext as _l
from .models import Customer, Staff

#: the longest text of a follow-up and of its outcome
TEXT_LENGTH = 500
#: the list of one's own open follow-ups (the page ``follow_ups``), where a reminder leads
LIST_PATH = "/follow-ups"
#: ``follow_ups.reminder_job`` mails no more items than this to one person at once
REMINDER_ITEMS = 20


class AlreadyDone(FuwuError):
    status = 409
    default_message = _l("This follow-up was already marked done.")


class FollowUp(Model):
    __tablename__ = "core_follow_up"
    __record_label__ = _l("Follow-up")  # the audit log's and a merge's name for it
    __audit_parent__ = ("customer", "customer_id")

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True,
                                             info={"label": _l("Customer")})
    assigned_to_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True, info={"label": _l("For")})
    scheduled_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    due_on: Mapped[date] = mapped_column(index=True, info={"label": _l("Due on")})
    note: Mapped[str] = mapped_column(String(TEXT_LENGTH), info={"label": _l("To do")})
    done_at: Mapped[datetime | None] = mapped_column(info={"label": _l("Done at")})
    outcome: Mapped[str] = mapped_column(String(TEXT_LENGTH), default="", info={"label": _l("Follow-up result")})
    #: the day its reminder went out (once, on the day it is due or the first run after)
    reminded_on: Mapped[date | None]

    def __str__(self) -> str:
        return self.note


def schedule(db: Session, customer: Customer, assignee: Staff, due_on: date, note: str, *,
             by: Staff) -> FollowUp:
    follow_up = FollowUp(customer_id=customer.id, assigned_to_id=assignee.id, scheduled_by_id=by.id, due_on=due_on,
                         note=note)
    db.add(follow_up)
    db.flush()
    timeline.append(db, customer.id, N_("%(staff)s scheduled a follow-up for %(assignee)s by %(due)s: %(note)s"),
                    kind="follow_up", ref=follow_up, staff=by.name, assignee=assignee.name, due=due_on, note=note)
    return follow_up


def complete(db: Session, follow_up: FollowUp, outcome: str, *, by: Staff) -> None:
    follow_up.done_at = utcnow()
    follow_up.outcome = outcome
    if outcome:
        message = N_("%(staff)s followed up “%(note)s”: %(outcome)s")
    else:
        message = N_("%(staff)s followed up “%(note)s”")
    timeline.append(db, follow_up.customer_id, message, kind="follow_up", ref=follow_up, staff=by.name,
                    note=follow_up.note, outcome=outcome)


def open_for(staff_id: int):
    """The open follow-ups of one person, the earliest due first (a query)."""
    return (select(FollowUp).where(FollowUp.assigned_to_id == staff_id, FollowUp.done_at.is_(None))
            .order_by(FollowUp.due_on, FollowUp.id))


def reminder_job(site, session: Session, now: datetime) -> int:
    """After the reminder time of a day, tell each person once which of their
    open follow-ups are due (that day or before, not reminded yet); returns
    how many follow-ups were in the reminders. Run often: it waits for the time."""
    from .notifications import notify

    local = now.astimezone(site.zone)
    if local.time() < site.settings.get("core.follow_up_reminder_time", session):
        return 0
    rows = session.execute(
        select(FollowUp, Customer.name).join(Customer, Customer.id == FollowUp.customer_id)
        .join(Staff, Staff.id == FollowUp.assigned_to_id)
        .where(FollowUp.done_at.is_(None), FollowUp.reminded_on.is_(None), FollowUp.due_on <= local.date(),
               Staff.active)
        .order_by(FollowUp.assigned_to_id, FollowUp.due_on, FollowUp.id)).all()
    by_person: dict[int, list] = {}
    for follow_up, customer in rows:
        by_person.setdefault(follow_up.assigned_to_id, []).append((follow_up, customer))
    for staff_id, items in by_person.items():
        shown = "; ".join(f"{customer}: {f.note}" for f, customer in items[:REMINDER_ITEMS])
        notify(session, session.get(Staff, staff_id), N_("Follow-ups due: %(items)s"), url=LIST_PATH, email=True,
               items=shown + ("; …" if len(items) > REMINDER_ITEMS else ""))
        for follow_up, _customer in items:
            follow_up.reminded_on = local.date()
    return len(rows)
