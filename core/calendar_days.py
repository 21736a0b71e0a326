"""The deployer's side of the working-day calendar: days entered by an admin.

An admin enters company closures, extra workdays, and (for a year the
installed holiday package does not cover yet) the official State Council
arrangement, marking those rows ``official``. ``site_calendar`` combines them
with the working-hours setting into the ``WorkCalendar`` every rule uses.
"""

from __future__ import annotations

import unicodedata
from datetime import date, time

from sqlalchemy import Boolean, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .calendar import WorkCalendar, WorkingHours
from .db import Model
from .i18n import lazy_gettext as _l


class CalendarDay(Model):
    __tablename__ = "core_calendar_day"

    day: Mapped[date] = mapped_column(unique=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")
    #: part of the State Council's published arrangement (not a company choice)
    official: Mapped[bool] = mapped_column(Boolean, default=False)


def parse_hours(text: str) -> WorkingHours:
    """``"09:00-12:00,13:30-18:00"`` (full-width punctuation too) -> WorkingHours;
    ValueError with the message if malformed (the setting's ``check``)."""
    try:
        periods = []
        for part in unicodedata.normalize("NFKC", str(text)).split(","):
            start, end = part.strip().split("-")
            periods.append((time.fromisoformat(start.strip()), time.fromisoformat(end.strip())))
        return WorkingHours(tuple(periods))
    except ValueError:
        raise ValueError(_l("Use the form 09:00-12:00,13:30-18:00.")) from None


def site_calendar(site, session: Session, *, round_the_clock: bool = False) -> WorkCalendar:
    """The site's calendar, built once per unit of work."""
    key = ("fuwu_calendar", round_the_clock)
    cached = session.info.get(key)
    if cached is None:
        rows = session.execute(select(CalendarDay.day, CalendarDay.working, CalendarDay.official)).all()
        cached = WorkCalendar(
            tz=site.config.timezone,
            hours=parse_hours(site.settings.get("core.working_hours", session)),
            overrides={row.day: row.working for row in rows},
            official_years={row.day.year for row in rows if row.official},
            round_the_clock=round_the_clock,
        )
        session.info[key] = cached
    return cached
