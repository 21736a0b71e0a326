"""Database work of the travel_expense plugin: standards, the one-open-advance
rule, claims, settlement, the service record and its fine, ledger and report.
The regulation's arithmetic is in ``rules``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session

from fuwu import timeline
from fuwu.errors import ValidationError
from fuwu.i18n import N_, site_text
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Customer, Position, Staff
from fuwu.notifications import notify

from . import rules
from .models import Advance, Claim, ClaimLine, Fine, ServiceRecord, Standard, Trip, trip_customer

#: an advance stops being "open" once cleared or withdrawn (TRV-6)
CLOSED_ADVANCE = ("cleared", "cancelled")
#: a trip may get advances and a claim once the service manager approved it
APPROVED_TRIP = ("filing", "archived")


def grade_of(db: Session, staff: Staff) -> str:
    if staff.position_id is None:
        return "junior"
    return db.scalar(select(Position.grade).where(Position.id == staff.position_id)) or "junior"


def standard_for(site, db: Session, grade: str, on: date) -> rules.Standard:
    """TRV-1: the grade's standard in force on ``on``."""
    get = site.settings.get
    fallback = rules.Standard("", get("travel_expense.general_transport_class", db),
                              rules.money(get("travel_expense.general_lodging_cap", db)),
                              rules.money(get("travel_expense.general_meal_rate", db)))
    rows = db.scalars(select(Standard).where(Standard.grade == grade, Standard.effective_from <= on))
    return rules.pick_standard(list(rows), grade, on, fallback)


# --- TRV-5, TRV-6 advances ---------------------------------------------------------------


def open_advance(db: Session, staff_id: int, exclude_id: int | None = None) -> Advance | None:
    query = select(Advance).where(Advance.owner_id == staff_id, Advance.state.not_in(CLOSED_ADVANCE))
    if exclude_id:
        query = query.where(Advance.id != exclude_id)
    return db.scalar(query.order_by(Advance.id).limit(1))


def refuse_second_advance(db: Session, staff_id: int, exclude_id: int | None = None) -> None:
    """TRV-6: whoever has an advance not yet cleared gets no new one."""
    found = open_advance(db, staff_id, exclude_id)
    if found is not None:
        raise ValidationError(message=_l(
            "Advance #%(id)s of %(amount)s yuan (trip to %(trip)s) is not cleared yet: settle it before "
            "asking for a new advance (TRV-6).", id=found.id, amount=f"{found.amount:.2f}",
            trip=found.trip.destinations))


def check_method(method: str, reason: str) -> dict:
    """TRV-5: payment by cheque, or a written explanation for any other way."""
    if method != "cheque" and not reason.strip():
        return {"method_reason": _l("Explain why this advance cannot be paid by cheque (TRV-5).")}
    return {}


# --- TRV-6 claims ------------------------------------------------------------------


def parse_lines(posted, count: int) -> tuple[list[rules.Line], dict, list[dict]]:
    """Claim lines from the form (``line-<i>-<field>``): values, errors, raw input."""
    lines, errors, raw = [], {}, []
    for i in range(count):
        row = {k: (posted.get(f"line-{i}-{k}") or "").strip() for k in
               ("kind", "description", "amount", "nights", "class")}
        row["invoice"] = posted.get(f"line-{i}-invoice") in ("on", "true", "1")
        if not row["amount"] and not row["description"]:
            continue
        raw.append(row)
        key = f"line-{len(raw) - 1}"
        if row["kind"] not in rules.LINE_KINDS:
            errors[key] = _l("Choose the kind of expense.")
            continue
        try:
            amount = Decimal(row["amount"].replace(",", ""))
            if not amount.is_finite():
                raise ValueError
        except (ValueError, ArithmeticError):
            errors[key] = _l("Enter an amount in yuan, such as 1200.00.")
            continue
        if amount < 0:
            errors[key] = _l("The amount cannot be negative.")
            continue
        if amount >= Decimal("10000000"):
            errors[key] = _l("The amount is too large.")
            continue
        nights = 0
        if row["kind"] == "lodging":
            try:
                nights = int(row["nights"] or "0")
            except ValueError:
                nights = -1
            if nights < 1 or nights > 366:
                errors[key] = _l("Enter the number of nights (1 or more).")
                continue
            if not row["invoice"]:
                errors[key] = _l("Lodging needs an invoice (TRV-2).")
                continue
        klass = row["class"] if row["kind"] == "transport" else ""
        if klass and klass not in rules.TRANSPORT_CLASSES:
            errors[key] = _l("Choose from the list.")
            continue
        lines.append(rules.Line(row["kind"], rules.money(amount), row["description"][:200], nights, row["invoice"],
                                klass))
    return lines, errors, raw


def compute_claim(site, db: Session, claim: Claim) -> rules.Computation:
    lines = [rules.Line(ln.kind, ln.amount, ln.description, ln.nights, ln.invoice, ln.transport_class)
             for ln in claim.lines]
    std = rules.Standard(claim.grade, claim.std_transport_class, claim.std_lodging_cap, claim.std_meal_rate)
    return rules.compute(lines, claim.days, std)


def save_claim(site, db: Session, trip: Trip, owner: Staff, claim: Claim | None, *, departed: datetime,
               returned: datetime, lines: list[rules.Line], remarks: str) -> Claim:
    """Create or replace a draft claim: snapshot the standard, days, totals."""
    if returned <= departed:
        raise ValidationError({"returned_at": _l("The return must be after the departure.")})
    db_get = site.settings.get
    days = rules.trip_days(departed, returned, tz=site.config.timezone,
                           cutoff=db_get("travel_expense.half_day_cutoff", db))
    grade = grade_of(db, owner)
    std = standard_for(site, db, grade, site.day_of(departed))
    result = rules.compute(lines, days, std)
    if result.above_class and not remarks.strip():
        raise ValidationError({"remarks": _l("A transport class above the standard needs a reason for the "
                                             "approver.")})
    if claim is None:
        claim = Claim(trip_id=trip.id, owner_id=owner.id)
        new = True
    else:
        new = False
        claim.lines.clear()
    claim.departed_at, claim.returned_at = departed, returned
    claim.grade, claim.std_transport_class = grade, std.transport_class
    claim.std_lodging_cap, claim.std_meal_rate = std.lodging_cap, std.meal_rate
    claim.days, claim.total, claim.employee_bears = days, result.total, rules.money(result.employee_bears)
    claim.above_class, claim.remarks = result.above_class, remarks.strip()
    claim.lines.extend(ClaimLine(seq=i, kind=ln.kind, description=ln.description, amount=ln.amount,
                                 nights=ln.nights, invoice=ln.invoice, transport_class=ln.transport_class)
                       for i, ln in enumerate(lines))
    if new:
        site.workflows.start(db, claim, owner)
    db.flush()
    return claim


def submit_claim(site, db: Session, claim: Claim, actor: Staff) -> None:
    """TRV-6: stamp the filing day and flag a claim filed after the deadline."""
    today = site.day_of()
    claim.filed_on = today
    claim.late = rules.is_late(site.day_of(claim.returned_at), today,
                               site.settings.get("travel_expense.claim_due_days", db))
    site.workflows.transition(db, claim, "submit", actor)


def trip_advance(db: Session, trip_id: int) -> Advance | None:
    """The advance a claim settles: the trip's paid, not yet cleared one."""
    return db.scalar(select(Advance).where(Advance.trip_id == trip_id, Advance.state == "paid")
                     .order_by(Advance.id).limit(1))


def settle(site, db: Session, claim: Claim, actor: Staff, reference: str) -> None:
    """TRV-6: settle against the advance; the advance is then cleared."""
    pending = db.scalar(select(Advance).where(Advance.trip_id == claim.trip_id,
                                              Advance.state.not_in(("paid", *CLOSED_ADVANCE))).limit(1))
    if pending is not None:
        raise ValidationError(message=_l(
            "Advance #%(id)s of this trip is not paid yet: record its payment, or have it withdrawn, before "
            "settling the claim.", id=pending.id))
    advance = trip_advance(db, claim.trip_id)
    advanced = advance.amount if advance is not None else Decimal("0.00")
    kind, amount, _line = rules.settlement(claim.total, advanced)
    claim.advance_id = advance.id if advance is not None else None
    claim.settlement_kind, claim.settlement_amount = kind, amount
    claim.settled_on, claim.settled_by_id = site.day_of(), actor.id
    claim.settlement_reference = reference.strip()[:100]
    site.workflows.transition(db, claim, "settle", actor)
    if advance is not None:
        advance.cleared_on = site.day_of()
        site.workflows.transition(db, advance, "clear", actor, reference)


# --- TRV-8 the service record -------------------------------------------------------


def write_record(db: Session, trip: Trip, customer: Customer, summary: str, actor: Staff) -> ServiceRecord:
    record = ServiceRecord(trip_id=trip.id, customer_id=customer.id, summary=summary, written_by_id=actor.id)
    db.add(record)
    db.flush()
    timeline.append(db, customer.id, N_("Field trip of %(staff)s to %(destinations)s (%(start)s – %(end)s): "
                                        "%(summary)s"),
                    source="travel_expense", kind="trip", ref=record, staff=trip.owner.name if trip.owner else "",
                    destinations=trip.destinations, start=trip.depart_on,
                    end=trip.return_on, summary=summary)
    return record


def record_fines(site, session: Session, now: datetime) -> int:
    """TRV-8: a trip still missing from the service record ``grace`` days after
    return costs its traveller the fine, once (the ``Fine`` row)."""
    today = site.day_of(now)
    grace = site.settings.get("travel_expense.record_grace_days", session)
    amount = rules.money(site.settings.get("travel_expense.record_fine", session))
    latest = today - timedelta(days=grace)
    rows = session.execute(
        select(Trip, Claim.returned_at)
        .outerjoin(Claim, Claim.trip_id == Trip.id)
        .where(Trip.state.in_(APPROVED_TRIP), Trip.return_on < latest, Trip.owner_id.is_not(None),
               ~exists().where(ServiceRecord.trip_id == Trip.id), ~exists().where(Fine.trip_id == Trip.id))
        .order_by(Trip.id)).all()
    count = 0
    for trip, returned_at in rows:
        back = site.day_of(returned_at) if returned_at else trip.return_on
        if not rules.record_overdue(back, today, grace):
            continue
        session.add(Fine(trip_id=trip.id, staff_id=trip.owner_id, amount=amount))
        session.flush()
        if amount:
            site.events.emit(session, "incentive_due", staff=trip.owner, amount=-amount,
                             reason=site_text(site, N_("Trip to %(destinations)s on %(day)s not written into "
                                                       "the service record"),
                                              destinations=trip.destinations, day=trip.depart_on),
                             rule_id="TRV-8",
                             source=("travel_expense.trip", trip.id))
        notify(session, trip.owner, N_("Your trip to %(destinations)s is not in the service record: fine of "
                                       "%(amount)s yuan (TRV-8)"), source="travel_expense",
               destinations=trip.destinations, amount=f"{amount:.2f}")
        count += 1
    return count


# --- Ledger and report ---------------------------------------------------------------


def ledger(db: Session, staff_id: int | None = None):
    """Per traveller: advances paid, cleared, balance outstanding (one query)."""
    paid = func.sum(case((Advance.state.in_(("paid", "cleared")), Advance.amount), else_=None))
    cleared = func.sum(case((Advance.state == "cleared", Advance.amount), else_=None))
    query = (select(Staff.id, Staff.name, paid.label("paid"), cleared.label("cleared"))
             .join(Advance, Advance.owner_id == Staff.id).group_by(Staff.id, Staff.name).order_by(Staff.name))
    if staff_id is not None:
        query = query.where(Staff.id == staff_id)
    out = []
    for row in db.execute(query):
        p, c = row.paid or Decimal("0.00"), row.cleared or Decimal("0.00")
        out.append({"staff_id": row.id, "name": row.name, "paid": p, "cleared": c, "balance": p - c})
    return out


REPORT_STATES = ("review", "settlement", "settled")


def month_bounds(site, month: date) -> tuple[datetime, datetime]:
    start = datetime.combine(month.replace(day=1), time(0), site.zone)
    nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    end = datetime.combine(nxt, time(0), site.zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def cost_report(site, db: Session, month: date, by: str):
    """Monthly reimbursed travel cost (claims returned in the month and
    submitted), grouped in SQL by engineer, customer or region."""
    start, end = month_bounds(site, month)
    base = and_(Claim.state.in_(REPORT_STATES), Claim.returned_at >= start, Claim.returned_at < end)
    if by == "customer":
        # a trip serving several customers counts in full for each of them
        query = (select(Customer.name.label("label"), func.count(Claim.id).label("trips"),
                        func.sum(Claim.total).label("total"))
                 .select_from(Claim).join(trip_customer, trip_customer.c.trip_id == Claim.trip_id)
                 .join(Customer, Customer.id == trip_customer.c.customer_id).where(base).group_by(Customer.name))
    elif by == "region":
        query = (select(Trip.region.label("label"), func.count(Claim.id).label("trips"),
                        func.sum(Claim.total).label("total"))
                 .select_from(Claim).join(Trip, Trip.id == Claim.trip_id).where(base).group_by(Trip.region))
    else:
        query = (select(Staff.name.label("label"), func.count(Claim.id).label("trips"),
                        func.sum(Claim.total).label("total"))
                 .select_from(Claim).join(Staff, Staff.id == Claim.owner_id).where(base).group_by(Staff.name))
    rows = [{"label": r.label or "—", "trips": r.trips, "total": r.total or Decimal("0.00")}
            for r in db.execute(query.order_by(func.sum(Claim.total).desc()))]
    return rows


# --- Demo --------------------------------------------------------------------------


def load_demo(site, session: Session) -> None:
    """Standards for managers and executives, and one trip of 李强 in review."""
    for grade, klass, cap, meals in (("manager", "train_soft_sleeper", "200.00", "50.00"),
                                     ("executive", "plane_economy", "350.00", "80.00")):
        if session.scalar(select(Standard.id).where(Standard.grade == grade)) is None:
            session.add(Standard(grade=grade, effective_from=date(2020, 1, 1), transport_class=klass,
                                 lodging_cap=Decimal(cap), meal_rate=Decimal(meals),
                                 notes="Demo standard"))
    engineer = session.scalar(select(Staff).where(Staff.code == "S004"))
    if engineer is None or session.scalar(select(Trip.id).where(Trip.owner_id == engineer.id).limit(1)):
        return
    today = site.day_of()
    customers = list(session.scalars(select(Customer).order_by(Customer.id).limit(2)))
    trip = Trip(destinations="苏州", region=customers[0].region if customers else "华东",
                itinerary="上海 → 苏州 → 上海", purpose="系统升级与现场培训", transport_class="train_hard_sleeper",
                depart_on=today + timedelta(days=5), return_on=today + timedelta(days=7),
                est_transport=Decimal("180.00"), est_lodging=Decimal("240.00"), est_meals=Decimal("90.00"),
                est_other=Decimal("0.00"), customers=customers)
    site.workflows.start(session, trip, engineer)
    site.workflows.transition(session, trip, "submit", engineer)
