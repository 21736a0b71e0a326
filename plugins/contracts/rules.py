"""The service-contract regulations (CON-1..6) as plain functions of values.

Nothing here touches the database or the web: callers pass dates, numbers
and a ``fuwu.calendar.WorkCalendar`` (a value that knows holidays and
working hours) and get values back, so every rule is tested with a table of
cases. ``services.py`` loads the rows and calls these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fuwu import dates
from fuwu.dates import add_months
from fuwu.i18n import N_, stored_params

DEFAULT_TZ = "Asia/Shanghai"

# --- Service periods (CON-1, CON-2) -------------------------------------------


def period_start(signed_on: date, installed_on: date | None) -> date:
    """CON-1: the service period starts on the installation date, or on the
    signing date while the installation date is unknown."""
    return installed_on or signed_on


def first_period(signed_on: date, installed_on: date | None, ends_on: date | None) -> tuple[date, date] | None:
    """``(start, end)`` of a service contract's first period, or None.

    CON-1 gives the start; CON-2 the end: the period follows the contract's
    validity. A contract without an end date (or one that ends before the
    software was installed) has no period yet.
    """
    if ends_on is None:
        return None
    start = period_start(signed_on, installed_on)
    if ends_on < start:
        return None
    return start, ends_on


@dataclass(frozen=True)
class PeriodFacts:
    """What the rules need to know of one service period."""

    id: int | None
    contract_id: int
    customer_id: int
    starts_on: date
    ends_on: date
    #: products the contract covers; empty means every product of the customer
    product_ids: frozenset[int] = frozenset()

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


def local_day(at: date | datetime, tz: str | ZoneInfo = DEFAULT_TZ) -> date:
    """The calendar day of ``at`` where the company works (aware datetimes only)."""
    if isinstance(at, datetime):
        if at.tzinfo is None or at.tzinfo.utcoffset(at) is None:
            raise ValueError("aware datetime needed")
        return at.astimezone(ZoneInfo(tz) if isinstance(tz, str) else tz).date()
    return at


def covering_period(periods: Iterable[PeriodFacts], *, customer_id: int, at: date | datetime,
                    product_id: int | None = None, tz: str | ZoneInfo = DEFAULT_TZ) -> PeriodFacts | None:
    """Which period, if any, covers this customer (and product) at this moment.

    The one answer every page, the SLA service and the visit log use
    (CON-1, CON-2). ``product_id`` None asks about any product. When two
    contracts cover the same day the period ending last wins (the customer
    gets the longest cover), then the newest.
    """
    day = local_day(at, tz)
    found = [p for p in periods
             if p.customer_id == customer_id and p.covers(day)
             and (product_id is None or not p.product_ids or product_id in p.product_ids)]
    return max(found, key=lambda p: (p.ends_on, p.id or 0), default=None)


def overlapping(periods: Iterable[PeriodFacts], starts_on: date, ends_on: date,
                exclude_id: int | None = None) -> PeriodFacts | None:
    """A period of the same contract sharing at least one day with ``starts_on..ends_on``."""
    for p in periods:
        if p.id is not None and p.id == exclude_id:
            continue
        if p.starts_on <= ends_on and starts_on <= p.ends_on:
            return p
    return None


def period_end(start: date, months: int) -> date:
    """Last day of a period of ``months`` starting on ``start``: the day before
    the same day ``months`` later; when that day does not exist (Feb 29 -> a
    common year), the end of that month."""
    later = add_months(start, months)
    return later - timedelta(days=1) if later.day == start.day else later


def renewal_proposal(current_end: date, months: int) -> tuple[date, date]:
    """CON-5: the period a renewal proposes: from the day after the current
    one ends, ``months`` long (setting ``contracts.renewal_months``)."""
    start = current_end + timedelta(days=1)
    return start, period_end(start, months)


def warranty_state(period: PeriodFacts | None) -> str:
    """``"in"`` while a period covers the day asked about, else ``"out"`` (CON-3)."""
    return "in" if period is not None else "out"


def days_left(ends_on: date, today: date) -> int:
    """Days from today to the period's last day (0 = ends today, negative = ended)."""
    return (ends_on - today).days


def urgency(left: int, *, urgent_days: int, soon_days: int) -> str:
    """CON-5 colour of the expiry board: expired / urgent / soon / later."""
    if left < 0:
        return "expired"
    if left <= urgent_days:
        return "urgent"
    if left <= soon_days:
        return "soon"
    return "later"


def reminder_stage(left: int, *, window_days: int, urgent_days: int) -> str | None:
    """CON-5: which reminder a contract is due (each is sent once per period end).

    ``window`` when it enters the expiry window, ``urgent`` when few days are
    left, ``expired`` on the day after it ended without a renewal.
    """
    if left < 0:
        return "expired"
    if left <= urgent_days:
        return "urgent"
    if left <= window_days:
        return "window"
    return None


# --- SLA levels (CON-3) -------------------------------------------------------

UNITS = ("hours", "days")
CLOCKS = ("working", "24x7")


@dataclass(frozen=True)
class Milestone:
    key: str
    label: str
    amount: int
    #: "hours" of the level's clock, or "days" (working days on a working clock)
    unit: str = "hours"


@dataclass(frozen=True)
class Deadline:
    key: str
    label: str
    amount: int
    unit: str
    due: datetime


def milestone_deadlines(started_at: datetime, milestones: Sequence[Milestone], calendar) -> list[Deadline]:
    """Every milestone's deadline for an incident raised at ``started_at`` (CON-3).

    ``calendar`` is the site's working calendar for a level on working hours
    (holidays, make-up workdays, lunch break) or its round-the-clock variant
    for a 7x24 level. Hours are counted on that clock; days are working days
    on a working clock and calendar days on a 7x24 one, keeping the time of
    day. Results are aware datetimes in the calendar's zone.
    """
    if started_at.tzinfo is None or started_at.tzinfo.utcoffset(started_at) is None:
        raise ValueError("started_at must be an aware datetime")
    result = []
    for m in milestones:
        if m.unit == "days":
            due = calendar.add_working_days(started_at, m.amount)
        else:
            due = calendar.add_working_time(started_at, timedelta(hours=m.amount))
        result.append(Deadline(m.key, m.label, m.amount, m.unit, due))
    return result


#: The levels every site starts with (CON-3). A milestone without its own
#: number takes the setting named here, whose default is the regulation's.
BUILTIN_LEVELS = [
    # code, name, in warranty, clock, milestones (key, label, setting, unit)
    ("warranty", N_("Within warranty"), True, "working", [
        ("respond", N_("Respond"), "contracts.sla_respond_hours", "hours"),         # CON-3: 2 h
        ("dispatch", N_("Technician dispatched"), "contracts.sla_dispatch_hours", "hours"),  # CON-3: 8 h
        ("on_site", N_("On site"), "contracts.sla_on_site_hours", "hours"),         # CON-3: 24 h
        ("resolved", N_("Resolved"), "contracts.sla_resolve_hours", "hours"),       # CON-3: 48 h
    ]),
    ("out_of_warranty", N_("Out of warranty (at cost, 7x24)"), False, "24x7", [
        ("respond", N_("Respond"), "contracts.sla_respond_hours", "hours"),
        ("dispatch", N_("Technician dispatched"), "contracts.sla_dispatch_hours", "hours"),
        ("on_site", N_("On site"), "contracts.sla_on_site_hours", "hours"),
        ("resolved", N_("Resolved"), "contracts.sla_resolve_hours", "hours"),
    ]),
    ("factory_repair", N_("Return-to-factory repair"), True, "working", [
        ("proposal", N_("Solution proposal"), "contracts.sla_proposal_days", "days"),  # CON-3: 2 days
        ("repaired", N_("Repaired and returned"), "contracts.sla_repair_days", "days"),  # CON-3: 5 working days
    ]),
]


# --- Free visits (CON-4) ------------------------------------------------------

POLICIES = ("visits", "days")
PROBLEMS = ("software", "hardware")


@dataclass(frozen=True)
class VisitFacts:
    """One on-site visit as the entitlement rule sees it."""

    key: object
    day: date
    #: first day of the free-visit window covering the day; None: no period covers it
    window_start: date | None
    problem: str = "software"
    manufacturer_warranty: bool = False


@dataclass(frozen=True)
class Entitlement:
    free: bool
    #: untranslated sentence saying why (stored, shown in the reader's language)
    reason: str
    params: dict = field(default_factory=dict)
    #: n-th software visit of its window (visits policy), else None
    ordinal: int | None = None


def free_until(window_start: date, free_days: int, calendar) -> date:
    """CON-4 (days policy): the last day of the first ``free_days`` working days
    of normal use; the window's first day counts when it is a working day."""
    return calendar.add_working_days(window_start - timedelta(days=1), free_days)


def visit_entitlements(visits: Iterable[VisitFacts], *, policy: str, free_visits: int, free_days: int,
                       calendar) -> dict[object, Entitlement]:
    """Free or charged, and why, for each visit of one contract (CON-4).

    - no period covers the day: out of warranty, charged at cost (CON-3);
    - hardware follows the manufacturer's warranty, whatever the policy;
    - policy "visits": the first ``free_visits`` software visits of a window
      are free, from the next one on they are charged (004 charging §2);
    - policy "days": software visits during the first ``free_days`` working
      days of normal use are free, later ones charged (004 charging §4).
    Visits are counted in date order (ties in the order given).
    """
    result: dict[object, Entitlement] = {}
    counted: dict[date, int] = {}
    for v in sorted(visits, key=lambda v: v.day):
        if v.problem == "hardware":
            result[v.key] = (Entitlement(True, N_("Hardware covered by the manufacturer's warranty"))
                             if v.manufacturer_warranty else
                             Entitlement(False, N_("Hardware outside the manufacturer's warranty: charged")))
            continue
        if v.window_start is None:
            result[v.key] = Entitlement(False, N_("Out of warranty: no service period covers this day"))
            continue
        if policy == "days":
            until = free_until(v.window_start, free_days, calendar)
            params = stored_params({"limit": free_days, "until": until})  # the day in the reader's format
            result[v.key] = (
                Entitlement(True, N_("Within the first %(limit)s working days of normal use (free until %(until)s)"),
                            params)
                if v.day <= until else
                Entitlement(False, N_("After the first %(limit)s working days of normal use (free until "
                                      "%(until)s): charged"), params))
            continue
        n = counted.get(v.window_start, 0) + 1
        counted[v.window_start] = n
        params = {"n": str(n), "limit": str(free_visits)}
        result[v.key] = (Entitlement(True, N_("Free visit %(n)s of %(limit)s"), params, n) if n <= free_visits else
                         Entitlement(False, N_("Visit %(n)s is beyond the %(limit)s free visits: charged"), params, n))
    return result


def is_charged(free: bool, decision: str | None) -> bool:
    """CON-4: when the customer disputed the charge, the salesperson's or
    department head's decision stands and the engineer follows it."""
    if decision == "waive":
        return False
    if decision == "charge":
        return True
    return not free


@dataclass(frozen=True)
class Allowance:
    """What is left of the free-visit entitlement on a day (customer panel)."""

    policy: str
    visits_left: int | None = None
    free_until: date | None = None
    working_days_left: int | None = None


def allowance(*, policy: str, free_visits: int, free_days: int, window_start: date | None,
              used: int, today: date, calendar) -> Allowance | None:
    """Free visits (or free working days) left today; None out of warranty."""
    if window_start is None:
        return None
    if policy == "days":
        until = free_until(window_start, free_days, calendar)
        left = calendar.working_days_between(today, until) + (1 if calendar.is_workday(today) else 0)
        return Allowance(policy, free_until=until, working_days_left=max(0, left) if today <= until else 0)
    return Allowance(policy, visits_left=max(0, free_visits - used))


# --- Renewal (CON-5) and the monthly plan (CON-6) -----------------------------

#: the renewal's steps in order (000 §7.4): proposal, agreement with the
#: customer (the new period), contacting the customer, updating the software
RENEWAL_STEPS = ("proposed", "agreed", "contacted", "updated", "done")
RENEWAL_CLOSED = ("done", "declined")


def progress(state: str | None) -> tuple[int, int] | None:
    """``(steps done, steps in all)`` of a renewal; None when declined or absent."""
    if state not in RENEWAL_STEPS:
        return None
    return RENEWAL_STEPS.index(state), len(RENEWAL_STEPS) - 1


def parse_month(text: str | None, today: date) -> date:
    """First day of the month ``YYYY-MM``; this month when absent or malformed."""
    return dates.parse_month(text) or today.replace(day=1)


def month_end(first: date) -> date:
    return add_months(first, 1) - timedelta(days=1)
