"""The resident-service regulations (RES-1..6) as plain functions of values.

No database, no web: ``services.py`` loads rows and calls these, and the
tests check every rule with tables of cases.
"""

from __future__ import annotations

import calendar as _months
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from fuwu import dates
from fuwu.dates import add_months
from fuwu.i18n import N_

# --- ResidentAttendance (RES-1) ---------------------------------------------------------

ATTENDANCE = ("present", "leave", "absent", "overtime")


def attendance_summary(statuses: list[str]) -> dict[str, int]:
    """RES-1: days per status of one engineer's month (overtime counts as present too)."""
    counts = {k: 0 for k in ATTENDANCE}
    for s in statuses:
        if s in counts:
            counts[s] += 1
    counts["worked"] = counts["present"] + counts["overtime"]
    return counts


# --- Response (RES-2) -------------------------------------------------------------


def call_compliant(called_at: datetime, acknowledged_at: datetime | None, reached_at: datetime | None, *,
                   reach_minutes: int, ack_minutes: int) -> bool:
    """RES-2: on the spot within ``reach_minutes`` (5), or, when busy with
    another repair, acknowledged within ``ack_minutes`` (1)."""
    if reached_at is not None and reached_at - called_at <= timedelta(minutes=reach_minutes):
        return True
    return acknowledged_at is not None and acknowledged_at - called_at <= timedelta(minutes=ack_minutes)


def response_summary(flags: list[bool]) -> dict[str, int]:
    return {"calls": len(flags), "compliant": sum(1 for f in flags if f),
            "late": sum(1 for f in flags if not f)}


# --- Documents and deadlines (RES-3, RES-6) ---------------------------------------

#: RES-6: the documents of a resident month
DOCUMENTS = ("attendance", "report", "evaluation")


def month_first(day: date) -> date:
    return day.replace(day=1)


def month_end(first: date) -> date:
    return first.replace(day=_months.monthrange(first.year, first.month)[1])


def parse_month(text: str | None, today: date) -> date:
    """First day of ``YYYY-MM``; this month when absent or malformed."""
    return dates.parse_month(text) or today.replace(day=1)


def due_date(month: date, due_day: int, calendar=None) -> date:
    """RES-6: a document of ``month`` is due on day ``due_day`` of the next
    month (clipped to that month's end); when that day is not a working day
    the deadline moves to the next working day."""
    nxt = add_months(month, 1)
    day = nxt.replace(day=min(due_day, month_end(nxt).day))
    if calendar is not None:
        while not calendar.is_workday(day):
            day += timedelta(days=1)
    return day


def on_time(submitted_on: date | None, due: date) -> bool:
    return submitted_on is not None and submitted_on <= due


# --- ResidentRating (RES-3) and money (RES-4, RES-5) ---------------------------------------

RATINGS = ("very_good", "good", "average", "fairly_poor", "poor")
GOOD = ("very_good", "good")
BAD = ("fairly_poor", "poor")

RATING_WORDS = {"very_good": N_("very good"), "good": N_("good"), "average": N_("average"),
                "fairly_poor": N_("fairly poor"), "poor": N_("poor")}


@dataclass(frozen=True)
class Outcome:
    """One engineer-month's money: ``role`` is ``engineer`` or ``lead``."""

    role: str
    amount: Decimal
    #: untranslated sentence with %(params)s; shown in the reader's language
    reason: str
    rule: str
    params: dict


def month_outcomes(rating: str, documents_on_time: bool, *, allowance: Decimal, engineer_fine: Decimal,
                   lead_fine: Decimal) -> list[Outcome]:
    """RES-4 / RES-5 for one rated engineer-month.

    - rated very good or good **and** every document on time: the allowance (300);
    - rated fairly poor or poor: the engineer is fined (200) and the group lead (100);
    - otherwise nothing, with the reason kept for the overview.
    """
    word = RATING_WORDS[rating]
    params = {"rating": word}
    if rating in GOOD and documents_on_time:  # RES-4
        return [Outcome("engineer", allowance, N_("rated %(rating)s; documents on time -> %(amount)s"),
                        "RES-4", {**params, "amount": f"{allowance:.2f}"})]
    if rating in BAD:  # RES-5
        return [Outcome("engineer", -engineer_fine, N_("rated %(rating)s -> %(amount)s"), "RES-5",
                        {**params, "amount": f"{-engineer_fine:.2f}"}),
                Outcome("lead", -lead_fine, N_("rated %(rating)s (group lead) -> %(amount)s"), "RES-5",
                        {**params, "amount": f"{-lead_fine:.2f}"})]
    if rating in GOOD:
        return [Outcome("engineer", Decimal("0.00"), N_("rated %(rating)s; documents late -> %(amount)s"),
                        "RES-4", {**params, "amount": "0.00"})]
    return [Outcome("engineer", Decimal("0.00"), N_("rated %(rating)s -> %(amount)s"), "RES-4",
                    {**params, "amount": "0.00"})]


# --- Electronic stamp (RES-3) ------------------------------------------------------


def content_hash(fields: dict) -> str:
    """SHA-256 of the approved content: stable key order, text values."""
    payload = json.dumps({k: str(v) for k, v in sorted(fields.items())}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()
