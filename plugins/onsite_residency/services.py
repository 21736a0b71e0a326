"""Loading rows and running the rules of ``rules.py`` (RES-1..6)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import Session

from fuwu.dates import add_months
from fuwu.i18n import use_language
from fuwu.models import Customer, Staff

from . import rules
from .models import ResidentAttendance, ResidentReport, ResidentMonthResult, ResidentRating, Residency, ResidentCall

ALL = "onsite_residency.all.view"
OWN = "onsite_residency.own.view"


def visible(user):
    """Record rule: everything with ``all.view``; else one's own residencies and those one leads."""
    if user.is_admin or user.can(ALL):
        return true()
    if user.can(OWN):
        return or_(Residency.engineer_id == user.id, Residency.lead_id == user.id)
    return false()


def overlapping_month(month: date):
    return and_(Residency.starts_on <= rules.month_end(month),
                or_(Residency.ends_on.is_(None), Residency.ends_on >= month))


# --- Figures for the report (RES-1, RES-2) ----------------------------------------------


def attendance_rows(db: Session, residency_ids: list[int], month: date) -> dict[int, dict[date, ResidentAttendance]]:
    out: dict[int, dict[date, ResidentAttendance]] = {rid: {} for rid in residency_ids}
    if not residency_ids:
        return out
    for row in db.scalars(select(ResidentAttendance).where(ResidentAttendance.residency_id.in_(residency_ids),
                                                   ResidentAttendance.day >= month,
                                                   ResidentAttendance.day <= rules.month_end(month))):
        out[row.residency_id][row.day] = row
    return out


def calls_of(db: Session, residency_ids: list[int], month: date, zone: str) -> dict[int, list[ResidentCall]]:
    tz = ZoneInfo(zone)
    start = datetime.combine(month, datetime.min.time(), tz).astimezone(UTC)
    end = datetime.combine(add_months(month, 1), datetime.min.time(), tz).astimezone(UTC)
    out: dict[int, list[ResidentCall]] = {rid: [] for rid in residency_ids}
    if not residency_ids:
        return out
    for call in db.scalars(select(ResidentCall).where(ResidentCall.residency_id.in_(residency_ids),
                                                      ResidentCall.called_at >= start, ResidentCall.called_at < end)
                           .order_by(ResidentCall.called_at)):
        out[call.residency_id].append(call)
    return out


def figures(site, db: Session, residency: Residency, month: date) -> dict:
    sheet = attendance_rows(db, [residency.id], month)[residency.id]
    days = rules.attendance_summary([a.status for a in sheet.values()])
    days["overtime_hours"] = sum(a.overtime_hours for a in sheet.values())
    calls = rules.response_summary([c.compliant for c in calls_of(db, [residency.id], month,
                                                                 site.config.timezone)[residency.id]])
    return {**days, **{f"calls_{k}": v for k, v in calls.items()}}


def judge_call(site, db: Session, call: ResidentCall) -> None:
    call.compliant = rules.call_compliant(  # RES-2
        call.called_at, call.acknowledged_at, call.reached_at,
        reach_minutes=site.settings.get("onsite_residency.reach_minutes", db),
        ack_minutes=site.settings.get("onsite_residency.ack_minutes", db))


# --- Documents (RES-6) -------------------------------------------------------------------


def due_dates(site, db: Session, month: date) -> dict[str, date]:
    cal = site.calendar(db)
    return {doc: rules.due_date(month, site.settings.get(f"onsite_residency.due_day_{doc}", db), cal)
            for doc in rules.DOCUMENTS}


def document_status(site, db: Session, report: ResidentReport) -> dict[str, dict]:
    """Per document: when it first reached the chain, its due date, on time?"""
    dues = due_dates(site, db, report.month)
    out = {}
    for doc in rules.DOCUMENTS:
        at = report.documents.get(doc) if report.documents else None
        when = datetime.fromisoformat(at) if at else None
        day = site.day_of(when) if when else None
        out[doc] = {"at": when, "due": dues[doc], "on_time": rules.on_time(day, dues[doc])}
    return out


def all_on_time(site, db: Session, report: ResidentReport) -> bool:
    return all(d["on_time"] for d in document_status(site, db, report).values())


def mark_submitted(report: ResidentReport, now: datetime) -> None:
    """The first submission delivers the month's three documents (RES-6); a
    report sent back and submitted again keeps its first dates."""
    docs = dict(report.documents or {})
    for doc in rules.DOCUMENTS:
        docs.setdefault(doc, now.isoformat())
    report.documents = docs


def stamp_content(report: ResidentReport) -> dict:
    return {"report": report.id, "month": report.month.isoformat(), "engineer": report.residency.engineer_id,
            "customer": report.residency.customer_id, "work_done": report.work_done, "problems": report.problems,
            "suggestions": report.suggestions, "evaluation": report.evaluation,
            "figures": sorted((report.figures or {}).items())}


def stamp(report: ResidentReport, actor: Staff, now: datetime) -> None:
    """RES-3: the GM office's electronic stamp: who, when, hash of the approved content."""
    report.stamped_by_id = actor.id
    report.stamped_at = now
    report.stamp_hash = rules.content_hash(stamp_content(report))


# --- Month close (RES-4, RES-5) ---------------------------------------------------------


def close_month(site, db: Session, month: date) -> list[ResidentMonthResult]:
    """Book each rated engineer-month once: the allowance or the fines.

    Unrated reports wait for a later close; a rated report already booked
    is skipped, so running the close again emits nothing new.
    """
    allowance = site.settings.get("onsite_residency.allowance", db)
    engineer_fine = site.settings.get("onsite_residency.engineer_fine", db)
    lead_fine = site.settings.get("onsite_residency.lead_fine", db)
    booked = set(db.execute(select(ResidentMonthResult.report_id, ResidentMonthResult.role)
                            .where(ResidentMonthResult.month == month)).all())
    reports = db.scalars(select(ResidentReport).join(ResidentRating).where(ResidentReport.month == month)
                         .order_by(ResidentReport.id)).unique().all()
    dues = due_dates(site, db, month)
    people = {r.residency.engineer_id for r in reports} | {r.residency.lead_id for r in reports}
    staff = {p.id: p for p in db.scalars(select(Staff).where(Staff.id.in_(people - {None})))} if reports else {}
    new = []
    for report in reports:
        docs = report.documents or {}
        in_time = all(rules.on_time(site.day_of(datetime.fromisoformat(docs[d])) if docs.get(d) else None,
                                    dues[d]) for d in rules.DOCUMENTS)
        for outcome in rules.month_outcomes(report.rating.rating, in_time, allowance=allowance,
                                            engineer_fine=engineer_fine, lead_fine=lead_fine):
            if (report.id, outcome.role) in booked:
                continue
            staff_id = report.residency.engineer_id if outcome.role == "engineer" else report.residency.lead_id
            if staff_id is None:
                continue
            result = ResidentMonthResult(report_id=report.id, staff_id=staff_id, month=month, role=outcome.role,
                                 amount=outcome.amount, rule=outcome.rule, reason=outcome.reason,
                                 params=outcome.params)
            db.add(result)
            new.append(result)
            if outcome.amount != 0:
                # the ledger keeps the site's words
                with use_language(site.catalogs, site.config.language, site.config.timezone):
                    reason = result.reason_text()
                site.events.emit(db, "incentive_due", staff=staff[staff_id], amount=outcome.amount,
                                 reason=reason, rule_id=outcome.rule,
                                 source=(f"onsite_residency.report.{outcome.role}", report.id))
    db.flush()
    return new


def auto_close(site, db: Session, now: datetime) -> None:
    """The daily job: from ``close_day`` of a month on, last month is closed (again: idempotent)."""
    today = site.day_of(now)
    if today.day >= site.settings.get("onsite_residency.close_day", db):
        close_month(site, db, rules.month_first(today - timedelta(days=today.day)))


# --- Demo ---------------------------------------------------------------------------------


def load_demo(site, db: Session) -> None:
    staff = list(db.scalars(select(Staff).where(Staff.active.is_(True)).order_by(Staff.id).limit(3)))
    customers = list(db.scalars(select(Customer).order_by(Customer.id).limit(2)))
    if len(staff) < 2 or not customers:
        return
    today = site.day_of()
    for i, customer in enumerate(customers):
        engineer, lead = staff[(i + 1) % len(staff)], staff[0]
        site_name = f"{customer.name} 信息中心"
        if db.scalar(select(Residency.id).where(Residency.customer_id == customer.id,
                                                Residency.site_name == site_name)):
            continue
        residency = Residency(engineer_id=engineer.id, lead_id=lead.id, customer_id=customer.id,
                              site_name=site_name, starts_on=today.replace(day=1) - timedelta(days=90),
                              notes="驻场服务（演示数据）")
        db.add(residency)
        db.flush()
        first = today.replace(day=1)
        cal = site.calendar(db)
        day = first
        while day < today:
            if cal.is_workday(day):
                db.add(ResidentAttendance(residency_id=residency.id, day=day, status="present"))
            day += timedelta(days=1)
        called = datetime.combine(first, datetime.min.time(), UTC) + timedelta(hours=2)
        call = ResidentCall(residency_id=residency.id, called_at=called, reached_at=called + timedelta(minutes=4),
                            summary="打印机无法连接")
        judge_call(site, db, call)
        db.add(call)
    db.flush()
