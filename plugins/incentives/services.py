"""The ledger's unit-of-work operations: booking, review, disputes, month close.

Every function takes the ORM session of the caller's unit of work; the pages,
the event listener and the tests all go through these.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal


from sqlalchemy import case, event, func, inspect, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fuwu import i18n
from fuwu.db import utcnow
from fuwu.errors import Forbidden, ValidationError
from fuwu.i18n import N_
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Department, Staff
from fuwu.money import quantize
from fuwu.notifications import notify
from fuwu.site import site_of

from . import rules
from .models import Entry, Month

def setting(site, session, key: str):
    return site.settings.get(key, session)


# --- Record rules ------------------------------------------------------------------


def visible(user):
    """Who sees which entries: their own; a reviewer their department's (or the
    departments they manage); finance and the general manager all."""
    if user.is_admin or user.can("incentives.entry.view_all"):
        return true()
    conditions = [Entry.staff_id == user.id]
    if user.can("incentives.entry.review"):
        if user.department_id is not None:
            conditions.append(Entry.department_id == user.department_id)
        conditions.append(Entry.department_id.in_(select(Department.id).where(Department.manager_id == user.id)))
    return or_(*conditions)


def may_review_entry(user, entry: Entry) -> bool:
    # nobody confirms or waives their own fine
    return user.can("incentives.entry.review") and entry.staff_id != user.id


# --- Months -------------------------------------------------------------------------


def closed_months(session: Session) -> set[str]:
    return set(session.scalars(select(Month.month).where(Month.closed_at.is_not(None))))


def is_closed(session: Session, month: str) -> bool:
    return session.scalar(select(Month.id).where(Month.month == month, Month.closed_at.is_not(None))) is not None


def _refuse_closed(mapper, connection, target: Entry) -> None:
    """Closed months cannot change, whichever code path tries (a correction is
    a new entry in an open month)."""
    months = {target.month}
    months.update(m for m in inspect(target).attrs.month.history.deleted if m)
    found = connection.execute(select(Month.month).where(Month.month.in_(months),
                                                         Month.closed_at.is_not(None))).first()
    if found:
        raise ValidationError(message=_l("The month %(month)s is closed; enter a correction in an open month.",
                                         month=i18n.Month(found[0])))


event.listen(Entry, "before_insert", _refuse_closed)
event.listen(Entry, "before_update", _refuse_closed)
event.listen(Entry, "before_delete", _refuse_closed)


# --- Booking ------------------------------------------------------------------------


def record(session: Session, *, staff: Staff, amount, reason: str, rule_id: str, source,
           now: datetime | None = None, recorded_by: Staff | None = None, correction_of: Entry | None = None,
           month: str | None = None) -> Entry | None:
    """Book one reward or fine; None when this source and rule are booked already."""
    site = site_of(session)
    amount = quantize(Decimal(amount))
    if amount == 0 or staff is None:
        return None
    kind, source_id = source if source else ("manual", "")
    key = rules.idempotency_key(str(kind), source_id, str(rule_id))
    existing = session.scalar(select(Entry.id).where(Entry.key == key))
    if existing is not None:
        return None
    now = now or utcnow()
    closed = closed_months(session)
    month = month if month and month not in closed else rules.booking_month(now, closed, site.config.timezone)
    entry = Entry(staff_id=staff.id, department_id=staff.department_id, amount=amount, rule_id=str(rule_id)[:20],
                  reason=str(reason), source_kind=str(kind)[:80], source_id=str(source_id)[:80], key=key,
                  month=month, state="proposed", recorded_by_id=recorded_by.id if recorded_by else None,
                  correction_of_id=correction_of.id if correction_of else None)
    try:
        # a concurrent unit of work may book the same cause first: the unique
        # key refuses the second, and only this savepoint is undone
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:
        return None
    if setting(site, session, "incentives.notify_staff"):
        message = (N_("Reward of %(amount)s yuan proposed (%(rule)s): %(reason)s") if amount > 0 else
                   N_("Fine of %(amount)s yuan proposed (%(rule)s): %(reason)s"))
        notify(session, staff, message, url=f"/incentives/entry/{entry.id}", source="incentives",
               amount=f"{abs(amount):.2f}", rule=entry.rule_id, reason=entry.reason)
    return entry


def record_manual(session: Session, actor: Staff, *, staff: Staff, amount: Decimal, reason: str, rule_id: str,
                  correction_of: Entry | None = None) -> Entry:
    """An entry made by hand (a rule without a plugin, or a correction of a
    closed month): it goes to the current open month and is reviewed like any other."""
    source = ("incentives.correction", f"{correction_of.id}-{uuid.uuid4().hex[:8]}") if correction_of else \
        ("manual", uuid.uuid4().hex)
    return record(session, staff=staff, amount=amount, reason=reason, rule_id=rule_id or "manual",
                  source=source, recorded_by=actor, correction_of=correction_of)


# --- Review and disputes --------------------------------------------------------------


def _open(session: Session, entry: Entry) -> None:
    if is_closed(session, entry.month):
        raise ValidationError(message=_l("The month %(month)s is closed; enter a correction in an open month.",
                                         month=i18n.Month(entry.month)))


def review(session: Session, entry: Entry, actor: Staff, action: str, note: str) -> None:
    """The department manager confirms or waives a proposed entry (a waiver needs a reason)."""
    if not may_review_entry(actor, entry):
        raise Forbidden()
    _open(session, entry)
    if entry.state != "proposed":
        raise ValidationError(message=_l("Only a proposed entry can be confirmed or waived."))
    if action not in ("confirm", "waive"):
        raise ValidationError(message=_l("Choose to confirm or to waive."))
    note = (note or "").strip()
    if action == "waive" and not note:
        raise ValidationError({"note": _l("Give the reason for waiving.")})
    entry.state = "confirmed" if action == "confirm" else "waived"
    entry.reviewed_by_id, entry.reviewed_at, entry.review_note = actor.id, utcnow(), note


def dispute_until(site, session: Session, entry: Entry) -> date:
    """The last day the employee may dispute: N working days after booking."""
    days = setting(site, session, "incentives.dispute_days")
    booked = site.day_of(entry.created_at)
    return site.calendar(session).add_working_days(booked, days)


def dispute(site, session: Session, entry: Entry, actor: Staff, reason: str, today: date) -> None:
    """The employee disputes their own entry, with a reason."""
    if entry.staff_id != actor.id:
        raise Forbidden()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _l("Say why you dispute this entry.")})
    if not rules.may_dispute(entry.state, is_closed(session, entry.month), today,
                             dispute_until(site, session, entry)):
        raise ValidationError(message=_l("This entry can no longer be disputed."))
    entry.state = "disputed"
    entry.dispute_reason, entry.disputed_at = reason, utcnow()
    entry.dispute_outcome = ""
    for manager in _reviewers(session, entry):
        notify(session, manager, N_("%(name)s disputes an entry of %(amount)s yuan (%(rule)s)"),
               url=f"/incentives/entry/{entry.id}", source="incentives", name=actor.name,
               amount=f"{entry.amount:.2f}", rule=entry.rule_id)


def _reviewers(session: Session, entry: Entry) -> list[Staff]:
    if entry.department_id is None:
        return []
    dept = session.get(Department, entry.department_id)
    return [dept.manager] if dept and dept.manager and dept.manager.id != entry.staff_id else []


def decide(session: Session, entry: Entry, actor: Staff, outcome: str, note: str) -> None:
    """The manager decides a dispute: upheld (the entry is waived) or rejected
    (it stands, confirmed); the reason is recorded either way."""
    if not may_review_entry(actor, entry):
        raise Forbidden()
    _open(session, entry)
    if entry.state != "disputed":
        raise ValidationError(message=_l("Only a disputed entry can be decided."))
    if outcome not in ("upheld", "rejected"):
        raise ValidationError(message=_l("Choose to uphold or to reject the dispute."))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _l("Give the reason for the decision.")})
    entry.dispute_outcome = outcome
    entry.state = "waived" if outcome == "upheld" else "confirmed"
    entry.decided_by_id, entry.decided_at, entry.decision_note = actor.id, utcnow(), note
    message = (N_("Your dispute of %(amount)s yuan (%(rule)s) was upheld: the entry is waived") if outcome == "upheld"
               else N_("Your dispute of %(amount)s yuan (%(rule)s) was rejected: the entry stands"))
    notify(session, entry.staff, message, url=f"/incentives/entry/{entry.id}", source="incentives",
           amount=f"{entry.amount:.2f}", rule=entry.rule_id)


# --- Month close -------------------------------------------------------------------------


def month_row(session: Session, month: str) -> Month | None:
    return session.scalar(select(Month).where(Month.month == month))


def grouped(session: Session, month: str, where=None):
    """(staff id, department id, sum, state, count) per sign: the database adds."""
    sign = case((Entry.amount > 0, 1), else_=-1)
    query = (select(Entry.staff_id, Entry.department_id, func.sum(Entry.amount), Entry.state, func.count(), sign)
             .where(Entry.month == month)
             .group_by(Entry.staff_id, Entry.department_id, Entry.state, sign))
    if where is not None:
        query = query.where(where)
    return [(r[0], r[1], r[2], r[3], r[4]) for r in session.execute(query)]


def summary(session: Session, month: str, where=None) -> rules.Summary:
    return rules.summarise(grouped(session, month, where))


def close(site, session: Session, month: str, actor: Staff) -> Month:
    """Finance closes a month: open disputes block it; entries still proposed
    are confirmed (setting incentives.close_confirms_proposed) or block it."""
    if not actor.can("incentives.month.close"):
        raise Forbidden()
    row = month_row(session, month)
    if row is not None and row.closed:
        raise ValidationError(message=_l("The month %(month)s is closed already.", month=month))
    disputed = session.scalar(select(func.count()).select_from(Entry)
                              .where(Entry.month == month, Entry.state == "disputed"))
    if disputed:
        raise ValidationError(message=_l("%(n)s disputes of %(month)s are still open; decide them first.",
                                         n=disputed, month=month))
    proposed_filter = (Entry.month == month, Entry.state == "proposed")
    proposed = session.scalar(select(func.count()).select_from(Entry).where(*proposed_filter))
    if proposed:
        if not setting(site, session, "incentives.close_confirms_proposed"):
            raise ValidationError(message=_l("%(n)s entries of %(month)s are still proposed; review them first.",
                                             n=proposed, month=month))
        # one statement, not one per row: the close of a large month stays quick
        session.execute(update(Entry).where(*proposed_filter).values(
            state="confirmed", reviewed_by_id=actor.id, reviewed_at=utcnow(), review_note="month close",
            version=Entry.version + 1, updated_at=utcnow()).execution_options(synchronize_session=False))
    totals = summary(session, month)
    if row is None:
        row = Month(month=month)
        session.add(row)
    row.closed_at, row.closed_by_id = utcnow(), actor.id
    row.entries, row.rewards, row.fines = totals.total.count, totals.total.rewards, totals.total.fines
    session.flush()
    session.expire_all()
    return row


def months_overview(session: Session, where) -> list[dict]:
    """Every month with entries (or a close), newest first, with visible totals."""
    payable = Entry.state.in_(rules.PAYABLE)
    rows = session.execute(
        select(Entry.month,
               func.count(),
               func.sum(case((payable & (Entry.amount > 0), Entry.amount), else_=None)),
               func.sum(case((payable & (Entry.amount < 0), Entry.amount), else_=None)),
               func.sum(case((Entry.state == "proposed", 1), else_=0)),
               func.sum(case((Entry.state == "disputed", 1), else_=0)))
        .where(where).group_by(Entry.month)).all()
    closed = {m.month: m for m in session.scalars(select(Month))}
    result = {}
    for month, count, rewards, fines, proposed, disputed in rows:
        result[month] = {"month": month, "count": count, "rewards": _money(rewards), "fines": _money(fines),
                         "proposed": int(proposed or 0), "disputed": int(disputed or 0),
                         "closed": closed.get(month)}
    for month, row in closed.items():
        result.setdefault(month, {"month": month, "count": 0, "rewards": Decimal("0.00"),
                                  "fines": Decimal("0.00"), "proposed": 0, "disputed": 0, "closed": row})
    for r in result.values():
        r["net"] = r["rewards"] + r["fines"]
    return sorted(result.values(), key=lambda r: r["month"], reverse=True)


def _money(value) -> Decimal:
    return quantize(value) if value is not None else Decimal("0.00")


def by_rule(session: Session, where, months: list[str]) -> list[dict]:
    payable = Entry.state.in_(rules.PAYABLE)
    rows = session.execute(
        select(Entry.rule_id,
               func.sum(case((payable & (Entry.amount > 0), Entry.amount), else_=None)),
               func.sum(case((payable & (Entry.amount < 0), Entry.amount), else_=None)),
               func.count())
        .where(where, Entry.month.in_(months)).group_by(Entry.rule_id).order_by(Entry.rule_id)).all()
    return [{"rule": r[0], "rewards": _money(r[1]), "fines": _money(r[2]), "count": r[3]} for r in rows]
