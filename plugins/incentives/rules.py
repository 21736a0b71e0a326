"""The ledger's rules as plain functions of values (no I/O).

The ledger implements no regulation number of its own: it books what the
rule plugins earn people (TRV-8, CMP-7, RES-4, RES-5, RES-7, RES-8, SD-9).
What it decides is bookkeeping: which month an entry belongs to, which
entries are payable, what may change once a month is closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from fuwu import dates

DEFAULT_TZ = "Asia/Shanghai"

#: proposed -> confirmed | waived (manager); proposed/confirmed -> disputed
#: (the employee) -> confirmed (dispute rejected) | waived (dispute upheld)
STATES = ("proposed", "confirmed", "waived", "disputed")
#: what payroll pays or deducts
PAYABLE = ("confirmed",)


def idempotency_key(kind: str, source_id: object, rule_id: str) -> str:
    """One entry per cause and rule, however often a job runs or an event fires."""
    return f"{kind}:{source_id}:{rule_id}"[:200]


def month_of(at: datetime, tz: str = DEFAULT_TZ) -> str:
    """``YYYY-MM`` of an aware moment where the company works."""
    if at.tzinfo is None or at.tzinfo.utcoffset(at) is None:
        raise ValueError("aware datetime needed")
    return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m")


def next_month(month: str) -> str:
    """The ``YYYY-MM`` after ``month`` (``2026-12`` -> ``2027-01``)."""
    return f"{dates.add_months(dates.parse_month(month), 1):%Y-%m}"


def parse_month(text: str | None) -> str | None:
    """``YYYY-MM`` normalised, or None when the text is not a month."""
    first = dates.parse_month(text)
    return f"{first:%Y-%m}" if first else None


def booking_month(at: datetime, closed: Iterable[str], tz: str = DEFAULT_TZ) -> str:
    """The month an entry recorded at ``at`` belongs to: its own month, or,
    when finance has closed that month, the first open one after it (a late
    cause never changes a closed month)."""
    month = month_of(at, tz)
    closed = set(closed)
    while month in closed:
        month = next_month(month)
    return month


def may_review(state: str, month_closed: bool) -> bool:
    return state == "proposed" and not month_closed


def may_dispute(state: str, month_closed: bool, today: date, last_day: date | None) -> bool:
    """The employee may dispute a proposed or confirmed entry while its month
    is open and within the dispute window (setting incentives.dispute_days)."""
    if month_closed or state not in ("proposed", "confirmed"):
        return False
    return last_day is None or today <= last_day


def may_decide(state: str, month_closed: bool) -> bool:
    return state == "disputed" and not month_closed


@dataclass
class Totals:
    rewards: Decimal = Decimal("0.00")
    fines: Decimal = Decimal("0.00")
    count: int = 0
    waived: Decimal = Decimal("0.00")
    #: proposed or disputed: payable only once confirmed
    pending: Decimal = Decimal("0.00")

    @property
    def net(self) -> Decimal:
        return self.rewards + self.fines

    def add(self, amount: Decimal, state: str, count: int = 1) -> None:
        """``amount`` may be the sum of ``count`` entries of one sign and state."""
        self.count += count
        if state == "waived":
            self.waived += amount
        elif state not in PAYABLE:
            self.pending += amount
        elif amount >= 0:
            self.rewards += amount
        else:
            self.fines += amount


@dataclass
class Summary:
    """A month's payable totals per employee and per department."""

    total: Totals = field(default_factory=Totals)
    staff: dict = field(default_factory=dict)
    departments: dict = field(default_factory=dict)


def summarise(rows: Iterable[tuple]) -> Summary:
    """``rows``: (staff key, department key, amount, state[, count]): one per
    entry, or sums of entries of one sign and state (the database groups)."""
    s = Summary()
    for staff, dept, amount, state, *rest in rows:
        count = rest[0] if rest else 1
        s.total.add(amount, state, count)
        s.staff.setdefault(staff, Totals()).add(amount, state, count)
        s.departments.setdefault(dept, Totals()).add(amount, state, count)
    return s
