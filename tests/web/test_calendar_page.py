"""The working-calendar page: the year as deadlines see it, and the days an admin enters."""

import re
from datetime import date

from sqlalchemy import func, select

from fuwu.calendar_days import CalendarDay, site_calendar

EN = {"Accept-Language": "en"}


def kinds(html: str) -> dict[str, str]:
    """date -> kind of every day listed under "Holidays and make-up workdays"."""
    return dict(re.findall(r'<tr class="cal-\w+" data-day="([\d-]+)" data-kind="(\w+)"', html))


def workday(site, day: date) -> bool:
    with site.db.session(write=False) as s:
        return site_calendar(site, s).is_workday(day)


def uncovered(site, year: int) -> list[int]:
    with site.db.session(write=False) as s:
        return site_calendar(site, s).uncovered_years(date(year, 1, 1), date(year, 12, 31))


def add(browser, **data):
    data.setdefault("kind", "closed")
    return browser.submit("/calendar/days", data, page="/calendar", headers=EN)


def test_year_view_lists_holidays_and_make_up_workdays_of_the_package(web):
    site, app, browser = web(users={"boss": ["admin"]})
    page = browser("boss").get("/calendar?year=2025", headers=EN)
    assert page.status_code == 200
    listed = kinds(page.text)
    # National Day 2025: Oct 1-8 off, with Sunday Sep 28 and Saturday Oct 11 worked
    assert all(listed[f"2025-10-0{d}"] == "holiday" for d in range(1, 9))
    assert listed["2025-09-28"] == "makeup" and listed["2025-10-11"] == "makeup"
    assert listed["2025-01-01"] == "holiday"
    assert "2025-10-09" not in listed  # an ordinary Thursday
    assert 'id="uncovered"' not in page.text
    assert "come from the installed holiday package" in page.text
    assert "National Day" in page.text and "Holiday package" in page.text
    # the list agrees with the calendar every deadline uses
    with site.db.session(write=False) as s:
        cal = site_calendar(site, s)
        for day, kind in listed.items():
            assert cal.is_workday(date.fromisoformat(day)) == (kind in ("makeup", "extra")), day


def test_uncovered_year_warns_until_the_official_arrangement_is_entered(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    page = b.get("/calendar?year=2031", headers=EN)
    assert 'id="uncovered"' in page.text and 'role="alert"' in page.text
    assert "Make-up workdays not known yet: enter the State Council's arrangement for 2031." in page.text
    listed = kinds(page.text)
    assert listed["2031-10-01"] == "holiday" and "Estimate (statutory holidays only)" in page.text
    assert "makeup" not in listed.values()  # the estimate knows no make-up workdays
    assert uncovered(site, 2031) == [2031]
    assert workday(site, date(2031, 9, 28)) is False  # a Sunday

    r = add(b, day="2031-09-28", kind="working", note="国庆调休", official="on")
    assert r.status_code == 303 and r.headers["location"] == "/calendar?year=2031#days"
    page = b.get("/calendar?year=2031", headers=EN)
    assert 'id="uncovered"' not in page.text
    assert "The official arrangement of 2031 has been entered here." in page.text
    assert kinds(page.text)["2031-09-28"] == "makeup" and "国庆调休" in page.text
    assert uncovered(site, 2031) == []
    assert workday(site, date(2031, 9, 28)) is True
    # other uncovered years still warn
    assert 'id="uncovered"' in b.get("/calendar?year=2032").text

    # taking the mark away makes the year an estimate again; marking a day later works too
    with site.db.session(write=False) as s:
        row_id = s.scalar(select(CalendarDay.id).where(CalendarDay.day == date(2031, 9, 28)))
    r = b.submit(f"/calendar/days/{row_id}/official", {"official": "0"}, page="/calendar", headers=EN)
    assert r.status_code == 303 and r.headers["location"] == "/calendar?year=2031#days"
    assert uncovered(site, 2031) == [2031] and workday(site, date(2031, 9, 28)) is True
    page = b.get("/calendar?year=2031", headers=EN)
    assert 'id="uncovered"' in page.text and kinds(page.text)["2031-09-28"] == "extra"
    assert b.submit(f"/calendar/days/{row_id}/official", {"official": "1"}, page="/calendar").status_code == 303
    assert uncovered(site, 2031) == []
    assert b.submit("/calendar/days/999999/official", {"official": "1"}, page="/calendar").status_code == 404


def test_closures_and_extra_workdays_change_the_calendar(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    assert workday(site, date(2025, 12, 31)) and not workday(site, date(2025, 12, 27))
    assert add(b, day="2025-12-31", kind="closed", note="Stocktaking").status_code == 303
    assert add(b, day="2025-12-27", kind="working", note="Year-end push").status_code == 303
    r = add(b, day="2025-12-29", until="2025-12-30", kind="closed", note="Company trip")
    assert r.status_code == 303
    assert workday(site, date(2025, 12, 31)) is False
    assert workday(site, date(2025, 12, 27)) is True
    assert not workday(site, date(2025, 12, 29)) and not workday(site, date(2025, 12, 30))

    page = b.get("/calendar?year=2025", headers=EN)
    listed = kinds(page.text)
    assert listed["2025-12-31"] == "closure" and listed["2025-12-27"] == "extra"
    assert "Stocktaking" in page.text and "Company trip" in page.text
    assert "4 days entered" not in page.text and "2 days entered, Dec 29, 2025 to Dec 30, 2025." in page.text

    with site.db.session(write=False) as s:
        row_id = s.scalar(select(CalendarDay.id).where(CalendarDay.day == date(2025, 12, 31)))
    r = b.submit(f"/calendar/days/{row_id}/delete", page="/calendar", headers=EN)
    assert r.status_code == 303 and r.headers["location"] == "/calendar?year=2025#days"
    assert workday(site, date(2025, 12, 31)) is True
    assert "Dec 31, 2025 deleted." in b.get("/calendar?year=2025", headers=EN).text


def test_a_date_entered_twice_gets_a_message_at_the_field(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    assert add(b, day="2026-06-01", kind="closed", note="first").status_code == 303
    r = add(b, day="2026-05-30", until="2026-06-02", kind="working", note="second try")
    assert r.status_code == 422
    field = r.text[r.text.index('id="field-day"'):r.text.index('id="field-until"')]
    assert 'class="field invalid"' in r.text[r.text.index('id="field-day"') - 40:r.text.index('id="field-day"')]
    assert "Already entered: Jun 1, 2026." in field
    assert 'value="2026-05-30"' in field  # the input is kept
    assert 'value="second try"' in r.text
    assert b"2026-05-31" not in r.content.split(b'id="days"')[1].split(b"</section>")[0]
    with site.db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(CalendarDay)) == 1


def test_invalid_entries_are_refused(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    cases = [
        ({"day": "31/12/2025"}, "day", "Enter a date as YYYY-MM-DD."),
        ({"day": ""}, "day", "This field is required."),
        ({"day": "2025-05-05", "until": "2025-05-01"}, "until", "The last day cannot come before the first."),
        ({"day": "2025-01-01", "until": "2025-12-31"}, "until", "At most 62 days at once."),
        ({"day": "2025-05-05", "kind": "sometimes"}, "kind", "Choose from the list."),
        ({"day": "1850-01-01"}, "day", "Must be at least"),
    ]
    for data, name, message in cases:
        r = add(b, **data)
        assert r.status_code == 422, data
        start = r.text.index(f'id="field-{name}"')
        assert message in r.text[start:start + 1500], data
    with site.db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(CalendarDay)) == 0


def test_year_parameter_and_unknown_day(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    for year in ("abc", "99999", ""):
        r = b.get(f"/calendar?year={year}")
        assert r.status_code == 200
        assert re.search(r"<h1>\D*\d{4}\D*</h1>", r.text)
    assert b.submit("/calendar/days/999999/delete", page="/calendar").status_code == 404
    assert b.get("/calendar/days").status_code == 405


def test_engineer_may_not_see_or_change_the_calendar(web):
    site, app, browser = web(users={"boss": ["admin"], "eng": (["engineer"], "售后服务部")})
    assert add(browser("boss"), day="2025-12-31").status_code == 303
    with site.db.session(write=False) as s:
        row_id = s.scalar(select(CalendarDay.id))
    eng = browser("eng")
    assert eng.get("/calendar").status_code == 403
    assert eng.submit("/calendar/days", {"day": "2025-12-30", "kind": "closed"}).status_code == 403
    assert eng.submit(f"/calendar/days/{row_id}/delete").status_code == 403
    assert eng.submit(f"/calendar/days/{row_id}/official", {"official": "1"}).status_code == 403
    assert workday(site, date(2025, 12, 30)) is True and workday(site, date(2025, 12, 31)) is False
