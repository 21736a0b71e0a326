"""Working days and working hours ("CORE calendar").

Regulation rules count deadlines in working days and working hours of the
People's Republic of China, so this module answers "is this a working day?"
and does deadline arithmetic over working time.

Which days are working days, in order of precedence:

1. Deployer overrides (``WorkCalendar(overrides={date: bool})``): closures of
   this company, extra workdays, and the State Council arrangement for a year
   that the installed ``chinese_calendar`` does not know yet (the admin enters
   it and marks the year in ``official_years``).
2. ``chinese_calendar`` (pinned in pyproject.toml): official public holidays
   *including* make-up workdays (调休) on Saturdays/Sundays. It raises
   ``NotImplementedError`` outside the years it carries (2004-2026 for 1.11.0).
3. Fallback for years it does not carry: Saturdays and Sundays are off, plus
   the statutory holidays from ``holidays.China`` -- only the entries fixed by
   law (New Year, the 4 Spring Festival days, Qingming, 2 Labour days, Dragon
   Boat, Mid-Autumn, 3 National days); its "observed" / "Day off" entries are
   guesses at the bridging arrangement and are dropped. The fallback knows no
   make-up workdays, so it is an estimate: ``uncovered_years`` lets the UI warn.

Updating for a new year: the State Council publishes the next year's
arrangement around November. Once a ``chinese-calendar`` release carries it,
the deployer runs ``pip install -U chinese-calendar`` and bumps the pin in
pyproject.toml. Until then admins enter the arrangement as overrides.

This module imports only the standard library, ``chinese_calendar`` and
``holidays`` so it stays pure and testable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays as holidays_lib

__all__ = ["WorkingHours", "WorkCalendar"]

_UTC = timezone.utc
_ONE_DAY = timedelta(days=1)
# A run of non-working days longer than this means a misconfiguration (e.g.
# overrides closing years on end); raising beats looping for ever.
_MAX_CLOSED_RUN = 3 * 366
# Markers of holidays.China entries that are estimated substitutions, not law.
_NOT_STATUTORY = ("observed", "day off")


@dataclass(frozen=True)
class WorkingHours:
    """Daily working periods, local wall-clock time, half-open ``[start, end)``.

    Periods must be sorted and non-overlapping; the default has a lunch break.
    """

    periods: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13, 30), time(18)))

    def __post_init__(self) -> None:
        periods = tuple((start, end) for start, end in self.periods)
        if not periods:
            raise ValueError("WorkingHours needs at least one period")
        previous_end: time | None = None
        for start, end in periods:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("working periods are local wall-clock times; drop the tzinfo")
            if not start < end:
                raise ValueError(f"working period {start}-{end} must end after it starts")
            if previous_end is not None and start < previous_end:
                raise ValueError("working periods must be sorted and must not overlap")
            previous_end = end
        # Normalise lists to tuples so instances stay hashable.
        object.__setattr__(self, "periods", periods)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")


def _merge_pauses(pauses: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sort pauses and merge overlaps, in UTC, so one forward sweep can skip them."""
    spans: list[tuple[datetime, datetime]] = []
    for start, end in pauses:
        _require_aware(start, "pause start")
        _require_aware(end, "pause end")
        start_utc, end_utc = start.astimezone(_UTC), end.astimezone(_UTC)
        if end_utc < start_utc:
            raise ValueError(f"pause ends before it starts: {start!r} - {end!r}")
        if end_utc > start_utc:
            spans.append((start_utc, end_utc))
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


class WorkCalendar:
    """Working days and working-time arithmetic for one deployment.

    All datetime arithmetic is done in UTC (aware subtraction with a shared
    tzinfo would use wall-clock time and be wrong across DST); working periods
    are built per local day in ``tz``. Results are aware datetimes in ``tz``.
    """

    def __init__(
        self,
        *,
        tz: str | ZoneInfo = "Asia/Shanghai",
        hours: WorkingHours = WorkingHours(),
        overrides: Mapping[date, bool] | None = None,
        official_years: Iterable[int] = (),
        round_the_clock: bool = False,
    ) -> None:
        self.tz: ZoneInfo = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.hours = hours
        self.round_the_clock = bool(round_the_clock)
        self._overrides: dict[date, bool] = {}
        for day, working in (overrides or {}).items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise TypeError(f"override keys must be dates, got {day!r}")
            self._overrides[day] = bool(working)
        self._official_years = frozenset(int(y) for y in official_years)
        self._package_covers: dict[int, bool] = {}
        self._fallback_holidays: dict[int, frozenset[date]] = {}

    # ------------------------------------------------------------------ days

    def _covered_by_package(self, year: int) -> bool:
        covered = self._package_covers.get(year)
        if covered is None:
            try:
                chinese_calendar.is_workday(date(year, 1, 1))
                covered = True
            except NotImplementedError:
                covered = False
            self._package_covers[year] = covered
        return covered

    def _statutory_holidays(self, year: int) -> frozenset[date]:
        """Holidays fixed by law for a year the package lacks (cached per year)."""
        days = self._fallback_holidays.get(year)
        if days is None:
            days = frozenset(
                day
                for day, name in holidays_lib.China(years=year).items()
                if not any(marker in name.lower() for marker in _NOT_STATUTORY)
            )
            self._fallback_holidays[year] = days
        return days

    def is_official_year(self, year: int) -> bool:
        """True when the year's official arrangement is known (package or admin)."""
        return year in self._official_years or self._covered_by_package(year)

    def uncovered_years(self, start: date, end: date) -> list[int]:
        """Years in ``start..end`` whose working days are only estimated (warn the admin)."""
        low, high = sorted((self._to_local_date(start), self._to_local_date(end)))
        return [y for y in range(low.year, high.year + 1) if not self.is_official_year(y)]

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` (a date, or an aware datetime taken in ``tz``) is a working day."""
        if self.round_the_clock:
            return True
        day = self._to_local_date(day)
        override = self._overrides.get(day)
        if override is not None:
            return override
        if self._covered_by_package(day.year):
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5 and day not in self._statutory_holidays(day.year)

    def add_working_days(self, start: date | datetime, days: int) -> date | datetime:
        """The ``days``-th working day after ``start`` (``start`` itself does not count).

        Negative ``days`` go backwards. A datetime keeps its local time of day
        and comes back aware in ``tz``; a date comes back as a date.
        """
        if isinstance(start, datetime):
            _require_aware(start, "start")
            local = start.astimezone(self.tz)
            if days == 0:
                return local
            target = self._add_working_days(local.date(), days)
            return datetime.combine(target, local.time(), tzinfo=self.tz)
        return self._add_working_days(start, days)

    def _add_working_days(self, day: date, days: int) -> date:
        step = _ONE_DAY if days > 0 else -_ONE_DAY
        remaining = abs(days)
        closed_run = 0
        while remaining:
            day += step
            if self.is_workday(day):
                remaining -= 1
                closed_run = 0
            else:
                closed_run = self._check_closed_run(closed_run, day)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Number of working days in ``(start, end]``; negative when ``end < start``."""
        start, end = self._to_local_date(start), self._to_local_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += _ONE_DAY
            if self.is_workday(day):
                count += 1
        return count

    # ------------------------------------------------------------------ time

    def add_working_time(
        self,
        start: datetime,
        delta: timedelta,
        pauses: Iterable[tuple[datetime, datetime]] = (),
    ) -> datetime:
        """The earliest moment at which ``delta`` of working time has elapsed since ``start``.

        The clock runs only in working periods of working days (always when
        round-the-clock) and stops during ``pauses`` (waiting on the customer).
        "Earliest" means a deadline that lands on a period end stays there
        (12:00, not 13:30), which makes the operation additive.
        """
        _require_aware(start, "start")
        if delta < timedelta(0):
            raise ValueError(f"delta must not be negative, got {delta!r}")
        merged = _merge_pauses(pauses)
        if not delta:
            return start.astimezone(self.tz)
        remaining = delta
        for seg_start, seg_end in self._effective_segments(start.astimezone(_UTC), merged):
            length = seg_end - seg_start
            if remaining <= length:
                return (seg_start + remaining).astimezone(self.tz)
            remaining -= length
        raise AssertionError("unreachable: working segments never run out")  # pragma: no cover

    def working_time_between(
        self,
        start: datetime,
        end: datetime,
        pauses: Iterable[tuple[datetime, datetime]] = (),
    ) -> timedelta:
        """Working time in ``[start, end)`` minus ``pauses``; zero when ``end <= start``."""
        _require_aware(start, "start")
        _require_aware(end, "end")
        merged = _merge_pauses(pauses)
        start_utc, end_utc = start.astimezone(_UTC), end.astimezone(_UTC)
        total = timedelta(0)
        if end_utc <= start_utc:
            return total
        for seg_start, seg_end in self._effective_segments(start_utc, merged):
            if seg_start >= end_utc:
                break
            total += min(seg_end, end_utc) - seg_start
        return total

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` itself if inside working time, else the start of the next working period."""
        _require_aware(moment, "moment")
        seg_start, _ = next(self._effective_segments(moment.astimezone(_UTC), []))
        return seg_start.astimezone(self.tz)

    # -------------------------------------------------------------- internals

    def _to_local_date(self, value: date) -> date:
        if isinstance(value, datetime):
            _require_aware(value, "datetime")
            return value.astimezone(self.tz).date()
        return value

    def _check_closed_run(self, closed_run: int, day: date) -> int:
        closed_run += 1
        if closed_run > _MAX_CLOSED_RUN:
            raise RuntimeError(f"no working day within {_MAX_CLOSED_RUN} days of {day}; check the overrides")
        return closed_run

    def _working_segments(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working periods (UTC) ending after ``moment``, the first clipped to start at it.

        Walks local days and skips closed days with one lookup each, so long
        spans cost per day, not per minute.
        """
        if self.round_the_clock:
            yield moment, datetime.max.replace(tzinfo=_UTC) - timedelta(days=2)
            return
        day = moment.astimezone(self.tz).date()
        closed_run = 0
        while True:
            if self.is_workday(day):
                closed_run = 0
                for period_start, period_end in self.hours.periods:
                    seg_end = datetime.combine(day, period_end, tzinfo=self.tz).astimezone(_UTC)
                    if seg_end <= moment:
                        continue
                    seg_start = datetime.combine(day, period_start, tzinfo=self.tz).astimezone(_UTC)
                    yield max(seg_start, moment), seg_end
            else:
                closed_run = self._check_closed_run(closed_run, day)
            day += _ONE_DAY

    def _effective_segments(
        self, moment: datetime, pauses: list[tuple[datetime, datetime]]
    ) -> Iterator[tuple[datetime, datetime]]:
        """Working segments from ``moment`` with the (merged, sorted) pauses cut out."""
        i, n = 0, len(pauses)
        for seg_start, seg_end in self._working_segments(moment):
            while i < n and pauses[i][1] <= seg_start:
                i += 1
            cursor = seg_start
            j = i
            while j < n and pauses[j][0] < seg_end:
                pause_start, pause_end = pauses[j]
                if pause_start > cursor:
                    yield cursor, pause_start
                cursor = max(cursor, pause_end)
                j += 1
            if cursor < seg_end:
                yield cursor, seg_end
