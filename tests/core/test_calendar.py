"""Tests for fuwu.calendar: working days (official + fallback) and working time."""

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuwu.calendar import WorkCalendar, WorkingHours

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
H = timedelta(hours=1)


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SH)


# ---------------------------------------------------------------- working days


@pytest.mark.parametrize(
    "day, working",
    [
        (date(2026, 9, 20), True),  # Sunday, make-up workday
        (date(2026, 9, 25), False),  # Mid-Autumn Festival (Friday)
        (date(2026, 9, 30), True),
        *[(date(2026, 10, d), False) for d in range(1, 8)],  # National Day week, 4th is a Sunday
        (date(2026, 10, 8), True),
        (date(2026, 10, 9), True),
        (date(2026, 10, 10), True),  # Saturday, make-up workday
        (date(2026, 10, 11), False),  # plain Sunday
    ],
)
def test_2026_national_day(day, working):
    assert CAL.is_workday(day) is working


def test_is_workday_accepts_aware_datetime_in_local_time():
    # 2026-10-07 17:00 UTC is already Oct 8 01:00 in Shanghai.
    assert CAL.is_workday(datetime(2026, 10, 7, 17, tzinfo=timezone.utc))
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.is_workday(datetime(2026, 10, 8, 10))


def test_add_working_days_over_national_day():
    assert CAL.add_working_days(at(2026, 9, 30, 10), 1) == at(2026, 10, 8, 10)
    assert CAL.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CAL.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert CAL.add_working_days(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert CAL.add_working_days(date(2026, 9, 21), -1) == date(2026, 9, 20)  # make-up Sunday
    # From a closed day the next working day is the first.
    assert CAL.add_working_days(date(2026, 10, 3), 1) == date(2026, 10, 8)


def test_add_working_days_datetime_result_is_local_and_aware():
    start = datetime(2026, 9, 30, 2, tzinfo=timezone.utc)  # 10:00 Shanghai
    result = CAL.add_working_days(start, 1)
    assert result == at(2026, 10, 8, 10)
    assert result.tzinfo == SH and result.hour == 10
    zero = CAL.add_working_days(start, 0)
    assert zero == start and zero.tzinfo == SH
    assert CAL.add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 3)


def test_working_days_between():
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    assert CAL.working_days_between(date(2026, 10, 8), date(2026, 9, 30)) == -1
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 9, 30)) == 0
    # Sep 19 (Sat, off) .. Sep 26: 20 (make-up), 21-24, 25 off, 26 Sat off -> 5
    assert CAL.working_days_between(date(2026, 9, 19), date(2026, 9, 26)) == 5


# ------------------------------------------------------------------ working time


def test_add_working_time_over_national_day():
    assert CAL.add_working_time(at(2026, 9, 30, 17), 2 * H) == at(2026, 10, 8, 10)
    assert CAL.working_time_between(at(2026, 9, 30, 17), at(2026, 10, 8, 10)) == 2 * H


def test_add_working_time_onto_make_up_saturday():
    # Fri 16:00 + 2h -> 18:00 same day (period end), + 3h -> Sat make-up 10:00.
    assert CAL.add_working_time(at(2026, 10, 9, 16), 2 * H) == at(2026, 10, 9, 18)
    assert CAL.add_working_time(at(2026, 10, 9, 16), 3 * H) == at(2026, 10, 10, 10)


def test_lunch_break_is_skipped():
    assert CAL.add_working_time(at(2026, 9, 30, 11), 2 * H) == at(2026, 9, 30, 14, 30)
    assert CAL.add_working_time(at(2026, 9, 30, 11), H) == at(2026, 9, 30, 12)  # lands on period end
    assert CAL.working_time_between(at(2026, 9, 30, 11), at(2026, 9, 30, 14, 30)) == 2 * H


def test_start_outside_working_time():
    assert CAL.add_working_time(at(2026, 9, 30, 7), H) == at(2026, 9, 30, 10)
    assert CAL.add_working_time(at(2026, 10, 2, 12), H) == at(2026, 10, 8, 10)
    # Zero delta returns the start unchanged even outside working time.
    assert CAL.add_working_time(at(2026, 10, 2, 12), timedelta(0)) == at(2026, 10, 2, 12)
    assert CAL.working_time_between(at(2026, 10, 8, 10), at(2026, 9, 30, 17)) == timedelta(0)


def test_result_is_in_calendar_timezone():
    result = CAL.add_working_time(datetime(2026, 9, 30, 1, tzinfo=timezone.utc), H)  # 09:00 local
    assert result.tzinfo == SH and (result.hour, result.minute) == (10, 0)


def test_pauses_stop_the_clock():
    start = at(2026, 9, 30, 9)
    # Paused 10:00-11:00 and (overlapping) 10:30-14:00, which spans lunch.
    pauses = [(at(2026, 9, 30, 10), at(2026, 9, 30, 11)), (at(2026, 9, 30, 10, 30), at(2026, 9, 30, 14))]
    assert CAL.add_working_time(start, 2 * H, pauses) == at(2026, 9, 30, 15)
    assert CAL.working_time_between(start, at(2026, 9, 30, 15), pauses) == 2 * H
    # A pause over the whole holiday changes nothing; one into Oct 8 shifts it.
    holiday_pause = [(at(2026, 10, 1), at(2026, 10, 8, 9))]
    assert CAL.add_working_time(at(2026, 9, 30, 17), 2 * H, holiday_pause) == at(2026, 10, 8, 10)
    # 30 min run before the pause, 90 min after it ends at 09:30 on Oct 8.
    late = [(at(2026, 9, 30, 17, 30), at(2026, 10, 8, 9, 30))]
    assert CAL.add_working_time(at(2026, 9, 30, 17), 2 * H, late) == at(2026, 10, 8, 11)


def test_next_working_moment():
    assert CAL.next_working_moment(at(2026, 9, 30, 10)) == at(2026, 9, 30, 10)
    assert CAL.next_working_moment(at(2026, 9, 30, 12)) == at(2026, 9, 30, 13, 30)
    assert CAL.next_working_moment(at(2026, 9, 30, 18)) == at(2026, 10, 8, 9)
    assert CAL.next_working_moment(at(2026, 10, 9, 20)) == at(2026, 10, 10, 9)


def test_round_the_clock():
    cal = WorkCalendar(round_the_clock=True)
    assert cal.is_workday(date(2026, 10, 1))
    assert cal.add_working_time(at(2026, 9, 30, 17), 2 * H) == at(2026, 9, 30, 19)
    assert cal.add_working_time(at(2026, 9, 30, 17), 48 * H) == at(2026, 10, 2, 17)
    pauses = [(at(2026, 9, 30, 18), at(2026, 9, 30, 20))]
    assert cal.add_working_time(at(2026, 9, 30, 17), 2 * H, pauses) == at(2026, 9, 30, 21)
    assert cal.working_time_between(at(2026, 9, 30, 17), at(2026, 9, 30, 21), pauses) == 2 * H
    assert cal.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 1)
    assert cal.next_working_moment(at(2026, 10, 1, 3)) == at(2026, 10, 1, 3)


def test_custom_hours_and_validation():
    cal = WorkCalendar(hours=WorkingHours(((time(8), time(20)),)))
    assert cal.add_working_time(at(2026, 9, 30, 19), 2 * H) == at(2026, 10, 8, 9)
    with pytest.raises(ValueError):
        WorkingHours(((time(13), time(12)),))
    with pytest.raises(ValueError):
        WorkingHours(((time(9), time(12)), (time(11), time(14))))
    with pytest.raises(ValueError):
        WorkingHours(())


def test_large_delta_is_fast_and_consistent():
    start = at(2026, 1, 5, 9)
    end = CAL.add_working_time(start, 2000 * H)
    assert CAL.working_time_between(start, end) == 2000 * H
    assert end.year == 2027  # ~267 working days of 7.5 h; runs into the fallback year


# --------------------------------------------------------- overrides and fallback


def test_overrides_close_and_open_days():
    closure, extra = date(2026, 9, 29), date(2026, 9, 26)  # Tue workday, Saturday
    cal = WorkCalendar(overrides={closure: False, extra: True})
    assert not cal.is_workday(closure)
    assert cal.is_workday(extra)
    # Thu 24 17:00 + 2h: 1h on Thu, Fri 25 is Mid-Autumn, 1h on the extra Saturday.
    assert cal.add_working_time(at(2026, 9, 24, 17), 2 * H) == at(2026, 9, 26, 10)
    assert cal.add_working_days(date(2026, 9, 28), 1) == date(2026, 9, 30)
    with pytest.raises(TypeError):
        WorkCalendar(overrides={datetime(2026, 9, 29, tzinfo=SH): False})


def test_fallback_for_uncovered_year():
    assert not CAL.is_official_year(2027)
    assert CAL.is_official_year(2026)
    assert not CAL.is_workday(date(2027, 10, 1))
    assert CAL.is_workday(date(2027, 10, 4))  # Monday; the bridge day is not statutory
    assert not CAL.is_workday(date(2027, 10, 9))  # plain Saturday
    for d in range(5, 9):  # Spring Festival Eve .. 3rd day
        assert not CAL.is_workday(date(2027, 2, d))
    assert CAL.is_workday(date(2027, 2, 9))  # "(observed)" is an estimate, not law
    assert not CAL.is_workday(date(2027, 1, 1))


def test_uncovered_years_and_official_years():
    assert CAL.uncovered_years(date(2026, 12, 1), date(2027, 1, 31)) == [2027]
    assert CAL.uncovered_years(date(2027, 1, 31), date(2026, 12, 1)) == [2027]
    assert CAL.uncovered_years(date(2003, 6, 1), date(2004, 1, 1)) == [2003]
    admin = WorkCalendar(official_years=[2027], overrides={date(2027, 10, 4): False})
    assert admin.uncovered_years(date(2026, 12, 1), date(2027, 1, 31)) == []
    assert admin.is_official_year(2027)
    assert not admin.is_workday(date(2027, 10, 4))


def test_naive_and_negative_inputs_rejected():
    naive = datetime(2026, 9, 30, 10)
    for call in (
        lambda: CAL.add_working_time(naive, H),
        lambda: CAL.working_time_between(naive, at(2026, 10, 8)),
        lambda: CAL.working_time_between(at(2026, 9, 30), naive),
        lambda: CAL.next_working_moment(naive),
        lambda: CAL.add_working_days(naive, 1),
        lambda: CAL.add_working_time(at(2026, 9, 30), H, [(naive, at(2026, 10, 8))]),
    ):
        with pytest.raises(ValueError, match="timezone-aware"):
            call()
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_time(at(2026, 9, 30, 10), -H)
    with pytest.raises(ValueError, match="before it starts"):
        CAL.add_working_time(at(2026, 9, 30, 10), H, [(at(2026, 9, 30, 12), at(2026, 9, 30, 11))])


# ------------------------------------------------------------------- properties

_MIN = datetime(2025, 1, 1)
_MAX = datetime(2026, 12, 31, 23, 59)

moments = st.datetimes(min_value=_MIN, max_value=_MAX).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=SH)
)
deltas = st.integers(min_value=0, max_value=300 * 60).map(lambda m: timedelta(minutes=m))
positive_deltas = st.integers(min_value=1, max_value=300 * 60).map(lambda m: timedelta(minutes=m))


@st.composite
def pause_lists(draw, start):
    """Up to 4 pauses near ``start``, possibly overlapping each other and off-hours."""
    result = []
    for _ in range(draw(st.integers(0, 4))):
        offset = timedelta(minutes=draw(st.integers(-24 * 60, 60 * 24 * 60)))
        length = timedelta(minutes=draw(st.integers(0, 7 * 24 * 60)))
        result.append((start + offset, start + offset + length))
    return result


@st.composite
def start_and_pauses(draw):
    start = draw(moments)
    return start, draw(pause_lists(start))


def _in_working_time(cal, moment):
    """Inside a working period of a working day, or exactly at a period end."""
    local = moment.astimezone(cal.tz)
    if not cal.is_workday(local.date()):
        return False
    return any(a < local.time() <= b for a, b in cal.hours.periods)


@settings(max_examples=60, deadline=None)
@given(sp=start_and_pauses(), delta=deltas)
def test_prop_add_then_measure(sp, delta):
    start, pauses = sp
    assert CAL.working_time_between(start, CAL.add_working_time(start, delta)) == delta
    end = CAL.add_working_time(start, delta, pauses)
    assert CAL.working_time_between(start, end, pauses) == delta


@settings(max_examples=60, deadline=None)
@given(sp=start_and_pauses(), d1=deltas, d2=deltas)
def test_prop_monotonic(sp, d1, d2):
    start, pauses = sp
    d1, d2 = sorted((d1, d2))
    assert CAL.add_working_time(start, d1) <= CAL.add_working_time(start, d2)
    assert CAL.add_working_time(start, d1, pauses) <= CAL.add_working_time(start, d2, pauses)


@settings(max_examples=60, deadline=None)
@given(sp=start_and_pauses(), a=deltas, b=deltas)
def test_prop_additive(sp, a, b):
    # add_working_time returns the *earliest* moment at which the time has
    # elapsed, so additivity holds unconditionally -- also for a == 0 with a
    # start outside working time, and with a landing on a period end.
    start, pauses = sp
    assert CAL.add_working_time(CAL.add_working_time(start, a), b) == CAL.add_working_time(start, a + b)
    assert CAL.add_working_time(CAL.add_working_time(start, a, pauses), b, pauses) == CAL.add_working_time(
        start, a + b, pauses
    )


@settings(max_examples=60, deadline=None)
@given(sp=start_and_pauses(), delta=positive_deltas)
def test_prop_result_in_working_time(sp, delta):
    start, pauses = sp
    for result in (CAL.add_working_time(start, delta), CAL.add_working_time(start, delta, pauses)):
        assert result > start
        assert result.tzinfo == SH
        assert _in_working_time(CAL, result)


@settings(max_examples=60, deadline=None)
@given(start=moments)
def test_prop_next_working_moment(start):
    nxt = CAL.next_working_moment(start)
    assert nxt >= start
    assert CAL.working_time_between(start, nxt) == timedelta(0)
    assert CAL.working_time_between(nxt, nxt + timedelta(minutes=1)) == timedelta(minutes=1)


@settings(max_examples=60, deadline=None)
@given(day=st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)), n=st.integers(0, 400))
def test_prop_working_days_roundtrip(day, n):
    target = CAL.add_working_days(day, n)
    assert CAL.working_days_between(day, target) == n
    if n:
        assert CAL.is_workday(target)
