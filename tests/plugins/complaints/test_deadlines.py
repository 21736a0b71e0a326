"""Deadline tables on the core calendar: weekends, the 2026 National Day
holiday and its make-up workdays, pauses, the 24x7 clock, and history edits
recomputing the deadlines (CMP-3, CMP-4, CMP-5)."""

from __future__ import annotations

import re
from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from fuwu_plugins.complaints import rules

from .conftest import CSRF, receive

CN = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=CN)


def ev(kind, when):
    return SimpleNamespace(kind=kind, at=when, id=0)


@pytest.fixture
def cal(make_site):
    site = make_site(["complaints"])
    with site.db.session() as s:
        yield site.calendar(s), site.calendar(s, round_the_clock=True), site


def table(cal, events, *, forwarded=False, clock="working", now=None):
    working, round_clock, _site = cal
    found = rules.deadlines(events, forwarded=forwarded, reply_calendar=round_clock if clock == "24x7" else working,
                            day_calendar=working, reply_hours=3, follow_up_days=1, hq_report_days=1,
                            now=now or at(2026, 12, 31, 12))
    return {d.key: d.due.astimezone(CN).replace(tzinfo=None) for d in found}


@pytest.mark.parametrize("received, due", [
    # Mon 10:00 + 3 working hours, the lunch break (12:00-13:30) not counted
    (at(2026, 9, 14, 10), datetime(2026, 9, 14, 14, 30)),
    # Fri 17:00: one hour on Friday, two on Monday
    (at(2026, 9, 11, 17), datetime(2026, 9, 14, 11, 0)),
    # Fri 18 September 17:00: the next working day is the make-up Sunday 20 September
    (at(2026, 9, 18, 17), datetime(2026, 9, 20, 11, 0)),
    # Thu 24 September 17:00: Mid-Autumn Festival on Friday, then the weekend
    (at(2026, 9, 24, 17), datetime(2026, 9, 28, 11, 0)),
    # Saturday: the clock starts on Monday morning
    (at(2026, 9, 26, 10), datetime(2026, 9, 28, 12, 0)),
    # Sunday 20 September 2026 is a make-up workday for National Day
    (at(2026, 9, 20, 9), datetime(2026, 9, 20, 12, 0)),
    # Wed 30 September 16:00: two hours that day, then the holiday 1-7 October
    (at(2026, 9, 30, 16), datetime(2026, 10, 8, 10, 0)),
])
def test_reply_deadline_runs_on_working_hours(cal, received, due):
    assert table(cal, [ev("received", received)])["reply"] == due


def test_reply_deadline_round_the_clock_when_the_setting_says_so(cal):
    assert table(cal, [ev("received", at(2026, 9, 11, 17))], clock="24x7")["reply"] == datetime(2026, 9, 11, 20)


@pytest.mark.parametrize("handled, due", [
    (at(2026, 9, 14, 15), datetime(2026, 9, 15, 15)),   # ordinary Monday -> Tuesday
    (at(2026, 9, 11, 15), datetime(2026, 9, 14, 15)),   # Friday -> Monday, over the weekend
    (at(2026, 9, 24, 15), datetime(2026, 9, 28, 15)),   # Thursday -> Monday, over Mid-Autumn and the weekend
    (at(2026, 9, 30, 15), datetime(2026, 10, 8, 15)),   # before National Day -> after it
    (at(2026, 10, 9, 10), datetime(2026, 10, 10, 10)),  # Friday -> Saturday 10 October, a make-up workday
])
def test_follow_up_and_headquarters_feedback_within_one_working_day(cal, handled, due):
    events = [ev("received", at(2026, 9, 1, 9)), ev("replied", at(2026, 9, 1, 10)), ev("handled", handled)]
    got = table(cal, events, forwarded=True)
    assert got["follow_up"] == due and got["hq_report"] == due
    assert "hq_report" not in table(cal, events, forwarded=False)


def test_waiting_on_the_customer_stops_the_clock(cal):
    events = [ev("received", at(2026, 9, 14, 10)), ev("paused", at(2026, 9, 14, 11)),
              ev("resumed", at(2026, 9, 15, 9))]
    # one hour before the pause, two after the resumption
    assert table(cal, events)["reply"] == datetime(2026, 9, 15, 11)
    working, round_clock, _ = cal
    still = rules.deadlines(events[:2], forwarded=False, reply_calendar=working, day_calendar=working, reply_hours=3,
                            follow_up_days=1, hq_report_days=1, now=at(2026, 9, 16, 12))
    assert still[0].paused and not still[0].overdue(at(2026, 9, 16, 12))


def test_an_invalid_complaint_owes_no_deadline(cal):
    assert table(cal, [ev("received", at(2026, 9, 14, 10)), ev("invalidated", at(2026, 9, 14, 11))]) == {}


@pytest.mark.parametrize("month, due", [
    (date(2026, 9, 1), date(2026, 10, 10)),   # 8, 9 October and the make-up Saturday 10 October
    (date(2026, 10, 1), date(2026, 11, 4)),   # 1 November is a Sunday
    (date(2026, 12, 1), date(2027, 1, 6)),    # New Year's Day holiday
])
def test_monthly_report_due_on_the_third_working_day(cal, month, due):
    working, _, _ = cal
    assert rules.report_due(month, working, 3) == due


def test_correcting_the_history_recomputes_the_deadlines(cweb):
    site, _app, browser = cweb
    cid = receive(site, at=at(2026, 9, 14, 10))
    quality = browser("quality")
    page = quality.get(f"/complaints/{cid}")
    due = re.findall(r'data-deadline="reply".*?<time datetime="([^"]+)"', page.text, re.S)
    assert datetime.fromisoformat(due[0]).astimezone(CN).replace(tzinfo=None) == datetime(2026, 9, 14, 14, 30)
    event = re.search(r'/complaints/events/(\d+)/edit', page.text).group(1)
    form = quality.get(f"/complaints/events/{event}/edit")
    version = re.search(r'name="version" value="(\d+)"', form.text).group(1)
    r = quality.post(f"/complaints/events/{event}/edit", data={
        "at": "2026-09-11T17:00", "note": "", "version": version, "csrf_token": CSRF.search(form.text).group(1)})
    assert r.status_code == 303, r.text[:1000]
    page = quality.get(f"/complaints/{cid}")
    times = re.findall(r'data-deadline="reply".*?<time datetime="([^"]+)"', page.text, re.S)
    assert datetime.fromisoformat(times[0]).astimezone(CN).replace(tzinfo=None) == datetime(2026, 9, 14, 11)
    # a stale correction is refused with the saved values shown
    r = quality.post(f"/complaints/events/{event}/edit", data={
        "at": "2026-09-26T17:00", "note": "", "version": version, "csrf_token": CSRF.search(form.text).group(1)})
    assert r.status_code == 409
