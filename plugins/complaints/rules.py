"""The complaint regulations (CMP-1..7) as plain functions of values (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fuwu.dates import add_months
from fuwu.i18n import lazy_gettext as _l

# CMP-1: the categories the issue names
CATEGORIES = {
    "attitude": _l("Service attitude"),
    "response": _l("Response time"),
    "technical": _l("Technical quality"),
    "charges": _l("Charges"),
    "other": _l("Other complaint"),
}
SOURCES = {"direct": _l("Directly from the user"), "headquarters": _l("Forwarded by headquarters")}
CHANNELS = {"phone": _l("Phone"), "visit": _l("In person"), "letter": _l("Letter or e-mail"),
            "link": _l("Customer's own link")}
#: the quality supervisor's finding (CMP-2)
VALIDITY = {"valid": _l("Valid"), "invalid": _l("Not valid")}
# CMP-3: how the complainant was answered
REPLY_KINDS = {"serve_again": _l("Serve again"), "apologise": _l("Apologise"), "compensate": _l("Compensate")}
# the Pareto chart's causes (issue §7); the regulations name none, these are ours
CAUSES = {
    "attitude": _l("Staff attitude or conduct"),
    "skill": _l("Insufficient technical skill"),
    "process": _l("Process not followed"),
    "product": _l("Software defect"),
    "communication": _l("Poor communication"),
    "capacity": _l("Not enough staff available"),
    "expectation": _l("Customer expectation beyond the agreement"),
    "other": _l("Other cause"),
}
STATES = {
    "received": _l("Awaiting review"),
    "handling": _l("With the responsible department"),
    "replied": _l("Replied, being handled"),
    "follow_up": _l("Awaiting follow-up call"),
    "escalated": _l("Escalated to headquarters"),
    "to_archive": _l("Ready to archive"),
    "archived": _l("Archived"),
}
OPEN_STATES = ("received", "handling", "replied", "follow_up", "escalated", "to_archive")
PROMISE_KINDS = {"process": _l("Process"), "time_limit": _l("Time limit"), "result": _l("Expected result")}
PROMISE_STATUSES = {"open": _l("Open promise"), "kept": _l("Kept"), "broken": _l("Broken")}
#: CMP-7: the reviews a complaint can call for (``ReviewFlag.kind``)
REVIEW_KINDS = {"dismissal": _l("Dismissal review: repeated service-attitude complaint"),
                "manager_review": _l("Manager's demotion or dismissal review: complaints in the window")}
DEADLINES = {
    "reply": _l("Reply to the complainant (CMP-3)"),
    "follow_up": _l("Follow-up call (CMP-4)"),
    "hq_report": _l("Result reported to headquarters (CMP-5)"),
}
EVENT_KINDS = {
    "received": _l("Complaint received"),
    "validated": _l("Confirmed as valid"),
    "invalidated": _l("Found not valid"),
    "replied": _l("Replied to the complainant"),
    "handled": _l("Handling result returned"),
    "followed_up": _l("Follow-up call made"),
    "escalated": _l("Escalated to headquarters' service development department"),
    "hq_answered": _l("Headquarters answered"),
    "hq_reported": _l("Result reported to headquarters"),
    "gm_called": _l("General manager called the customer"),
    "paused": _l("Waiting on the customer"),
    "resumed": _l("Customer answered, clock running again"),
    "archived": _l("Archived by the quality supervisor"),
    "note": _l("Note"),
}
#: events a customer may see through their link (issue §9)
PUBLIC_EVENTS = {"received", "validated", "invalidated", "replied", "handled", "followed_up", "escalated",
                 "archived"}

# the order of the handling steps; next_state(state, step)
FLOW = {
    ("received", "validated"): "handling",
    ("received", "invalidated"): "archived",   # CMP-2: explained, recorded, archived
    ("handling", "replied"): "replied",
    ("replied", "handled"): "follow_up",
    ("follow_up", "resolved"): "to_archive",
    ("follow_up", "unresolved"): "escalated",  # CMP-4
    ("escalated", "hq_answered"): "to_archive",
    ("to_archive", "archived"): "archived",
}


def next_state(state: str, step: str) -> str | None:
    return FLOW.get((state, step))


@dataclass(frozen=True)
class Deadline:
    key: str
    start: datetime
    due: datetime
    done_at: datetime | None
    paused: bool = False

    def overdue(self, now: datetime) -> bool:
        return (self.done_at or now) > self.due if not self.paused or self.done_at else False

    def left(self, now: datetime) -> timedelta:
        return self.due - now

    @property
    def met(self) -> bool | None:
        return None if self.done_at is None else self.done_at <= self.due


def first(events: Iterable, kind: str):
    """The time of the earliest event ``kind``, else None."""
    times = [e.at for e in events if e.kind == kind]
    return min(times) if times else None


def pauses(events: Sequence, now: datetime) -> list[tuple[datetime, datetime]]:
    """Waiting-on-customer intervals (issue §5): paused .. resumed, still open until now."""
    spans, start = [], None
    for e in sorted(events, key=lambda e: (e.at, getattr(e, "id", 0) or 0)):
        if e.kind == "paused" and start is None:
            start = e.at
        elif e.kind == "resumed" and start is not None:
            if e.at > start:
                spans.append((start, e.at))
            start = None
    if start is not None and now > start:
        spans.append((start, now))
    return spans


def is_paused(events: Sequence) -> bool:
    state = False
    for e in sorted(events, key=lambda e: (e.at, getattr(e, "id", 0) or 0)):
        if e.kind == "paused":
            state = True
        elif e.kind == "resumed":
            state = False
    return state


def deadlines(events: Sequence, *, forwarded: bool, reply_calendar, day_calendar, reply_hours: int,
              follow_up_days: int, hq_report_days: int, now: datetime) -> list[Deadline]:
    """Every deadline of a complaint from its event history (issue §5).

    reply: ``reply_hours`` after receipt on ``reply_calendar`` (working hours
    or round the clock), the clock stopped while waiting on the customer
    (CMP-3). follow-up: ``follow_up_days`` working days after the handling
    result came back (CMP-4). headquarters' feedback: ``hq_report_days``
    working days after handling, for forwarded complaints (CMP-5).
    """
    if first(events, "invalidated") is not None:
        return []  # CMP-2: archived with its explanation, nothing more is owed
    spans = pauses(events, now)
    paused = is_paused(events)
    out: list[Deadline] = []
    received = first(events, "received")
    if received is not None:
        due = reply_calendar.add_working_time(received, timedelta(hours=reply_hours), spans)  # CMP-3
        done = first(events, "replied")
        out.append(Deadline("reply", received, due, done, paused and done is None))
    handled = first(events, "handled")
    if handled is not None:
        out.append(_day_deadline("follow_up", handled, follow_up_days, first(events, "followed_up"),
                                 day_calendar, spans, paused))  # CMP-4
        if forwarded:
            out.append(_day_deadline("hq_report", handled, hq_report_days, first(events, "hq_reported"),
                                     day_calendar, spans, paused))  # CMP-5
    return out


def _day_deadline(key, start, days, done, calendar, spans, paused) -> Deadline:
    due = calendar.add_working_days(start, days)
    # time spent waiting on the customer inside the window moves the deadline on
    waited = calendar.working_time_between(start, due) - calendar.working_time_between(start, due, spans)
    if waited > timedelta(0):
        due = calendar.add_working_time(due, waited)
    return Deadline(key, start, due, done, paused and done is None)


def report_due(month: date, calendar, working_days: int) -> date:
    """CMP-5: the ``working_days``-th working day of the month after ``month``."""
    following = add_months(month.replace(day=1), 1)
    return calendar.add_working_days(following - timedelta(days=1), working_days)


def month_of(day: date) -> date:
    return day.replace(day=1)


def median(values: Sequence[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def pareto(counts: dict[str, int]) -> list[tuple[str, int, float]]:
    """Causes by frequency with their cumulative share in percent."""
    total = sum(counts.values())
    out, running = [], 0
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        running += n
        out.append((key, n, round(100 * running / total, 1) if total else 0.0))
    return out


def counts_as_quality_complaint(validity: str | None) -> bool:
    """CMP-2: an invalid complaint is archived and not counted as a valid service-quality complaint."""
    return validity == "valid"


def attitude_fine_due(category: str, validity: str | None, concerned_staff_id, already: bool) -> bool:
    """CMP-7: a confirmed service-attitude complaint about an employee, fined once."""
    return category == "attitude" and validity == "valid" and concerned_staff_id is not None and not already


def dismissal_review(attitude_count: int, threshold: int) -> bool:
    """CMP-7: dismissal on repetition (the ``threshold``-th confirmed attitude complaint)."""
    return attitude_count >= threshold


def manager_review(count_in_window: int, threshold: int) -> bool:
    """CMP-7: three or more complaints in half a year -> demotion or dismissal review."""
    return count_in_window >= threshold


def hours(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 3600, 1)
