"""The dates fuwu takes from people: the range it accepts, and a month
typed or linked as ``YYYY-MM``.

Python's calendar ends at the years 1 and 9999. A date accepted near either
end fails a page later, when it is moved to UTC or a period is added to it,
so forms, links and plugins take dates within ``EARLIEST``..``LATEST`` only:
any a service record could need.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime

EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


def accepted(day: date) -> bool:
    """Whether ``day`` is in the range fuwu takes."""
    return EARLIEST <= day <= LATEST


def parse_date(text: str | None) -> date | None:
    """``YYYY-MM-DD`` as a date, or None when it is not one in the accepted range."""
    try:
        value = date.fromisoformat(str(text).strip())
    except (TypeError, ValueError):
        return None
    return value if accepted(value) else None


def parse_datetime(text: str | None) -> datetime | None:
    """An ISO date and time (as a ``datetime-local`` input sends it), or None
    when it is not one in the accepted range; naive unless the text has an offset."""
    try:
        value = datetime.fromisoformat(str(text).strip())
    except (TypeError, ValueError):
        return None
    return value if accepted(value.date()) else None


def parse_month(text: str | None) -> date | None:
    """The first day of the month ``YYYY-MM`` (``2027-1`` too), or None when
    ``text`` is not a month in the accepted range."""
    try:
        year, month = (int(part) for part in str(text).split("-"))
        first = date(year, month, 1)
    except (TypeError, ValueError):
        return None
    return first if accepted(first) else None


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clipped to that month's end
    (January 31 + 1 month = February 28 or 29); the first of a month stays the first."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
