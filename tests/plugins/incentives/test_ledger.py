"""The ledger through its doors: the core event, the pages, the spreadsheet."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from .conftest import USERS, emit, entries, this_month


def test_the_same_event_twice_records_one_entry(ledger):
    site, _browser = ledger
    source = emit(site, "eng", "-30.00", rule="TRV-8")
    emit(site, "eng", "-30.00", rule="TRV-8", source=source)
    emit(site, "eng", "-50.00", rule="SD-9", source=source)  # another rule, same record: its own entry
    rows = entries(site)
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
        ("eng", Decimal("-30.00"), "TRV-8", "proposed"), ("eng", Decimal("-50.00"), "SD-9", "proposed")]

    def twice_in_one_unit(s):
        from fuwu.models import Staff

        staff = s.scalar(select(Staff).where(Staff.username == "eng2"))
        for _ in range(2):
            site.events.emit(s, "incentive_due", staff=staff, amount=Decimal("100"), reason="r", rule_id="RES-8",
                             source=("job.run", 7))

    site.db.run(twice_in_one_unit)
    assert len(entries(site)) == 3


def test_an_empty_ledger_shows_every_page(ledger):
    _site, browser = ledger
    finance = browser("finance")
    for path in ("/incentives/", f"/incentives/ledger?month={this_month()}", "/incentives/months",
                 f"/incentives/months/{this_month()}", "/incentives/chart", "/"):
        r = finance.get(path)
        assert r.status_code == 200, path
    assert "No rewards or fines" in finance.get("/incentives/months").text


def test_a_third_party_plugin_emits_and_its_entry_links_back(web, make_plugin):
    manifest = (
        "from fuwu import Manifest\n"
        "from fuwu.i18n import lazy_gettext as _l\n"
        "MANIFEST = Manifest(name='bonus', version='1.0', title=_l('Sales bonus'), summary='test')\n")
    make_plugin("bonus", init=manifest, plugin="""
        from decimal import Decimal
        from fuwu.models import Staff
        from fuwu.site import site_of

        @hookimpl
        def customer_created(session, customer):
            if customer.sales_staff_id is not None:
                site_of(session).events.emit(session, "incentive_due", staff=session.get(Staff, customer.sales_staff_id),
                                             amount=Decimal("88.80"), reason="New customer won",
                                             rule_id="BONUS-1", source=("bonus.customer", customer.id))

        @hookimpl
        def incentive_source_url(request, kind, source_id):
            if kind == "bonus.customer":
                return request.url_for("customer", customer_id=source_id).path
    """)
    site, _app, browser = web(plugins=["incentives", "bonus"], users=USERS)
    from fuwu.models import Customer, Staff

    def add(s):
        eng = s.scalar(select(Staff).where(Staff.username == "eng"))
        c = Customer(name="第三方客户", account_type="retail", sales_staff_id=eng.id, department_id=eng.department_id)
        s.add(c)
        s.flush()
        return c.id

    cid = site.db.run(add)
    eng = browser("eng")
    page = eng.get("/incentives/")
    assert "New customer won" in page.text and "BONUS-1" in page.text and "88.80" in page.text
    # the source is named by the plugin's title and the record's number, not the internal kind
    assert f'<a href="/customers/{cid}">Sales bonus #{cid}</a>' in page.text and "bonus.customer" not in page.text


def test_a_source_the_reader_may_not_open_is_named_but_not_linked(web):
    site, _app, browser = web(plugins=["incentives", "complaints"], users=USERS)
    emit(site, "eng", "-200.00", rule="CMP-7", reason="服务态度投诉经核实：TS202611-0007",
         source=("complaints.complaint", 7))
    ledger = f"/incentives/ledger?month={this_month()}"
    # the service manager handles complaints: the entry links to the complaint
    assert '<a href="/complaints/7">Complaints #7</a>' in browser("manager").get(ledger).text
    # finance keeps the ledger but may not open complaints: the source is named, with no link to a 403
    page = browser("finance").get(ledger).text
    assert "Complaints #7" in page and 'href="/complaints/7"' not in page


def _entry_id(site, username):
    return [r[0] for r in entries(site) if r[1] == username][-1]


def test_manager_confirms_or_waives_with_a_reason(ledger):
    site, browser = ledger
    emit(site, "eng", "-30.00")
    emit(site, "eng", "-50.00")
    first, second = [r[0] for r in entries(site)]
    manager = browser("manager")
    page = f"/incentives/entry/{first}"
    r = manager.submit(f"{page}/review", {"action": "waive", "note": ""}, page=page)
    assert r.status_code == 422 and "Give the reason for waiving." in r.text
    r = manager.submit(f"{page}/review", {"action": "waive", "note": "First time, warned"}, page=page)
    assert r.status_code == 303
    r = manager.submit(f"/incentives/entry/{second}/review", {"action": "confirm"}, page=page)
    assert r.status_code == 303
    assert [r[4] for r in entries(site)] == ["waived", "confirmed"]
    detail = manager.get(page).text
    assert "First time, warned" in detail and "manager" in detail
    # the menu shows where the manager is: in the department's ledger, not in their own list
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', detail)
    assert current == ["/incentives/ledger"]
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', browser("eng").get(page).text) == ["/incentives/"]
    # engineers cannot review; nobody reviews their own entry
    emit(site, "manager", "-30.00")
    own = _entry_id(site, "manager")
    assert browser("eng").submit(f"/incentives/entry/{own}/review", {"action": "confirm"}).status_code == 403
    assert manager.submit(f"/incentives/entry/{own}/review", {"action": "confirm"}).status_code == 403


def test_employee_disputes_and_manager_decides(ledger):
    site, browser = ledger
    emit(site, "eng", "-200.00", rule="CMP-7")
    entry = _entry_id(site, "eng")
    eng = browser("eng")
    page = f"/incentives/entry/{entry}"
    assert "Dispute this entry" in eng.get(page).text
    r = eng.submit(f"{page}/dispute", {"reason": ""}, page=page)
    assert r.status_code == 422 and "Say why you dispute this entry." in r.text
    assert eng.submit(f"{page}/dispute", {"reason": "The customer meant the printer"}, page=page).status_code == 303
    assert entries(site)[-1][4] == "disputed"
    # a colleague cannot dispute someone else's entry: it is not theirs to see
    assert browser("eng2").submit(f"{page}/dispute", {"reason": "x"}).status_code == 404
    manager = browser("manager")
    assert "Decide the dispute" in manager.get(page).text
    r = manager.submit(f"{page}/decide", {"outcome": "upheld", "note": ""}, page=page)
    assert r.status_code == 422
    r = manager.submit(f"{page}/decide", {"outcome": "upheld", "note": "Hardware fault, not attitude"}, page=page)
    assert r.status_code == 303
    assert entries(site)[-1][4] == "waived"
    text = eng.get(page).text
    assert "Dispute upheld" in text and "Hardware fault, not attitude" in text
    # a second dispute on a decided entry is refused
    assert eng.submit(f"{page}/dispute", {"reason": "again"}, page=page).status_code == 422


def test_another_users_entry_is_not_found_on_read_and_write(ledger):
    site, browser = ledger
    emit(site, "eng", "-30.00")
    entry = _entry_id(site, "eng")
    page = f"/incentives/entry/{entry}"
    for user in ("outsider", "eng2", "far_manager"):
        b = browser(user)
        assert b.get(page).status_code == 404, user
        assert b.get("/incentives/").text.count(f"/incentives/entry/{entry}") == 0
    assert browser("far_manager").submit(f"{page}/review", {"action": "confirm"}).status_code == 404
    assert browser("outsider").submit(f"{page}/dispute", {"reason": "x"}).status_code == 404
    assert browser("far_manager").get(f"/incentives/staff/{entry}").status_code == 404
    # the department's manager and finance see it
    assert browser("manager").get(page).status_code == 200
    assert browser("finance").get(page).status_code == 200


def test_permissions_and_csrf(ledger):
    site, browser = ledger
    eng = browser("eng")
    month = this_month()
    assert eng.get(f"/incentives/ledger?month={month}").status_code == 403
    assert eng.get(f"/incentives/months/{month}").status_code == 403
    assert eng.submit(f"/incentives/months/{month}/close").status_code == 403
    assert browser("manager").submit(f"/incentives/months/{month}/close").status_code == 403
    assert eng.get("/incentives/entry/new").status_code == 403
    emit(site, "eng", "-30.00")
    entry = _entry_id(site, "eng")
    r = browser("manager").post(f"/incentives/entry/{entry}/review", data={"action": "confirm"})
    assert r.status_code == 403 and entries(site)[-1][4] == "proposed"


def _close(browser, month):
    return browser.submit(f"/incentives/months/{month}/close", page=f"/incentives/months/{month}")


def test_a_closed_month_refuses_changes_and_corrections_go_to_the_next(ledger):
    site, browser = ledger
    month = this_month()
    emit(site, "eng", "-30.00")
    entry = _entry_id(site, "eng")
    finance = browser("finance")
    assert _close(finance, month).status_code == 303
    assert "Month closed" in finance.get(f"/incentives/months/{month}").text
    assert entries(site)[-1][4] == "confirmed"  # closing confirmed what nobody reviewed
    page = f"/incentives/entry/{entry}"
    r = browser("manager").submit(f"{page}/review", {"action": "waive", "note": "late"}, page=page)
    assert r.status_code == 422 and "is closed" in r.text
    r = browser("eng").submit(f"{page}/dispute", {"reason": "wrong"}, page=page)
    assert r.status_code == 422
    assert _close(finance, month).status_code == 303  # a second close changes nothing
    # no code path changes a closed month's entries
    from fuwu.errors import ValidationError
    from fuwu_plugins.incentives.models import Entry

    def tamper(s):
        s.get(Entry, entry).amount = Decimal("-1.00")

    with pytest.raises(ValidationError):
        site.db.run(tamper)
    assert entries(site)[-1][2] == Decimal("-30.00")
    # a late cause is booked in the next open month
    emit(site, "eng2", "-50.00")
    late = entries(site)[-1]
    assert late[1] == "eng2" and late[5] > month
    # a correction of the closed entry: a new entry in an open month
    form_page = f"/incentives/entry/new?correction_of={entry}"
    form = finance.get(form_page)
    assert form.status_code == 200 and "Correction of entry" in form.text
    from fuwu.models import Staff

    with site.db.session(write=False) as s:
        eng_id = s.scalar(select(Staff.id).where(Staff.username == "eng"))
    r = finance.submit(form_page, {"staff_id": eng_id, "kind": "reward", "amount": "30.00", "rule_id": "TRV-8",
                                   "reason": "Fine booked in error"}, page=form_page)
    assert r.status_code == 303, r.text[:2000]
    correction = entries(site)[-1]
    assert correction[2] == Decimal("30.00") and correction[5] > month


def test_close_waits_for_open_disputes(ledger):
    site, browser = ledger
    emit(site, "eng", "-30.00")
    entry = _entry_id(site, "eng")
    page = f"/incentives/entry/{entry}"
    browser("eng").submit(f"{page}/dispute", {"reason": "not me"}, page=page)
    finance = browser("finance")
    r = _close(finance, this_month())
    assert r.status_code == 303
    assert "still open" in finance.get(r.headers["location"]).text
    assert "Month open" in finance.get(f"/incentives/months/{this_month()}").text


def test_manual_entry_validates(ledger):
    _site, browser = ledger
    manager = browser("manager")
    r = manager.submit("/incentives/entry/new", {"staff_id": "", "kind": "fine", "amount": "-5", "rule_id": "",
                                                 "reason": ""}, page="/incentives/entry/new")
    assert r.status_code == 422 and "This field is required." in r.text


def test_payroll_spreadsheet_equals_the_ledger_to_the_cent(ledger):
    from openpyxl import load_workbook

    site, browser = ledger
    amounts = ["-30.00", "-0.01", "300.00", "12.34", "-99.99", "0.05", "-200.00", "1234.56"]
    users = ["eng", "eng2", "outsider"]
    for i, amount in enumerate(amounts):
        emit(site, users[i % 3], amount, rule=f"R-{i % 4}", reason=f"=cause {i}")
    manager = browser("manager")
    waived = entries(site)[0][0]
    manager.submit(f"/incentives/entry/{waived}/review", {"action": "waive", "note": "pardon"})
    finance = browser("finance")
    month = this_month()
    assert _close(finance, month).status_code == 303
    r = finance.get(f"/incentives/months/{month}/payroll.xlsx", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    lines, people, depts = book.worksheets
    header = [c.value for c in lines[1]]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in h) for h in header), header
    rows = [[c.value for c in row] for row in lines.iter_rows(min_row=2)]
    ledger_rows = entries(site)
    assert len(rows) == len(ledger_rows)
    expected = sum((r[2] for r in ledger_rows if r[4] == "confirmed"), Decimal("0"))
    state_of = {r[0]: r[4] for r in ledger_rows}
    by_line = {int(str(r[10]).rsplit("/", 1)[1]): Decimal(str(r[6])) for r in rows}
    assert sum(by_line.values()) == sum(r[2] for r in ledger_rows)
    assert sum(v for k, v in by_line.items() if state_of[k] == "confirmed") == expected
    people_rows = [[c.value for c in row] for row in people.iter_rows(min_row=2)]
    assert Decimal(str(people_rows[-1][5])).quantize(Decimal("0.01")) == expected
    assert sum(Decimal(str(r[5])) for r in people_rows[:-1]).quantize(Decimal("0.01")) == expected
    dept_rows = [[c.value for c in row] for row in depts.iter_rows(min_row=2)]
    assert Decimal(str(dept_rows[-1][3])).quantize(Decimal("0.01")) == expected
    # every line links back to the ledger entry; formulas typed as reasons stay text
    assert all(str(r[10]).startswith("http://testserver/incentives/entry/") for r in rows)
    assert all(not str(r[5]).startswith("=") for r in rows)
    # a month still open has no payroll spreadsheet
    assert finance.get("/incentives/months/2000-01/payroll.xlsx").status_code == 404


def test_ledger_list_queries_do_not_grow_with_rows(ledger):
    site, browser = ledger
    finance = browser("finance")
    statements = []

    def count(*_args, **_kw):
        statements.append(1)

    path = f"/incentives/ledger?month={this_month()}"
    measured = []
    for n in (10, 50):
        for i in range(n - sum(1 for _ in entries(site))):
            emit(site, ("eng", "eng2", "outsider")[i % 3], "-1.00", reason=f"row {i}")
        assert finance.get(path).status_code == 200  # warm: the sign-in is cached from here on
        statements.clear()
        event.listen(site.db.engine, "before_cursor_execute", count)
        try:
            assert finance.get(path).status_code == 200
        finally:
            event.remove(site.db.engine, "before_cursor_execute", count)
        measured.append(len(statements))
    assert measured[0] == measured[1], measured


def test_pages_in_chinese_and_exports(ledger):
    site, browser = ledger
    emit(site, "eng", "-30.00", rule="TRV-8")
    eng = browser("eng")
    page = eng.get("/incentives/", headers={"Accept-Language": "zh-CN"})
    assert "我的奖惩" in page.text
    csv = eng.get("/incentives/?format=csv")
    assert csv.status_code == 200 and "TRV-8" in csv.text and "-30.00" in csv.text
    assert browser("finance").get(f"/incentives/ledger?month={this_month()}&format=xlsx").status_code == 200


def test_demo_data_loads_twice_without_duplicates(ledger):
    site, _browser = ledger
    from fuwu.demo import load_core

    for _ in range(2):
        site.db.run(lambda s: (load_core(site, s), site.plugins.pm.hook.demo_data(session=s, site=site)))
    rows = entries(site)
    assert len(rows) == 7
    assert {r[4] for r in rows} == {"proposed", "confirmed", "waived", "disputed"}


def test_views_with_entries_chart_panel_fragment_and_dashboard(ledger):
    site, browser = ledger
    emit(site, "eng", "-30.00", rule="TRV-8")
    emit(site, "eng", "300.00", rule="RES-4")
    emit(site, "eng2", "-10.00", rule="SD-9")
    emit(site, "eng2", "-5.00", rule="SD-9")
    manager = browser("manager")
    for entry in [r[0] for r in entries(site)][:2]:
        manager.submit(f"/incentives/entry/{entry}/review", {"action": "confirm"})
    zh = {"Accept-Language": "zh-CN"}
    chart = manager.get("/incentives/chart", headers=zh)
    assert chart.status_code == 200 and "奖惩图表" in chart.text and "inc-bar fine w-10" in chart.text
    assert "inc-bar reward w-100" in chart.text
    fragment = manager.get(f"/incentives/ledger?month={this_month()}&kind=fine", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and "TRV-8" in fragment.text
    assert "RES-4" not in fragment.text
    from fuwu.models import Staff

    with site.db.session(write=False) as s:
        eng_id = s.scalar(select(Staff.id).where(Staff.username == "eng"))
    panel = manager.get(f"/incentives/staff/{eng_id}", headers=zh)
    year, month = this_month().split("-")
    assert panel.status_code == 200 and f"<td>{year}年{int(month)}月</td>" in panel.text  # the month the reader's way
    home = manager.get("/", headers=zh)
    assert "2 条等待您审核" in home.text
    months = browser("finance").get("/incentives/months", headers=zh)
    assert "未结账" in months.text and "2 条待审核" in months.text


def test_disputes_close_after_the_working_days_of_the_setting(web):
    from datetime import timedelta

    from fuwu.db import utcnow
    from fuwu_plugins.incentives.models import Entry

    site, _app, browser = web(plugins=["incentives"], users=USERS, settings={"incentives.dispute_days": 2})
    emit(site, "eng", "-30.00")
    entry = entries(site)[-1][0]

    def backdate(s):
        s.get(Entry, entry).created_at = utcnow() - timedelta(days=9)  # more than 2 working days ago

    site.db.run(backdate)
    eng = browser("eng")
    page = f"/incentives/entry/{entry}"
    assert "Dispute this entry" not in eng.get(page).text
    r = eng.submit(f"{page}/dispute", {"reason": "too late?"}, page=page)
    assert r.status_code == 422 and "can no longer be disputed" in r.text
