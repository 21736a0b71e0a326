"""The complaint handling steps, deadlines, consequences and the monthly report.

Each function runs inside the caller's unit of work; routes, jobs and the
customer link call the same functions.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import false, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from fuwu import notifications, timeline
from fuwu.errors import ValidationError
from fuwu.i18n import N_, Month, site_text
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Customer, Department, Role, Staff
from fuwu.models.staff import staff_role
from fuwu.web import scope

from . import rules
from .models import Complaint, ComplaintEvent, MonthlyReport, Promise, Reminder, ReviewFlag

SOURCE = "complaints"


def setting(site, db, key):
    return site.settings.get(key, db)


# --- Record rules ---------------------------------------------------------------------


def visible(user):
    """Who sees a complaint: everyone with view_all; else the customer's record
    rule, the responsible department and the people named on it. The query
    must join ``Customer`` (the record rule is on its columns)."""
    if user.is_admin or user.can("complaints.complaint.view_all"):
        return true()
    conditions = [scope.customers(user), Complaint.responsible_staff_id == user.id,
                  Complaint.concerned_staff_id == user.id]
    if user.department_id is not None:
        conditions.append(Complaint.responsible_department_id == user.department_id)
    return or_(*conditions) if conditions else false()


# --- Intake (CMP-1) -------------------------------------------------------------------


def next_number(db: Session, received_at: datetime, site) -> str:
    local = received_at.astimezone(site.zone)
    prefix = f"TS{local:%Y%m}-"
    # longest first: "-10000" must beat "-9999"
    last = db.scalar(select(Complaint.number).where(Complaint.number.like(prefix + "%"))
                     .order_by(func.length(Complaint.number).desc(), Complaint.number.desc()).limit(1))
    n = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{n:04d}"


def add_event(db: Session, complaint: Complaint, kind: str, actor, at: datetime, note: str = "",
              internal: bool = False) -> ComplaintEvent:
    event = ComplaintEvent(kind=kind, at=at, actor_id=actor.id if actor else None, note=note or "",
                           internal=internal)
    complaint.events.append(event)
    return event


def receive(site, db: Session, actor, *, customer_id: int, description: str, category: str, source="direct",
            channel="phone", hq_reference="", contact_id=None, contact_name="", contact_phone="",
            concerned_staff_id=None, concerned_department_id=None, received_at: datetime | None = None,
            internal_note="") -> Complaint:
    """CMP-1: record a complaint received from the user or forwarded by headquarters."""
    if category not in rules.CATEGORIES:
        raise ValidationError({"category": _l("Choose from the list.")})
    if source == "headquarters" and not hq_reference.strip():
        raise ValidationError({"hq_reference": _l("Give headquarters' reference of a forwarded complaint.")})
    at = received_at or datetime.now(UTC)
    complaint = Complaint(
        number=next_number(db, at, site), source=source, channel=channel, hq_reference=hq_reference.strip(),
        received_at=at, customer_id=customer_id, contact_id=contact_id, contact_name=contact_name,
        contact_phone=contact_phone, category=category, description=description,
        concerned_staff_id=concerned_staff_id, concerned_department_id=concerned_department_id,
        received_by_id=actor.id if actor else None, state="received", internal_note=internal_note)
    db.add(complaint)
    add_event(db, complaint, "received", actor, at)
    db.flush()
    timeline.append(db, customer_id, _l("Complaint %(number)s received: %(category)s"), source=SOURCE,
                    kind="complaint", ref=complaint, number=complaint.number, category=rules.CATEGORIES[category])
    for reviewer in holders(db, "complaints.complaint.review"):
        notifications.notify(db, reviewer, _l("Complaint %(number)s waits for your review"), source=SOURCE,
                             url=f"/complaints/{complaint.id}", number=complaint.number)
    return complaint


# --- The steps -----------------------------------------------------------------------------


def _advance(complaint: Complaint, step: str) -> None:
    target = rules.next_state(complaint.state, step)
    if target is None:
        raise ValidationError({"step": _l("This step is not possible in the complaint's current state.")})
    complaint.state = target


def review(site, db, complaint: Complaint, actor, *, valid: bool, department_id=None, explanation="",
           at: datetime | None = None) -> None:
    """CMP-2: the quality supervisor decides valid (to the department) or not (explained, archived)."""
    at = at or datetime.now(UTC)
    if valid:
        if not department_id:
            raise ValidationError({"department_id": _l("Name the responsible department.")})
        _advance(complaint, "validated")
        complaint.validity, complaint.responsible_department_id = "valid", int(department_id)
        complaint.reviewed_by_id = actor.id
        add_event(db, complaint, "validated", actor, at)
        dept = db.get(Department, int(department_id))
        if dept is not None and dept.manager is not None:
            notifications.notify(db, dept.manager, _l("Complaint %(number)s was sent to your department"),
                                 source=SOURCE, url=f"/complaints/{complaint.id}", email=True,
                                 number=complaint.number)
        customer = db.get(Customer, complaint.customer_id)
        if customer is not None and customer.account_type == "key":
            # CMP-3: the general manager calls a key account personally
            complaint.gm_call_needed = True
            for gm in holders(db, "complaints.complaint.gm_call"):
                notifications.notify(db, gm, _l("Key account %(customer)s complained (%(number)s): please call "
                                                "the customer personally"), source=SOURCE, email=True,
                                     url=f"/complaints/{complaint.id}", customer=customer.name,
                                     number=complaint.number)
        apply_consequences(site, db, complaint)
    else:
        if not explanation.strip():
            raise ValidationError({"explanation": _l("Record the explanation given to the complainant.")})
        _advance(complaint, "invalidated")
        complaint.validity, complaint.invalid_explanation = "invalid", explanation.strip()
        complaint.reviewed_by_id = actor.id
        add_event(db, complaint, "invalidated", actor, at, explanation.strip())
        add_event(db, complaint, "archived", actor, at)
    db.flush()


def reply(site, db, complaint, actor, *, cause, cause_category, responsible_staff_id, measures, reply_kind,
          reply_text, compensation=Decimal("0.00"), at=None) -> None:
    """CMP-3: cause, person responsible, measures and the reply to the complainant."""
    _advance(complaint, "replied")
    complaint.cause, complaint.cause_category = cause, cause_category
    complaint.responsible_staff_id = int(responsible_staff_id) if responsible_staff_id else None
    complaint.measures, complaint.reply_kind, complaint.reply_text = measures, reply_kind, reply_text
    complaint.compensation = compensation or Decimal("0.00")
    add_event(db, complaint, "replied", actor, at or datetime.now(UTC), reply_text)
    db.flush()


def handled(site, db, complaint, actor, *, result, at=None) -> None:
    """CMP-4: the handling result comes back; the follow-up clock starts."""
    _advance(complaint, "handled")
    complaint.result_text = result
    add_event(db, complaint, "handled", actor, at or datetime.now(UTC), result)
    db.flush()


def follow_up(site, db, complaint, actor, *, resolved: bool, opinion: str, at=None) -> None:
    """CMP-4: the service supervisor's call; unresolved complaints go to headquarters."""
    at = at or datetime.now(UTC)
    _advance(complaint, "resolved" if resolved else "unresolved")
    complaint.resolved, complaint.customer_opinion = resolved, opinion
    add_event(db, complaint, "followed_up", actor, at, opinion)
    if not resolved:
        add_event(db, complaint, "escalated", actor, at)
        for liaison in holders(db, "complaints.hq.liaise"):
            notifications.notify(db, liaison, _l("Complaint %(number)s is unresolved: escalate it to "
                                                 "headquarters' service development department"),
                                 source=SOURCE, url=f"/complaints/{complaint.id}", email=True,
                                 number=complaint.number)
    db.flush()


def hq_answer(site, db, complaint, actor, *, answer, at=None) -> None:
    _advance(complaint, "hq_answered")
    complaint.hq_answer = answer
    add_event(db, complaint, "hq_answered", actor, at or datetime.now(UTC), answer)
    db.flush()


def hq_report(site, db, complaint, actor, *, note, at=None) -> None:
    """CMP-5: the result of a forwarded complaint is reported back to headquarters."""
    if complaint.source != "headquarters":
        raise ValidationError({"step": _l("Only complaints forwarded by headquarters are reported back.")})
    if rules.first(complaint.events, "handled") is None:
        raise ValidationError({"step": _l("Record the handling result first.")})
    if rules.first(complaint.events, "hq_reported") is not None:
        raise ValidationError({"step": _l("The result was already reported to headquarters.")})
    add_event(db, complaint, "hq_reported", actor, at or datetime.now(UTC), note)
    db.flush()


def archive(site, db, complaint, actor, *, corrective, preventive, at=None) -> None:
    """CMP-5: corrective and preventive measures, then the quality supervisor archives."""
    if not corrective.strip():
        raise ValidationError({"corrective": _l("Record the corrective measures.")})
    if complaint.source == "headquarters" and rules.first(complaint.events, "hq_reported") is None:
        raise ValidationError({"step": _l("Report the result to headquarters before archiving.")})
    _advance(complaint, "archived")
    complaint.corrective_measures, complaint.preventive_measures = corrective.strip(), preventive.strip()
    add_event(db, complaint, "archived", actor, at or datetime.now(UTC))
    timeline.append(db, complaint.customer_id, _l("Complaint %(number)s archived"), source=SOURCE,
                    kind="complaint", ref=complaint, number=complaint.number)
    db.flush()


def pause(site, db, complaint, actor, *, reason, at=None) -> None:
    if complaint.state not in rules.OPEN_STATES or rules.is_paused(complaint.events):
        raise ValidationError({"step": _l("This complaint cannot be paused now.")})
    if not reason.strip():
        raise ValidationError({"reason": _l("Say what you are waiting for from the customer.")})
    add_event(db, complaint, "paused", actor, at or datetime.now(UTC), reason.strip())
    db.flush()


def resume(site, db, complaint, actor, *, note="", at=None) -> None:
    if not rules.is_paused(complaint.events):
        raise ValidationError({"step": _l("This complaint is not paused.")})
    add_event(db, complaint, "resumed", actor, at or datetime.now(UTC), note)
    db.flush()


def gm_called(site, db, complaint, actor, *, note, at=None) -> None:
    if not complaint.gm_call_needed or complaint.gm_called:
        raise ValidationError({"step": _l("No call from the general manager is pending.")})
    complaint.gm_called = True
    add_event(db, complaint, "gm_called", actor, at or datetime.now(UTC), note, internal=True)
    db.flush()


# --- Deadlines (issue §5) ------------------------------------------------------------------


def deadline_params(site, db) -> dict:
    """Settings and calendars of the deadlines, read once per request or job."""
    clock = setting(site, db, "complaints.reply_clock")
    return {"reply_calendar": site.calendar(db, round_the_clock=clock == "24x7"), "day_calendar": site.calendar(db),
            "reply_hours": setting(site, db, "complaints.reply_hours"),  # CMP-3
            "follow_up_days": setting(site, db, "complaints.follow_up_days"),  # CMP-4
            "hq_report_days": setting(site, db, "complaints.hq_report_days")}  # CMP-5


def deadlines_for(site, db, complaint: Complaint, now: datetime, params: dict | None = None) -> list[rules.Deadline]:
    return rules.deadlines(complaint.events, forwarded=complaint.source == "headquarters", now=now,
                           **(params or deadline_params(site, db)))


def owner_of(complaint: Complaint, key: str) -> Staff | None:
    if key == "reply":
        if complaint.responsible_staff is not None:
            return complaint.responsible_staff
        dept = complaint.responsible_department
        return dept.manager if dept is not None else None
    return complaint.reviewed_by or complaint.received_by


def check_deadlines(site, db: Session, now: datetime) -> int:
    """Notify the person responsible and their manager of each overdue deadline, once."""
    complaints = db.scalars(select(Complaint).where(Complaint.state.in_(rules.OPEN_STATES))
                            .options(selectinload(Complaint.events),
                                     selectinload(Complaint.responsible_staff),
                                     selectinload(Complaint.responsible_department))).all()
    done = {(r.complaint_id, r.key) for r in db.scalars(
        select(Reminder).where(Reminder.complaint_id.in_([c.id for c in complaints] or [0])))}
    sent = 0
    params = deadline_params(site, db)
    for complaint in complaints:
        for d in deadlines_for(site, db, complaint, now, params):
            if d.done_at is not None or not d.overdue(now) or (complaint.id, d.key) in done:
                continue
            db.add(Reminder(complaint_id=complaint.id, key=d.key))
            person = owner_of(complaint, d.key)
            people = [person] if person is not None else []
            dept = person.department if person is not None else complaint.responsible_department
            if dept is not None and dept.manager is not None and dept.manager not in people:
                people.append(dept.manager)
            for staff in people:
                notifications.notify(db, staff, _l("Complaint %(number)s: %(deadline)s is overdue"), source=SOURCE,
                                     url=f"/complaints/{complaint.id}", email=True, number=complaint.number,
                                     deadline=rules.DEADLINES[d.key])
            sent += 1
    db.flush()
    return sent


# --- Consequences (CMP-7) ---------------------------------------------------------------


def apply_consequences(site, db: Session, complaint: Complaint) -> None:
    """Fine a confirmed attitude complaint once; flag reviews for repetition."""
    if not rules.attitude_fine_due(complaint.category, complaint.validity, complaint.concerned_staff_id,
                                   complaint.fine_emitted):
        return
    staff = db.get(Staff, complaint.concerned_staff_id)
    amount = setting(site, db, "complaints.attitude_fine")  # CMP-7: 200 CNY
    complaint.fine_emitted = True
    site.events.emit(db, "incentive_due", staff=staff, amount=-abs(Decimal(amount)).quantize(Decimal("0.01")),
                     reason=site_text(site, N_("Confirmed service-attitude complaint %(number)s"),
                                      number=complaint.number), rule_id="CMP-7",
                     source=("complaints.complaint", complaint.id))
    attitude = db.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.concerned_staff_id == staff.id, Complaint.category == "attitude", Complaint.validity == "valid"))
    if rules.dismissal_review(attitude, setting(site, db, "complaints.dismissal_count")):  # CMP-7
        _flag(db, staff, "dismissal", complaint, attitude)
    since = complaint.received_at - timedelta(days=30 * setting(site, db, "complaints.window_months"))
    if staff.department_id is not None:
        in_window = db.scalar(select(func.count()).select_from(Complaint).join(
            Staff, Staff.id == Complaint.concerned_staff_id).where(
            Staff.department_id == staff.department_id, Complaint.validity == "valid",
            Complaint.received_at >= since))
        dept = db.get(Department, staff.department_id)
        if dept.manager is not None and rules.manager_review(in_window, setting(site, db, "complaints.manager_count")):
            _flag(db, dept.manager, "manager_review", complaint, in_window)
    db.flush()


def _flag(db, staff, kind, complaint, count) -> None:
    exists = db.scalar(select(ReviewFlag.id).where(ReviewFlag.staff_id == staff.id, ReviewFlag.kind == kind,
                                                   ReviewFlag.complaint_id == complaint.id))
    if exists is None:
        db.add(ReviewFlag(staff_id=staff.id, kind=kind, complaint_id=complaint.id, count=count))
        for boss in holders(db, "complaints.consequence.view"):
            notifications.notify(db, boss, _l("%(person)s is flagged for review after complaint %(number)s"),
                                 source=SOURCE, url="/complaints/consequences", person=staff.name,
                                 number=complaint.number)


def consequences_job(site, db: Session, now: datetime) -> None:
    for complaint in db.scalars(select(Complaint).where(
            Complaint.category == "attitude", Complaint.validity == "valid", Complaint.fine_emitted.is_(False),
            Complaint.concerned_staff_id.is_not(None))):
        apply_consequences(site, db, complaint)


def holders(db: Session, permission: str) -> list[Staff]:
    """Active staff whose roles grant ``permission``."""
    from fuwu.models.staff import RolePermission

    return list(db.scalars(
        select(Staff).join(staff_role, staff_role.c.staff_id == Staff.id).join(Role, Role.id == staff_role.c.role_id)
        .join(RolePermission, RolePermission.role_id == Role.id)
        .where(RolePermission.permission == permission, RolePermission.revoked.is_(False), Staff.active.is_(True))
        .distinct().order_by(Staff.id)))


# --- Monthly report (CMP-5) -------------------------------------------------------------


def month_bounds(site, month: date) -> tuple[datetime, datetime]:
    tz = site.zone
    start = datetime(month.year, month.month, 1, tzinfo=tz)
    nxt = rules.add_months(month, 1)
    return start.astimezone(UTC), datetime(nxt.year, nxt.month, 1, tzinfo=tz).astimezone(UTC)


def build_report(site, db: Session, month: date) -> dict:
    """The month's analysis: counts, times, repeats, Pareto of causes, measures, broken promises."""
    start, end = month_bounds(site, month)
    rows = db.execute(
        select(Complaint.id, Complaint.number, Complaint.category, Complaint.validity, Complaint.state,
               Complaint.received_at, Complaint.cause_category, Complaint.corrective_measures,
               Complaint.preventive_measures, Customer.id.label("customer_id"), Customer.name.label("customer"),
               Customer.region, Department.name.label("department"), Staff.name.label("staff"))
        .join(Customer, Customer.id == Complaint.customer_id)
        .outerjoin(Department, Department.id == Complaint.responsible_department_id)
        .outerjoin(Staff, Staff.id == Complaint.concerned_staff_id)
        .where(Complaint.received_at >= start, Complaint.received_at < end)
        .order_by(Complaint.received_at, Complaint.id)).all()
    ids = [r.id for r in rows]
    firsts: dict[int, dict[str, datetime]] = defaultdict(dict)
    for chunk in range(0, len(ids), 900):
        part = ids[chunk:chunk + 900]
        for cid, kind, at in db.execute(
                select(ComplaintEvent.complaint_id, ComplaintEvent.kind, func.min(ComplaintEvent.at))
                .where(ComplaintEvent.complaint_id.in_(part),
                       ComplaintEvent.kind.in_(("received", "replied", "followed_up", "archived")))
                .group_by(ComplaintEvent.complaint_id, ComplaintEvent.kind)):
            firsts[cid][kind] = at if at.tzinfo else at.replace(tzinfo=UTC)
    reply_hours, resolve_hours = [], []
    for r in rows:
        times = firsts.get(r.id, {})
        if "received" in times and "replied" in times:
            reply_hours.append((times["replied"] - times["received"]).total_seconds() / 3600)
        if r.validity == "valid" and "received" in times and "archived" in times:
            resolve_hours.append((times["archived"] - times["received"]).total_seconds() / 3600)
    valid = [r for r in rows if rules.counts_as_quality_complaint(r.validity)]
    by_customer = Counter(r.customer for r in rows)
    promises = db.execute(
        select(Promise.text, Promise.due_on, Complaint.number).join(Complaint, Complaint.id == Promise.complaint_id)
        .where(Promise.status == "broken", Promise.due_on >= month, Promise.due_on < rules.add_months(month, 1))
        .order_by(Promise.due_on)).all()

    def top(counter):
        return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))

    return {
        "month": month.isoformat(),
        "total": len(rows),
        "valid": len(valid),
        "invalid": sum(1 for r in rows if r.validity == "invalid"),
        "pending_review": sum(1 for r in rows if r.validity is None),
        "by_category": top(Counter(r.category for r in rows)),
        "by_department": top(Counter(r.department or "" for r in valid)),
        "by_staff": top(Counter(r.staff for r in valid if r.staff)),
        "by_customer": top(by_customer)[:20],
        "by_region": top(Counter(r.region or "" for r in rows)),
        "reply_median": _round(rules.median(reply_hours)), "reply_worst": _round(max(reply_hours, default=None)),
        "resolve_median": _round(rules.median(resolve_hours)),
        "resolve_worst": _round(max(resolve_hours, default=None)),
        "repeats": [(name, n) for name, n in top(by_customer) if n > 1],
        "pareto": rules.pareto(Counter(r.cause_category for r in valid if r.cause_category)),
        "measures": [(r.number, r.corrective_measures, r.preventive_measures) for r in valid
                     if r.corrective_measures][:200],
        "broken_promises": [(p.number, p.text, p.due_on.isoformat()) for p in promises],
    }


def _round(value):
    return None if value is None else round(value, 1)


def report_job(site, db: Session, now: datetime) -> MonthlyReport | None:
    """At month end: build last month's report and send it to the department
    managers and the general manager (CMP-5). Runs daily; builds once."""
    today = site.day_of(now)
    month = rules.add_months(today.replace(day=1), -1)
    if db.scalar(select(MonthlyReport.id).where(MonthlyReport.month == month)) is not None:
        return None
    report = MonthlyReport(month=month, built_at=now, data=build_report(site, db, month),
                           due_on=rules.report_due(month, site.calendar(db),
                                                   setting(site, db, "complaints.report_working_days")))
    db.add(report)
    db.flush()
    send_report(site, db, report, now)
    return report


def recipients(db: Session) -> list[Staff]:
    managers = list(db.scalars(select(Staff).join(Department, Department.manager_id == Staff.id)
                               .where(Staff.active.is_(True)).distinct()))
    people = {s.id: s for s in managers + holders(db, "complaints.report.receive")}
    return [people[k] for k in sorted(people)]


def send_report(site, db: Session, report: MonthlyReport, now: datetime) -> None:
    for staff in recipients(db):
        notifications.notify(db, staff, _l("The complaint analysis report for %(month)s is ready"), source=SOURCE,
                             url=f"/complaints/reports/{report.id}", email=True, month=Month(report.month))
    report.sent_at = now
    db.flush()


def sent_on_time(site, report: MonthlyReport) -> bool | None:
    if report.sent_at is None:
        return None
    return site.day_of(report.sent_at) <= report.due_on
