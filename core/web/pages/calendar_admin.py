"""Working calendar (CORE calendar): a year as the deadline rules see it, and the deployer's days.

The year view shows every public holiday and make-up workday (调休) the
calendar applies, and where each comes from: a day entered here, the
installed ``chinese-calendar`` package, or the estimate used for years the
package does not carry (weekends and statutory holidays only, no make-up
workdays). For such a year the page says so loudly until an administrator
enters the State Council's arrangement and marks it official.
"""

from __future__ import annotations

import calendar as pycalendar
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import metadata

import chinese_calendar
import holidays as holidays_lib
from babel.dates import get_day_names
from sqlalchemy import extract, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import i18n
from ...calendar_days import CalendarDay, site_calendar
from ...errors import NotFound
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ..endpoint import requires
from ..export import export_response
from ..forms import Field, Form
from ..shell import flash_redirect

PERMISSION = "core.settings.manage"
MIN_YEAR, MAX_YEAR = 2000, 2100
#: one entry covers at most this many days (a long closure is entered in parts)
MAX_SPAN_DAYS = 62

KINDS = {
    "closed": _l("Day off (company closure or public holiday)"),
    "working": _l("Working day (extra or make-up workday)"),
}

#: English names from chinese-calendar and holidays.China -> translatable names
HOLIDAY_NAMES = [
    ("anti-fascist", _l("War of Resistance victory anniversary")),
    ("new year's eve", _l("Spring Festival")),
    ("chinese new year", _l("Spring Festival")),
    ("spring festival", _l("Spring Festival")),
    ("new year", _l("New Year's Day")),
    ("tomb", _l("Qingming Festival")),
    ("labo", _l("Labour Day")),
    ("dragon boat", _l("Dragon Boat Festival")),
    ("mid-autumn", _l("Mid-Autumn Festival")),
    ("national day", _l("National Day")),
]


def holiday_label(name: str | None) -> str:
    if not name:
        return ""
    lowered = name.lower()
    for marker, label in HOLIDAY_NAMES:
        if marker in lowered:
            return str(label)
    return name


def package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def package_version() -> str:
    try:
        return metadata.version("chinese-calendar")
    except metadata.PackageNotFoundError:
        return getattr(chinese_calendar, "__version__", "")


def day_form() -> Form:
    return Form([
        Field("day", _l("Date"), kind="date", required=True, minimum=date(MIN_YEAR, 1, 1),
              maximum=date(MAX_YEAR, 12, 31)),
        Field("until", _l("Until"), kind="date", minimum=date(MIN_YEAR, 1, 1), maximum=date(MAX_YEAR, 12, 31),
              help=_l("Optional: the last day of a run of days, such as a week-long holiday.")),
        Field("kind", _l("The day is"), kind="choice", required=True, choices=lambda: list(KINDS.items())),
        Field("note", _l("Note"), max_length=200),
        Field("official", _l("Part of the State Council's official arrangement"), kind="bool",
              help=_l("Tick for the published holiday arrangement; it also tells the calendar that "
                      "the year's make-up workdays are known.")),
    ])


@dataclass
class DayInfo:
    day: date
    working: bool
    #: workday, weekend, holiday, makeup (a weekend worked), closure, extra (entered here)
    kind: str
    source: str  # entered, package, estimate, "" for ordinary days
    name: str = ""
    note: str = ""

    @property
    def special(self) -> bool:
        return self.kind not in ("workday", "weekend")


def _year(request: Request) -> int:
    site = request.app.state.site
    try:
        year = int(request.query_params.get("year", ""))
    except ValueError:
        return site.day_of().year
    return year if MIN_YEAR <= year <= MAX_YEAR else site.day_of().year


def year_days(cal, year: int, entered: dict[date, CalendarDay]) -> list[DayInfo]:
    """Every day of ``year`` as ``cal`` sees it, with where an exception comes from."""
    covered = package_covers(year)
    statutory = {} if covered else dict(holidays_lib.China(years=year))
    days = []
    day = date(year, 1, 1)
    while day.year == year:
        working = cal.is_workday(day)
        weekend = day.weekday() >= 5
        row = entered.get(day)
        if row is not None:
            if row.official:
                kind = "makeup" if working else "holiday"
            else:
                kind = "extra" if working else "closure"
            days.append(DayInfo(day, working, kind, "entered", note=row.note))
        else:
            # a holiday falling on a weekend is listed too, so a holiday week reads whole
            name = chinese_calendar.get_holiday_detail(day)[1] if covered else statutory.get(day)
            if weekend == working or (name and not working):
                kind = "makeup" if working else "holiday"
                days.append(DayInfo(day, working, kind, "package" if covered else "estimate", holiday_label(name)))
            else:
                days.append(DayInfo(day, working, "workday" if working else "weekend", ""))
        day += timedelta(days=1)
    return days


def month_grid(year: int, days: list[DayInfo]) -> list[tuple[date, list[list[DayInfo | None]]]]:
    by_day = {d.day: d for d in days}
    months = []
    for month in range(1, 13):
        weeks = [[by_day.get(d) if d.month == month else None for d in week]
                 for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month)]
        months.append((date(year, month, 1), weeks))
    return months


def _year_of(request: Request, year: int):
    """The site's calendar, the days entered for ``year`` and every day of it."""
    cal = site_calendar(request.app.state.site, request.state.db)
    rows = request.state.db.scalars(select(CalendarDay).where(extract("year", CalendarDay.day) == year)
                                    .order_by(CalendarDay.day)).all()
    return cal, rows, year_days(cal, year, {r.day: r for r in rows})


KIND_LABELS = {"holiday": _l("Holiday"), "makeup": _l("Make-up workday"), "closure": _l("Company closure"),
               "extra": _l("Extra workday")}
SOURCE_LABELS = {"entered": _l("Entered here"), "package": _l("Holiday package"),
                 "estimate": _l("Estimate (statutory holidays only)")}


def _export(request: Request, year: int) -> Response:
    """The year's holidays and make-up workdays, as the page lists them."""
    _cal, _rows, days = _year_of(request, year)
    weekday_names = get_day_names("abbreviated", locale=i18n.babel_locale())
    return export_response(
        request.query_params["format"], _("Working calendar %(year)s", year=year),
        [_("Date"), _("Weekday"), _("Kind"), _("Holiday or note"), _("Source")],
        ([d.day, weekday_names[d.day.weekday()], str(KIND_LABELS[d.kind]),
          " · ".join(part for part in (d.name, d.note) if part), str(SOURCE_LABELS[d.source])]
         for d in days if d.special))


def _render(request: Request, year: int, form: Form, *, status: int = 200) -> Response:
    site = request.app.state.site
    db = request.state.db
    cal, rows, days = _year_of(request, year)
    other_years = Counter(d.year for d in db.scalars(select(CalendarDay.day)) if d.year != year)
    today = site.day_of()
    next_uncovered = (year == today.year and bool(cal.uncovered_years(date(year + 1, 1, 1), date(year + 1, 1, 1))))
    weekday_names = get_day_names("abbreviated", locale=i18n.babel_locale())
    return request.app.state.templates.render(
        request, "core/calendar/year.html",
        {"year": year, "days": [d for d in days if d.special], "months": month_grid(year, days),
         "weekday_names": [weekday_names[i] for i in range(7)], "rows": rows,
         "other_years": sorted(other_years.items()), "form": form,
         "uncovered": bool(cal.uncovered_years(date(year, 1, 1), date(year, 12, 31))),
         "package_covers": package_covers(year), "package_version": package_version(),
         "next_uncovered": next_uncovered, "kind_labels": KIND_LABELS, "source_labels": SOURCE_LABELS,
         "workdays": sum(1 for d in days if d.working), "title": _("Working calendar %(year)s", year=year)},
        status=status)


@requires(PERMISSION)
def calendar_page(request: Request) -> Response:
    year = _year(request)
    if request.query_params.get("format") in ("csv", "xlsx"):
        return _export(request, year)
    form = day_form()
    form.fill(None, kind="closed")
    return _render(request, year, form)


@requires(PERMISSION)
def calendar_day_add(request: Request) -> Response:
    db = request.state.db
    form = day_form()
    if form.load(request.state.form):
        first, last = form.values["day"], form.values["until"] or form.values["day"]
        if last < first:
            form.error("until", _l("The last day cannot come before the first."))
        elif (last - first).days + 1 > MAX_SPAN_DAYS:
            form.error("until", _l("At most %(n)s days at once.", n=MAX_SPAN_DAYS))
        else:
            taken = db.scalars(select(CalendarDay.day).where(CalendarDay.day.between(first, last))
                               .order_by(CalendarDay.day)).all()
            if taken:
                form.error("day", _l("Already entered: %(dates)s. Delete the entry first to change it.",
                                     dates=i18n.listed(i18n.format_day(d) for d in taken)))
    if form.errors:
        day = form.values.get("day")
        site = request.app.state.site
        year = day.year if isinstance(day, date) else _int(request.state.form.get("year"), site.day_of().year)
        return _render(request, year, form, status=422)
    values = form.values
    working = values["kind"] == "working"
    day = first
    count = 0
    while day <= last:
        db.add(CalendarDay(day=day, working=working, note=values["note"], official=values["official"]))
        day += timedelta(days=1)
        count += 1
    db.flush()
    url = f"{request.url_for('calendar').path}?year={first.year}#days"
    message = (_("%(date)s entered.", date=i18n.format_day(first)) if count == 1
               else _("%(count)s days entered, %(first)s to %(last)s.", count=count, first=i18n.format_day(first),
                      last=i18n.format_day(last)))
    return flash_redirect(request, url, message)


@requires(PERMISSION)
def calendar_day_delete(request: Request) -> Response:
    db = request.state.db
    row = db.get(CalendarDay, request.path_params["day_id"])
    if row is None:
        raise NotFound()
    day = row.day
    db.delete(row)
    db.flush()
    url = f"{request.url_for('calendar').path}?year={day.year}#days"
    return flash_redirect(request, url, _("%(date)s deleted.", date=i18n.format_day(day)))


@requires(PERMISSION)
def calendar_day_official(request: Request) -> Response:
    """Mark an entered day as part of the official arrangement, or take the mark away."""
    db = request.state.db
    row = db.get(CalendarDay, request.path_params["day_id"])
    if row is None:
        raise NotFound()
    row.official = request.state.form.get("official") == "1"
    db.flush()
    url = f"{request.url_for('calendar').path}?year={row.day.year}#days"
    message = (_("%(date)s marked as part of the official arrangement.", date=i18n.format_day(row.day)) if row.official
               else _("%(date)s is now a company choice, not part of the official arrangement.",
                      date=i18n.format_day(row.day)))
    return flash_redirect(request, url, message)


def _int(value, default: int) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        return default
    return year if MIN_YEAR <= year <= MAX_YEAR else default


def routes() -> list:
    return [
        Route("/calendar", calendar_page, name="calendar"),
        Route("/calendar/days", calendar_day_add, methods=["POST"], name="calendar_day_add"),
        Route("/calendar/days/{day_id:int}/delete", calendar_day_delete, methods=["POST"],
              name="calendar_day_delete"),
        Route("/calendar/days/{day_id:int}/official", calendar_day_official, methods=["POST"],
              name="calendar_day_official"),
    ]
