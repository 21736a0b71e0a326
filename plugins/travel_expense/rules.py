"""The travel-expense regulation as plain functions of values (no I/O).

TRV-1 standards by grade, TRV-2 lodging cap, TRV-3 trip days, TRV-6
reimbursement and settlement against the advance. Every amount comes with the
lines that explain it: ``(message, params)`` pairs, untranslated, so each
reader sees them in their own language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from fuwu.i18n import N_

CENT = Decimal("0.01")
HALF = Decimal("0.5")
ONE = Decimal("1")

#: Transport classes, cheapest first; a grade allows its class and any cheaper one (TRV-1).
TRANSPORT_CLASSES = ("bus", "train_hard_seat", "train_hard_sleeper", "train_second_class", "train_soft_sleeper",
                     "train_first_class", "plane_economy", "plane_business")

LINE_KINDS = ("transport", "lodging", "local", "other")


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(value: Decimal) -> str:
    return f"{money(value):.2f}"


def fmt_days(days: Decimal) -> str:
    text = f"{days.normalize():f}"
    return text


# --- TRV-3 trip days ---------------------------------------------------------------


def trip_days(departed: datetime, returned: datetime, *, tz: str = "Asia/Shanghai",
              cutoff: time = time(12, 0)) -> Decimal:
    """Days of a trip from the transport's departure to its return (TRV-3).

    Leaving before ``cutoff`` counts the first day full, at or after it half;
    returning after ``cutoff`` counts the last day full, at or before it half.
    Exactly 12:00 is therefore half a day on both ends (the morning at the
    office or the afternoon back at work). A same-day trip is one day when it
    spans the cutoff, else half a day. Days in between count full.
    """
    if departed.tzinfo is None or returned.tzinfo is None:
        raise ValueError("aware datetimes required")
    if returned <= departed:
        raise ValueError("return before departure")
    zone = ZoneInfo(tz)
    start, end = departed.astimezone(zone), returned.astimezone(zone)
    first = ONE if start.time() < cutoff else HALF
    last = ONE if end.time() > cutoff else HALF
    if start.date() == end.date():
        return ONE if (first == ONE and last == ONE) else HALF
    between = (end.date() - start.date()).days - 1
    return first + last + Decimal(between)


# --- TRV-1 standards ------------------------------------------------------------------


@dataclass(frozen=True)
class Standard:
    grade: str
    transport_class: str
    lodging_cap: Decimal
    meal_rate: Decimal


def pick_standard(rows, grade: str, on: date, fallback: Standard) -> Standard:
    """The standard of ``grade`` in force on ``on`` (TRV-1): the row with the
    latest ``effective_from`` not after ``on``; the settings' general-staff
    standard when the grade has none."""
    best = None
    for row in rows:
        if row.grade == grade and row.effective_from <= on and (best is None or row.effective_from > best.effective_from):
            best = row
    if best is None:
        return Standard(grade, fallback.transport_class, fallback.lodging_cap, fallback.meal_rate)
    return Standard(grade, best.transport_class, money(best.lodging_cap), money(best.meal_rate))


def class_allowed(used: str, allowed: str) -> bool:
    """TRV-1: the class used is the allowed one or cheaper."""
    if used not in TRANSPORT_CLASSES or allowed not in TRANSPORT_CLASSES:
        return False
    return TRANSPORT_CLASSES.index(used) <= TRANSPORT_CLASSES.index(allowed)


# --- TRV-2, TRV-6 the claim ----------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    kind: str
    amount: Decimal
    description: str = ""
    nights: int = 0
    invoice: bool = False
    transport_class: str = ""


@dataclass
class Computation:
    days: Decimal
    meals: Decimal = Decimal("0.00")
    transport: Decimal = Decimal("0.00")
    lodging_actual: Decimal = Decimal("0.00")
    lodging_paid: Decimal = Decimal("0.00")
    employee_bears: Decimal = Decimal("0.00")
    local: Decimal = Decimal("0.00")
    other: Decimal = Decimal("0.00")
    above_class: bool = False
    errors: list = field(default_factory=list)
    explanation: list = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return money(self.meals + self.transport + self.lodging_paid + self.local + self.other)


def lodging(actual: Decimal, nights: int, cap: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """TRV-2: (cap for the stay, paid, borne by the employee). Below the cap
    only the actual amount is paid; above it the excess is the employee's."""
    limit = money(cap * nights)
    paid = min(money(actual), limit)
    return limit, paid, money(actual) - paid


def compute(lines, days: Decimal, standard: Standard) -> Computation:
    """Every amount of a reimbursement with its explanation, line by line."""
    result = Computation(days=days)
    out = result.explanation
    result.meals = money(days * standard.meal_rate)
    out.append((N_("Meals: %(days)s days x %(rate)s = %(amount)s"),
                {"days": fmt_days(days), "rate": fmt(standard.meal_rate), "amount": fmt(result.meals)}))
    for i, line in enumerate(lines, start=1):
        amount = money(line.amount)
        if line.kind == "transport":
            result.transport += amount
            if line.transport_class and not class_allowed(line.transport_class, standard.transport_class):
                result.above_class = True
                out.append((N_("Line %(n)s transport %(description)s: %(amount)s, class %(used)s is above the "
                               "standard %(allowed)s; paid in full only with the approver's consent"),
                            {"n": i, "description": line.description, "amount": fmt(amount),
                             "used": line.transport_class, "allowed": standard.transport_class}))
            else:
                out.append((N_("Line %(n)s transport %(description)s: actual %(amount)s, within the standard "
                               "class, paid %(amount)s"),
                            {"n": i, "description": line.description, "amount": fmt(amount)}))
        elif line.kind == "lodging":
            if not line.invoice:
                result.errors.append((i, N_("Lodging needs an invoice (TRV-2).")))
            nights = max(line.nights, 1)
            limit, paid, bears = lodging(amount, nights, standard.lodging_cap)
            result.lodging_actual += amount
            result.lodging_paid += paid
            result.employee_bears += bears
            out.append((N_("Line %(n)s lodging %(nights)s nights: actual %(actual)s, cap %(cap)s, paid %(paid)s, "
                           "employee bears %(bears)s"),
                        {"n": i, "nights": nights, "actual": fmt(amount), "cap": fmt(limit), "paid": fmt(paid),
                         "bears": fmt(bears)}))
        elif line.kind == "local":
            result.local += amount
            out.append((N_("Line %(n)s local transport %(description)s: at actual cost, paid %(amount)s"),
                        {"n": i, "description": line.description, "amount": fmt(amount)}))
        else:
            result.other += amount
            out.append((N_("Line %(n)s other %(description)s: paid %(amount)s"),
                        {"n": i, "description": line.description, "amount": fmt(amount)}))
    out.append((N_("Total payable: %(total)s"), {"total": fmt(result.total)}))
    return result


# --- TRV-6 deadline and settlement -------------------------------------------------------------


def claim_due(returned_on: date, due_days: int) -> date:
    """TRV-6 "within the week after returning": ``due_days`` calendar days
    after the return day (the return day itself not counted)."""
    return returned_on + timedelta(days=due_days)


def is_late(returned_on: date, filed_on: date, due_days: int) -> bool:
    return filed_on > claim_due(returned_on, due_days)


def settlement(payable: Decimal, advanced: Decimal) -> tuple[str, Decimal, tuple]:
    """TRV-6: ('refund', amount) the employee returns the rest of the advance,
    ('payout', amount) the company pays the difference, or ('even', 0)."""
    payable, advanced = money(payable), money(advanced)
    if advanced > payable:
        diff = advanced - payable
        return "refund", diff, (N_("Advance %(advance)s - payable %(payable)s = %(diff)s returned by the employee"),
                                {"advance": fmt(advanced), "payable": fmt(payable), "diff": fmt(diff)})
    if payable > advanced:
        diff = payable - advanced
        return "payout", diff, (N_("Payable %(payable)s - advance %(advance)s = %(diff)s paid to the employee"),
                                {"advance": fmt(advanced), "payable": fmt(payable), "diff": fmt(diff)})
    return "even", Decimal("0.00"), (N_("Advance %(advance)s equals the payable amount: nothing to pay"),
                                     {"advance": fmt(advanced), "payable": fmt(payable), "diff": "0.00"})


def record_overdue(returned_on: date, today: date, grace_days: int) -> bool:
    """TRV-8: the trip is still not in the service record ``grace_days`` after return."""
    return today > returned_on + timedelta(days=grace_days)
