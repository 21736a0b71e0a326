"""Pages: record rules (IDOR), list queries, attendance, calls, the rating
link's rules and the month close tables (RES-1..6)."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import event, select

from fuwu import links
from fuwu.models import Customer
from fuwu_plugins.onsite_residency import rules
from fuwu_plugins.onsite_residency.models import (
    Residency, ResidentAttendance, ResidentCall, ResidentRating, ResidentReport,
)

from tests.conftest import customer_name

from .conftest import ids, residency


def make_report(site, rid, month, *, state="draft", rating=None, submitted=None, stamped=True):
    """A report straight in the database (the chain itself is tested over HTTP)."""
    def work(s):
        r = s.get(Residency, rid)
        rep = ResidentReport(residency_id=rid, month=month, owner_id=r.engineer_id, state=state,
                            work_done=f"工作记录 {rid}", figures={}, documents={})
        if submitted:
            rep.documents = {d: submitted.isoformat() for d in rules.DOCUMENTS}
        if stamped and state in ("stamped", "sent"):
            rep.stamped_by_id, rep.stamped_at, rep.stamp_hash = r.lead_id, datetime.now(UTC), "ab" * 32
        s.add(rep)
        s.flush()
        if rating:
            s.add(ResidentRating(report_id=rep.id, rating=rating, satisfaction=rating, rated_at=datetime.now(UTC)))
        return rep.id
    return site.db.run(work)


def test_another_engineer_gets_404_on_read_and_write(rweb):
    site, browser, _caught = rweb
    rid = residency(site)
    rep = make_report(site, rid, date(2026, 10, 1))
    other, lead2 = browser("eng2"), browser("lead2")
    for path in (f"/onsite_residency/residencies/{rid}", f"/onsite_residency/reports/{rep}"):
        assert other.get(path).status_code == 404
        assert browser("eng").get(path).status_code == 200
        assert browser("lead").get(path).status_code == 200
    assert other.submit(f"/onsite_residency/reports/{rep}/edit", {"work_done": "x", "version": 1}).status_code == 404
    assert other.submit(f"/onsite_residency/reports/{rep}/step", {"transition": "submit"}).status_code == 404
    assert other.submit(f"/onsite_residency/residencies/{rid}/calls",
                        {"called_at": "2026-10-02T09:00"}).status_code == 404
    assert other.submit(f"/onsite_residency/residencies/{rid}/reports", {"month": "2026-10"}).status_code == 404
    # a group lead of other sites neither sees nor keeps this sheet
    assert lead2.get(f"/onsite_residency/residencies/{rid}/attendance").status_code == 404
    assert lead2.submit(f"/onsite_residency/residencies/{rid}/attendance",
                        {"month": "2026-10", "s-2026-10-08": "absent"}).status_code == 404
    assert "工作记录" not in other.get("/onsite_residency/").text
    assert browser("eng").get("/onsite_residency/residencies/new").status_code == 403


def test_lead_review_belongs_to_the_site_lead(rweb):
    site, browser, _ = rweb
    rid = residency(site)
    rep = make_report(site, rid, date(2026, 10, 1), state="lead_review")
    r = browser("lead2").submit(f"/onsite_residency/reports/{rep}/step", {"transition": "approve"})
    assert r.status_code == 404  # lead2 does not even see it
    assert browser("lead").submit(f"/onsite_residency/reports/{rep}/step",
                                  {"transition": "approve"}).status_code == 303


def _count_queries(site, fn):
    count = [0]

    def before(*_a, **_k):
        count[0] += 1
    event.listen(site.db.engine, "before_cursor_execute", before)
    try:
        fn()
    finally:
        event.remove(site.db.engine, "before_cursor_execute", before)
    return count[0]


def test_overview_costs_the_same_queries_for_10_and_50_rows(rweb):
    site, browser, _ = rweb
    manager = browser("manager")
    month = date(2026, 10, 1)
    for i in range(10):
        make_report(site, residency(site, customer_index=i % 3), month, state="sent", rating="good")
    manager.get("/onsite_residency/?month=2026-10")
    small = _count_queries(site, lambda: manager.get("/onsite_residency/?month=2026-10"))
    for i in range(40):
        make_report(site, residency(site, engineer="eng2", customer_index=i % 3), month, state="sent",
                    rating="poor")
    page = None

    def load():
        nonlocal page
        page = manager.get("/onsite_residency/?month=2026-10")
    big = _count_queries(site, load)
    assert page.status_code == 200 and page.text.count("data-residency=") == 50
    assert big == small
    x = manager.get("/onsite_residency/?month=2026-10&format=xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"


def test_the_month_arrows_step_across_the_year_and_keep_the_filters(rweb):
    """The overview's month picker links to the month before and after,
    keeping what was searched; January steps back into last December."""
    site, browser, _ = rweb
    manager = browser("manager")
    page = manager.get("/onsite_residency/?q=杭州&state=none&month=2026-01").text
    picker = re.search(r'<span class="month-picker">(.*?)</span>', page, re.S).group(1)
    links = dict((rel, href.replace("&amp;", "&")) for href, rel in re.findall(r'href="([^"]*)"\s+rel="(prev|next)"', picker))
    assert 'value="2026-01"' in picker and "month=2025-12" in links["prev"] and "month=2026-02" in links["next"]
    earlier = manager.get("/onsite_residency/" + links["prev"]).text
    assert "Dec 2025" in earlier.split("</h1>")[0]
    assert 'value="杭州"' in earlier and re.search(r'<option value="none"\s+selected', earlier)
    # a residency and its attendance sheet step months too: early in December the
    # lead opens November's sheet, still due, from the residency's page
    rid = residency(site)
    lead = browser("lead")
    page = lead.get(f"/onsite_residency/residencies/{rid}?month=2026-12").text
    november = re.search(r'href="([^"]*month=2026-11[^"]*)"\s+rel="prev"', page).group(1).replace("&amp;", "&")
    page = lead.get(f"/onsite_residency/residencies/{rid}" + november).text
    sheet = re.search(r'href="([^"]*/attendance\?month=2026-11)"', page).group(1)
    assert "Attendance sheet Nov 2026" in lead.get(sheet).text.split("</h1>")[0]
    assert 'value="2026-11"' in re.search(r'<span class="month-picker">(.*?)</span>', lead.get(sheet).text, re.S).group(1)


def test_a_report_cannot_be_rated_before_it_is_stamped_and_submitted(rweb):
    site, browser, _ = rweb
    rid = residency(site)
    rep = make_report(site, rid, date(2026, 10, 1), state="gm_review")
    r = browser("lead").submit(f"/onsite_residency/reports/{rep}/link")
    assert r.status_code == 422
    token = site.db.run(lambda s: links.issue_for(site, s, "onsite_residency.rate", s.get(ResidentReport, rep)))
    customer = browser()
    page = customer.get(f"/l/{token}")
    assert page.status_code == 409 and "rate-form" not in page.text and "工作记录" not in page.text
    r = customer.submit(f"/l/{token}", {"rating": "good", "satisfaction": "good"}, page=f"/l/{token}")
    assert r.status_code == 409
    assert site.db.run(lambda s: s.scalar(select(ResidentRating.id))) is None


def test_the_rating_link_is_single_use_and_scoped_to_its_report(rweb):
    site, browser, _ = rweb
    a = make_report(site, residency(site), date(2026, 10, 1), state="sent")
    b = make_report(site, residency(site, engineer="eng2", customer_index=1), date(2026, 10, 1), state="sent")
    token = site.db.run(lambda s: links.issue_for(site, s, "onsite_residency.rate", s.get(ResidentReport, a)))
    customer = browser()
    page = customer.get(f"/l/{token}")
    assert page.status_code == 200 and "工作记录 " in page.text
    b_work = site.db.run(lambda s: s.get(ResidentReport, b).work_done)
    assert b_work not in page.text
    # the token names report A: edited to point elsewhere it is refused
    link_id, nonce, sig = token.split(".")
    assert customer.get(f"/l/{int(link_id) + 1}.{nonce}.{sig}").status_code == 403
    r = customer.submit(f"/l/{token}", {"rating": "bogus", "satisfaction": "good"}, page=f"/l/{token}")
    assert r.status_code == 422
    r = customer.submit(f"/l/{token}", {"rating": "poor", "satisfaction": "average", "comments": "太慢"},
                        page=f"/l/{token}")
    assert r.status_code == 200
    assert customer.get(f"/l/{token}").status_code == 410
    r = customer.submit(f"/l/{token}", {"rating": "very_good", "satisfaction": "good"}, page="/login")
    assert r.status_code == 410
    saved = site.db.run(lambda s: [(x.report_id, x.rating) for x in s.scalars(select(ResidentRating))])
    assert saved == [(a, "poor")]
    # administration gets its copy of the feedback (RES-3)
    from fuwu.notifications import Notification
    admin_id, = ids(site, "admin_dept")
    notes = site.db.run(lambda s: s.scalars(select(Notification).where(Notification.staff_id == admin_id)).all())
    assert len(notes) == 1 and notes[0].params["rating"] == "差"


def test_month_close_table_emits_each_result_once(rweb):
    site, browser, caught = rweb
    month = date(2026, 9, 1)
    early = datetime(2026, 10, 2, 2, 0, tzinfo=UTC)   # before every due date (3rd / 5th of October)
    late = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
    expected = []
    for i, rating in enumerate(rules.RATINGS):
        for on_time in (True, False):
            rid = residency(site, customer_index=i % 3)
            rep = make_report(site, rid, month, state="sent", rating=rating, submitted=early if on_time else late)
            for o in rules.month_outcomes(rating, on_time, allowance=Decimal("300.00"),
                                          engineer_fine=Decimal("200.00"), lead_fine=Decimal("100.00")):
                if o.amount:
                    expected.append(("eng" if o.role == "engineer" else "lead", o.amount, o.rule,
                                     (f"onsite_residency.report.{o.role}", rep)))
    unrated = make_report(site, residency(site, customer_index=2), month, state="sent", submitted=early)
    admin = browser("admin_dept")
    for _ in range(2):
        assert admin.submit("/onsite_residency/close", {"month": "2026-09"}).status_code == 303
    assert sorted((u, a, r, s) for u, a, _reason, r, s in caught) == sorted(expected)
    assert len(caught) == 2 + 4 * 2  # 2 allowances; 4 poor or fairly poor months: engineer and lead
    page = admin.get("/onsite_residency/close?month=2026-09").text
    assert "rated good; documents late -&gt; 0.00" in page and "-200.00" in page
    # the unrated month is booked by a later close, once
    site.db.run(lambda s: s.add(ResidentRating(report_id=unrated, rating="very_good", satisfaction="good",
                                       rated_at=datetime.now(UTC))))
    admin.submit("/onsite_residency/close", {"month": "2026-09"})
    admin.submit("/onsite_residency/close", {"month": "2026-09"})
    assert len(caught) == 11 and caught[-1][1] == Decimal("300.00")
    assert browser("eng").submit("/onsite_residency/close", {"month": "2026-09"}).status_code == 403


def test_month_close_job_closes_last_month_from_the_close_day(rweb):
    site, _browser, caught = rweb
    from fuwu_plugins.onsite_residency.services import auto_close

    make_report(site, residency(site), date(2026, 9, 1), state="sent", rating="poor",
                submitted=datetime(2026, 10, 2, tzinfo=UTC))
    site.db.run(lambda s: auto_close(site, s, datetime(2026, 10, 10, 4, tzinfo=UTC)))
    assert caught == []  # before the close day (20th)
    for day in (20, 21):
        site.db.run(lambda s: auto_close(site, s, datetime(2026, 10, day, 4, tzinfo=UTC)))
    assert sorted(c[1] for c in caught) == [Decimal("-200.00"), Decimal("-100.00")]


def test_attendance_sheet_and_monthly_summary(rweb):
    site, browser, _ = rweb
    rid = residency(site)
    lead = browser("lead")
    path = f"/onsite_residency/residencies/{rid}/attendance"
    assert lead.get(f"{path}?month=2026-10").status_code == 200
    r = lead.submit(path, {"month": "2026-10", "s-2026-10-08": "present", "s-2026-10-09": "overtime",
                           "h-2026-10-09": "3", "s-2026-10-10": "leave", "n-2026-10-10": "事假",
                           "s-2026-10-12": "absent"}, page=path)
    assert r.status_code == 303
    r = lead.submit(path, {"month": "2026-10", "s-2026-10-13": "present", "h-2026-10-13": "99"}, page=path)
    assert r.status_code == 422
    rows = site.db.run(lambda s: {a.day: (a.status, a.overtime_hours, a.note)
                                  for a in s.scalars(select(ResidentAttendance))})
    assert rows == {date(2026, 10, 8): ("present", 0, ""), date(2026, 10, 9): ("overtime", 3, ""),
                    date(2026, 10, 10): ("leave", 0, "事假"), date(2026, 10, 12): ("absent", 0, "")}
    admin = browser("admin_dept")
    page = admin.get("/onsite_residency/attendance?month=2026-10")
    assert page.status_code == 200 and "signature" in page.text
    xlsx = admin.get("/onsite_residency/attendance?month=2026-10&format=xlsx")
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    assert values[1][2:] == (1, 1, 1, 1, 3)
    assert browser("eng").get("/onsite_residency/attendance").status_code == 403
    assert browser("eng").get(path).status_code == 403


def test_response_log_checks_each_call(rweb):
    site, browser, _ = rweb
    rid = residency(site)
    eng = browser("eng")
    base = f"/onsite_residency/residencies/{rid}"
    page = f"{base}/calls/new"
    for called, ack, reached in (("2026-10-08T09:00", "", "2026-10-08T09:04"),
                                 ("2026-10-08T10:00", "2026-10-08T10:03", "2026-10-08T10:30"),
                                 ("2026-10-08T11:00", "2026-10-08T11:01", "2026-10-08T11:40")):
        r = eng.submit(f"{base}/calls", {"called_at": called, "acknowledged_at": ack, "reached_at": reached,
                                         "summary": "打印机卡纸"}, page=page)
        assert r.status_code == 303
    r = eng.submit(f"{base}/calls", {"called_at": "2026-10-08T11:00", "reached_at": "2026-10-08T10:00"}, page=page)
    assert r.status_code == 422
    flags = site.db.run(lambda s: [c.compliant for c in s.scalars(select(ResidentCall).order_by(ResidentCall.id))])
    assert flags == [True, False, True]
    assert "2 of 3 calls" in eng.get(f"{base}?month=2026-10").text
    # the month's figures are filled into the report
    r = eng.submit(f"{base}/reports", {"month": "2026-10"}, page=base)
    rep = site.db.run(lambda s: s.scalar(select(ResidentReport)))
    assert (rep.figures["calls_calls"], rep.figures["calls_compliant"]) == (3, 2)


def test_residency_form_and_engineer_history(rweb):
    site, browser, _ = rweb
    manager = browser("manager")
    eng_id, lead_id = ids(site, "eng", "lead")
    cust = site.db.run(lambda s: s.scalar(select(Customer.id).order_by(Customer.id)))
    path = "/onsite_residency/residencies/new"
    data = {"engineer_id": eng_id, "lead_id": lead_id, "customer_id": customer_name(site, cust), "site_name": "总部机房",
            "starts_on": "2026-03-01", "ends_on": "2026-02-01"}
    r = manager.submit(path, data, page=path)
    assert r.status_code == 422 and "总部机房" in r.text
    r = manager.submit(path, {**data, "ends_on": "2026-08-31"}, page=path)
    assert r.status_code == 303
    residency(site, starts_on=date(2026, 9, 1))
    rid = int(r.headers["location"].rsplit("/", 1)[1])
    text = browser("eng").get(f"/onsite_residency/residencies/{rid}").text
    assert text.count("/onsite_residency/residencies/") >= 2  # both sites of the engineer
    assert browser("eng").get(path).status_code == 403


def test_pages_speak_chinese(rweb):
    site, browser, _ = rweb
    residency(site)
    page = browser("manager").get("/onsite_residency/", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200 and "驻场" in page.text


def test_overview_shows_who_is_late(rweb):
    site, browser, _ = rweb
    month = date(2026, 9, 1)
    make_report(site, residency(site), month, state="sent", submitted=datetime(2026, 10, 2, 2, tzinfo=UTC))
    late = make_report(site, residency(site, engineer="eng2", customer_index=1), month, state="lead_review",
                       submitted=datetime(2026, 10, 20, 2, tzinfo=UTC))
    page = browser("manager").get("/onsite_residency/?month=2026-09").text
    rows = {int(m.split('"')[0]): m for m in page.split('data-residency="')[1:]}
    late_rid = site.db.run(lambda s: s.get(ResidentReport, late).residency_id)
    assert "tag danger" in rows[late_rid] and all("tag danger" not in r for k, r in rows.items() if k != late_rid)
    assert browser("eng2").get("/onsite_residency/?month=2026-09").text.count('data-residency="') == 1
