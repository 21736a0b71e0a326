"""Workflow rules, bad input, record rules (IDOR), lists, exports, report and
the TRV-8 fine, all through HTTP or the job as a user would meet them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from babel.dates import format_date
from sqlalchemy import event, func, select

from fuwu.models import Staff
from fuwu.notifications import Notification
from fuwu_plugins.travel_expense import services
from fuwu_plugins.travel_expense.models import Advance, Claim, Fine, ServiceRecord, Trip
from tests.conftest import zh

from .conftest import STANDARD_LINES, approved_trip, claim_lines, created_id, customer_names, file_trip, step


def ask_advance(b, trip, amount="500", method="cheque", reason=""):
    page = f"/travel_expense/trip/{trip}/advance"
    return b.submit(page, {"amount": amount, "purpose": "借款", "method": method, "method_reason": reason}, page=page)


def count(site, model, **where):
    return site.db.run(lambda s: s.scalar(select(func.count()).select_from(model).filter_by(**where)))


def test_a_second_advance_is_refused_naming_the_open_one_trv6(tweb):
    site, _app, browser = tweb
    eng = browser("eng")
    first_trip, second_trip = approved_trip(site, browser), approved_trip(site, browser, destinations="杭州")
    first = created_id(ask_advance(eng, first_trip))
    r = ask_advance(eng, second_trip)
    assert r.status_code == 422
    assert f"Advance #{first} of 500.00 yuan (trip to 苏州) is not cleared yet" in r.text
    assert eng.get(f"/travel_expense/trip/{second_trip}/advance").status_code == 422
    assert count(site, Advance) == 1
    # another traveller is not affected
    other = approved_trip(site, browser, traveller="eng2")
    assert ask_advance(browser("eng2"), other).status_code == 303


def test_other_payment_methods_need_an_explanation_trv5(tweb):
    site, _app, browser = tweb
    eng = browser("eng")
    trip = approved_trip(site, browser)
    r = ask_advance(eng, trip, method="transfer")
    assert r.status_code == 422 and "cannot be paid by cheque" in r.text
    advance = created_id(ask_advance(eng, trip, method="transfer", reason="出差地无法兑现支票"))
    assert step(browser("boss"), "advance", advance, "approve", "同意转账").status_code == 303
    page = browser("finance").get(f"/travel_expense/advance/{advance}").text
    assert "出差地无法兑现支票" in page and "Explanation approved by boss" in page


def test_rejection_needs_a_reason_and_returns_the_form_to_draft(tweb):
    site, _app, browser = tweb
    eng, manager = browser("eng"), browser("manager")
    trip = file_trip(site, eng)
    assert step(eng, "trip", trip, "submit").status_code == 303
    r = step(manager, "trip", trip, "reject", "")
    assert r.status_code == 422 and "Please give a reason." in r.text
    assert site.db.run(lambda s: s.get(Trip, trip).state) == "review"
    assert step(manager, "trip", trip, "reject", "行程不清楚").status_code == 303
    assert site.db.run(lambda s: s.get(Trip, trip).state) == "draft"
    assert "行程不清楚" in eng.get(f"/travel_expense/trip/{trip}").text
    # the traveller may not approve their own application
    assert step(eng, "trip", trip, "submit").status_code == 303
    assert step(eng, "trip", trip, "approve").status_code == 403


def test_an_archived_application_cannot_be_edited(tweb):
    site, _app, browser = tweb
    eng = browser("eng")
    trip = approved_trip(site, browser)
    assert step(browser("office"), "trip", trip, "approve").status_code == 303
    r = eng.submit(f"/travel_expense/trip/{trip}/edit", {"destinations": "改过的"}, page=f"/travel_expense/trip/{trip}")
    assert r.status_code == 422 and "Only a draft can be edited" in r.text
    # the engine's own lock, whatever the path
    from fuwu.errors import ReadOnlyRecord

    def change(s):
        s.get(Trip, trip).destinations = "改过的"

    try:
        site.db.run(change)
        raise AssertionError("an archived application was changed")
    except ReadOnlyRecord:
        pass
    assert site.db.run(lambda s: s.get(Trip, trip).destinations) == "苏州"


def test_bad_input_gets_clear_messages_and_saves_nothing(tweb):
    site, _app, browser = tweb
    eng = browser("eng")
    r = eng.submit("/travel_expense/new", {"destinations": "苏州", "depart_on": "2026-03-04", "return_on": "2026-03-02",
                                           "purpose": "x", "transport_class": "train_hard_sleeper",
                                           "est_transport": "-5"})
    assert r.status_code == 422
    assert "The return cannot be before the departure." in r.text or "cannot be negative" in r.text
    r = eng.submit("/travel_expense/new", {"destinations": "苏州", "depart_on": "2026-03-02", "return_on": "2026-03-04",
                                           "purpose": "x", "transport_class": "train_hard_sleeper",
                                           "est_lodging": "abc"})
    assert r.status_code == 422 and "Enter an amount in yuan" in r.text
    assert count(site, Trip) == 0

    trip = approved_trip(site, browser)
    page = f"/travel_expense/trip/{trip}/claim"
    cases = [
        ({"departed_at": "2026-03-04T09:00", "returned_at": "2026-03-02T09:00", **STANDARD_LINES},
         "The return must be after the departure."),
        ({"departed_at": "2026-03-02T09:00", "returned_at": "2026-03-04T09:00",
          **claim_lines(("local", "出租车", "-3", "", False, ""))}, "The amount cannot be negative."),
        ({"departed_at": "2026-03-02T09:00", "returned_at": "2026-03-04T09:00",
          **claim_lines(("local", "出租车", "abc", "", False, ""))}, "Enter an amount in yuan"),
        ({"departed_at": "2026-03-02T09:00", "returned_at": "2026-03-04T09:00",
          **claim_lines(("lodging", "酒店", "200", "2", False, ""))}, "Lodging needs an invoice (TRV-2)."),
        ({"departed_at": "2026-03-02T09:00", "returned_at": "2026-03-04T09:00",
          **claim_lines(("transport", "飞机", "900", "", False, "plane_economy"))}, "needs a reason for the approver"),
        ({"departed_at": "soon", "returned_at": "2026-03-04T09:00", **STANDARD_LINES}, "Enter a date and time."),
    ]
    for data, message in cases:
        r = eng.submit(page, data, page=page)
        assert r.status_code == 422, (message, r.status_code)
        assert message in r.text, message
    assert count(site, Claim) == 0
    # a claim filed before the application is approved
    draft = file_trip(site, eng)
    r = eng.submit(f"/travel_expense/trip/{draft}/claim", {"departed_at": "2026-03-02T09:00",
                                                           "returned_at": "2026-03-04T09:00", **STANDARD_LINES},
                   page=f"/travel_expense/trip/{draft}")
    assert r.status_code == 422 and "approved by the service manager" in r.text


def test_another_travellers_records_are_not_found_on_read_and_write(tweb):
    site, _app, browser = tweb
    eng, eng2 = browser("eng"), browser("eng2")
    trip = approved_trip(site, browser)
    advance = created_id(ask_advance(eng, trip))
    data = {"departed_at": "2026-03-02T09:00", "returned_at": "2026-03-04T10:30", **STANDARD_LINES}
    claim = created_id(eng.submit(f"/travel_expense/trip/{trip}/claim", data, page=f"/travel_expense/trip/{trip}"))
    for path in (f"/travel_expense/trip/{trip}", f"/travel_expense/advance/{advance}", f"/travel_expense/claim/{claim}",
                 f"/travel_expense/trip/{trip}/edit", f"/travel_expense/trip/{trip}/claim",
                 f"/travel_expense/trip/{trip}/advance"):
        assert eng2.get(path).status_code == 404, path
    for path, body in ((f"/travel_expense/trip/{trip}/claim", data),
                       (f"/travel_expense/trip/{trip}/step/approve", {}),
                       (f"/travel_expense/claim/{claim}/step/submit", {}),
                       (f"/travel_expense/advance/{advance}/step/cancel", {}),
                       (f"/travel_expense/trip/{trip}/record", {"customer_id": "1", "summary": "x"})):
        assert eng2.submit(path, body).status_code == 404, path
    assert f'data-trip="{trip}"' not in eng2.get("/travel_expense/").text
    # the manager sees it; an engineer cannot reach finance's or the report's pages
    assert browser("manager").get(f"/travel_expense/claim/{claim}").status_code == 200
    for path in ("/travel_expense/advances", "/travel_expense/report", "/travel_expense/standards/new"):
        assert eng.get(path).status_code == 403, path
    # a manager may read but not settle or pay
    assert browser("manager").submit(f"/travel_expense/advance/{advance}/pay", {"paid_on": "2026-03-01"}).status_code == 403


def test_trip_list_costs_the_same_queries_for_10_and_50_rows(tweb):
    site, _app, browser = tweb
    site.db.run(lambda s: site.settings.set(s, "core.page_size", "100"))
    manager = browser("manager")
    owner = site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == "eng")))

    def add(n):
        def work(s):
            customers = services.Customer
            people = list(s.scalars(select(customers).limit(2)))
            for i in range(n):
                trip = Trip(destinations=f"城市{i}", region="华东", purpose="p", transport_class="train_hard_sleeper",
                            depart_on=datetime(2026, 3, 1).date(), return_on=datetime(2026, 3, 2).date(),
                            owner_id=owner, customers=people)
                site.workflows.start(s, trip)
        site.db.run(work)

    def queries():
        n = [0]

        def counter(*_a):
            n[0] += 1

        event.listen(site.db.engine, "before_cursor_execute", counter)
        try:
            r = manager.get("/travel_expense/")
        finally:
            event.remove(site.db.engine, "before_cursor_execute", counter)
        return n[0], len(re.findall(r'data-trip="', r.text))

    manager.get("/travel_expense/")
    add(10)
    ten, shown = queries()
    assert shown == 10
    add(40)
    fifty, shown = queries()
    assert shown == 50
    assert ten == fifty, (ten, fifty)
    print(f"trip list: {ten} queries for 10 and 50 rows")


def test_finance_overview_with_1000_claims(tweb):
    site, _app, browser = tweb
    owner = site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == "eng")))
    start = datetime(2026, 3, 2, 1, tzinfo=UTC)

    def work(s):
        for i in range(1000):
            trip = Trip(destinations=f"城市{i}", region=("华东", "华北", "西北")[i % 3], purpose="p",
                        transport_class="train_hard_sleeper", depart_on=start.date(), return_on=start.date(),
                        owner_id=owner, state="archived")
            s.add(trip)
            s.flush()
            s.add(Claim(trip_id=trip.id, owner_id=owner, departed_at=start, returned_at=start + timedelta(hours=8),
                        grade="junior", std_transport_class="train_hard_sleeper", std_lodging_cap=Decimal("120"),
                        std_meal_rate=Decimal("30"), days=Decimal("1"), total=Decimal("100.00"),
                        state="settlement" if i % 5 else "settled"))
            if i % 10 == 0:
                s.add(Advance(trip_id=trip.id, owner_id=owner, amount=Decimal("300"), state="paid"))
    site.db.run(work)
    finance = browser("finance")
    n = [0]

    def counter(*_a):
        n[0] += 1

    for path in ("/travel_expense/advances", "/travel_expense/ledger", "/travel_expense/report?month=2026-03&by=region"):
        finance.get(path)
        n[0] = 0
        event.listen(site.db.engine, "before_cursor_execute", counter)
        try:
            r = finance.get(path)
        finally:
            event.remove(site.db.engine, "before_cursor_execute", counter)
        assert r.status_code == 200
        assert n[0] <= 20, (path, n[0])  # constant: nothing is loaded per row
        print(f"{path}: {n[0]} queries with 1000 claims")
    report = finance.get("/travel_expense/report?month=2026-03&by=engineer").text
    assert "100,000.00" in report or "100000.00" in report
    r = finance.get("/travel_expense/report?month=2026-03&by=region&format=xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")


def test_exports_of_the_lists(tweb):
    site, _app, browser = tweb
    approved_trip(site, browser)
    for path in ("/travel_expense/?format=xlsx", "/travel_expense/advances?format=xlsx",
                 "/travel_expense/ledger?format=csv"):
        who = "manager" if path.startswith("/travel_expense/?") else "finance"
        r = browser(who).get(path)
        assert r.status_code == 200, path
    assert "苏州" in browser("manager").get("/travel_expense/?format=csv").text


def test_service_record_reaches_the_customer_timeline_and_the_fine_is_booked_once_trv8(tweb):
    site, _app, browser = tweb
    eng = browser("eng")
    trip = approved_trip(site, browser, depart_on="2026-03-02", return_on="2026-03-04")
    other = approved_trip(site, browser, destinations="无锡", depart_on="2026-03-02", return_on="2026-03-04")
    customer = site.db.run(lambda s: s.get(Trip, trip).customers[0].id)
    r = eng.submit(f"/travel_expense/trip/{trip}/record", {"customer_id": str(customer), "summary": "完成升级"},
                   page=f"/travel_expense/trip/{trip}")
    assert r.status_code == 303
    customer_page = browser("manager").get(f"/customers/{customer}").text
    assert "完成升级" in customer_page  # the customer's service timeline
    assert 'id="travel-panel"' in customer_page and "Written" in customer_page
    now = datetime(2026, 3, 9, 2, tzinfo=UTC)  # five days after return, grace 3
    emitted, reasons = [], []
    original = site.events.emit

    def spy(session, name, **kw):
        if name == "incentive_due":
            emitted.append((kw["amount"], kw["rule_id"], kw["source"], kw["staff"].username))
            reasons.append(kw["reason"])
        return original(session, name, **kw)

    site.events.emit = spy
    assert site.db.run(lambda s: services.record_fines(site, s, now)) == 1
    assert site.db.run(lambda s: services.record_fines(site, s, now + timedelta(days=1))) == 0
    fines = site.db.run(lambda s: [(f.trip_id, f.amount) for f in s.scalars(select(Fine))])
    assert fines == [(other, Decimal("30.00"))]
    assert count(site, ServiceRecord) == 1
    assert count(site, Notification, source="travel_expense") == 1
    assert emitted == [(Decimal("-30.00"), "TRV-8", ("travel_expense.trip", other), "eng")]
    # the ledger keeps the sentence as written: in the site's language
    day = format_date(site.db.run(lambda s: s.get(Trip, other).depart_on), "medium", locale="zh_Hans")
    assert reasons == [zh(site, "Trip to %(destinations)s on %(day)s not written into the service record",
                          destinations=site.db.run(lambda s: s.get(Trip, other).destinations), day=day)]


def test_standards_are_edited_by_finance_and_apply_from_their_date(tweb):
    site, _app, browser = tweb
    finance = browser("finance")
    r = finance.submit("/travel_expense/standards/new", {"grade": "intermediate", "effective_from": "2026-03-03",
                                                         "transport_class": "train_soft_sleeper",
                                                         "lodging_cap": "150", "meal_rate": "40"},
                       page="/travel_expense/standards/new")
    assert r.status_code == 303
    r = finance.submit("/travel_expense/standards/new", {"grade": "intermediate", "effective_from": "2026-03-03",
                                                         "transport_class": "train_soft_sleeper",
                                                         "lodging_cap": "-1", "meal_rate": "40"},
                       page="/travel_expense/standards/new")
    assert r.status_code == 422
    # eng has no position: general staff; a grade's row applies from its date on
    got = site.db.run(lambda s: (services.standard_for(site, s, "intermediate", datetime(2026, 3, 2).date()),
                                 services.standard_for(site, s, "intermediate", datetime(2026, 3, 3).date())))
    assert (got[0].meal_rate, got[1].meal_rate) == (Decimal("30.00"), Decimal("40.00"))


def test_late_and_above_class_claims_are_flagged_for_the_approver(tweb):
    site, _app, browser = tweb
    eng = browser("eng")
    trip = approved_trip(site, browser)
    data = {"departed_at": "2026-03-02T14:00", "returned_at": "2026-03-02T20:00", "remarks": "硬卧售罄，改乘飞机",
            **claim_lines(("transport", "飞机", "900", "", False, "plane_economy"))}
    claim = created_id(eng.submit(f"/travel_expense/trip/{trip}/claim", data, page=f"/travel_expense/trip/{trip}"))
    assert step(eng, "claim", claim, "submit").status_code == 303
    queue = browser("manager").get("/travel_expense/?claim=review").text
    assert f'data-trip="{trip}"' in queue
    assert f'data-trip="{trip}"' not in browser("manager").get("/travel_expense/?claim=settlement").text
    page = browser("manager").get(f"/travel_expense/claim/{claim}").text
    # returned on 2 March 2026: due by the 9th, filed today (later): late
    assert "Late: due by" in page and "Transport above the standard class" in page
    assert "Meals: 0.5 days x 30.00 = 15.00" in page and "硬卧售罄，改乘飞机" in page
    assert "class Plane, economy class is above the standard Train, hard sleeper" in page
    # the traveller can no longer change a submitted claim
    r = eng.submit(f"/travel_expense/trip/{trip}/claim", data, page=f"/travel_expense/trip/{trip}")
    assert r.status_code == 422 and "can no longer be edited" in r.text
    # sent back with a reason, it is a draft again
    assert step(browser("manager"), "claim", claim, "reject", "请附机票行程单").status_code == 303
    assert site.db.run(lambda s: s.get(Claim, claim).state) == "draft"


def test_pages_in_traditional_chinese_and_htmx_fragments(tweb):
    site, _app, browser = tweb
    trip = approved_trip(site, browser)
    eng = browser("eng")
    page = eng.get(f"/travel_expense/trip/{trip}", headers={"Accept-Language": "zh-TW"}).text
    assert "出差申請單" in page and 'class="signature"' in page
    fragment = eng.get("/travel_expense/?q=苏州", headers={"HX-Request": "true"}).text
    assert f'data-trip="{trip}"' in fragment and "<html" not in fragment


def test_every_page_opens_in_chinese_for_its_roles(tweb):
    site, _app, browser = tweb
    trip = approved_trip(site, browser)
    eng = browser("eng")
    advance = created_id(ask_advance(eng, trip))
    zh = {"Accept-Language": "zh-CN"}
    pages = {
        "eng": ["/travel_expense/", "/travel_expense/new", f"/travel_expense/trip/{trip}",
                f"/travel_expense/trip/{trip}/claim", f"/travel_expense/advance/{advance}", "/travel_expense/ledger",
                "/travel_expense/standards", "/"],
        "finance": ["/travel_expense/advances", "/travel_expense/report", "/travel_expense/standards/new",
                    "/travel_expense/ledger", f"/travel_expense/advance/{advance}"],
        "manager": ["/travel_expense/?state=review", "/travel_expense/report?by=customer&month=2026-03"],
    }
    for user, paths in pages.items():
        b = browser(user)
        for path in paths:
            r = b.get(path, headers=zh)
            assert r.status_code == 200, (user, path, r.status_code)
    menu = eng.get("/", headers=zh).text
    assert "借款台账" in menu and "差旅标准" in menu and "差旅费用报表" not in menu
    assert "新建标准" not in eng.get("/travel_expense/standards", headers=zh).text


def test_a_claim_is_not_settled_while_the_trips_advance_is_unpaid(tweb):
    site, _app, browser = tweb
    eng, finance = browser("eng"), browser("finance")
    trip = approved_trip(site, browser)
    advance = created_id(ask_advance(eng, trip))
    data = {"departed_at": "2026-03-02T09:00", "returned_at": "2026-03-04T10:30", **STANDARD_LINES}
    claim = created_id(eng.submit(f"/travel_expense/trip/{trip}/claim", data, page=f"/travel_expense/trip/{trip}"))
    assert step(eng, "claim", claim, "submit").status_code == 303
    assert step(browser("manager"), "claim", claim, "approve").status_code == 303
    version = site.db.run(lambda s: s.get(Claim, claim).version)
    r = finance.submit(f"/travel_expense/claim/{claim}/settle", {"version": str(version)})
    assert r.status_code == 422 and f"Advance #{advance} of this trip is not paid yet" in r.text
    assert site.db.run(lambda s: s.get(Claim, claim).state) == "settlement"
    # the dashboards: the traveller's open advance, finance's queues
    assert "My open advance: 500.00 yuan" in eng.get("/").text
    card = finance.get("/").text
    assert "Claims to settle</a>: 1" in card and "Payments due</a>: 0" in card


def test_the_customers_a_trip_serves_are_typed_by_name(tweb):
    """Any of many customers can be named (no list cut short), each once;
    the edit page shows them by name with room for more."""
    site, _app, browser = tweb
    eng = browser("eng")
    first, second = customer_names(site)
    r = eng.submit("/travel_expense/new", {"destinations": "苏州", "depart_on": "2026-03-02", "return_on": "2026-03-04",
                                           "purpose": "x", "transport_class": "train_hard_sleeper",
                                           "customer_ids": [first, "不存在的客户", ""]})
    assert r.status_code == 422 and "不存在的客户" in r.text and count(site, Trip) == 0
    r = eng.submit("/travel_expense/new", {"destinations": "苏州", "depart_on": "2026-03-02", "return_on": "2026-03-04",
                                           "purpose": "x", "transport_class": "train_hard_sleeper",
                                           "customer_ids": [first] * 51})
    assert r.status_code == 422 and "At most 50 names." in r.text and count(site, Trip) == 0
    trip = file_trip(site, eng, customer_ids=[second, "", first, second])
    assert sorted(site.db.run(lambda s: [c.name for c in s.get(Trip, trip).customers])) == sorted([first, second])
    edit = eng.get(f"/travel_expense/trip/{trip}/edit").text
    boxes = re.findall(r'<input id="f-customer_ids[^"]*" name="customer_ids" value="([^"]*)"', edit)
    assert sorted(boxes[:2]) == sorted([first, second]) and boxes[2:] == ["", "", ""]


def test_a_trips_customers_are_listed_the_readers_way(tweb):
    """The customers a trip serves read "甲和乙" on Chinese pages and
    "A and B" on English ones, in the list and on the trip (as links)."""
    site, _app, browser = tweb
    eng = browser("eng")
    first, second = customer_names(site)
    trip = file_trip(site, eng, customer_ids=[first, second])
    zh, en = {"Accept-Language": "zh-CN"}, {"Accept-Language": "en"}
    assert f"<td>{first}和{second}</td>" in eng.get("/travel_expense/", headers=zh).text
    assert f"<td>{first} and {second}</td>" in eng.get("/travel_expense/", headers=en).text
    page = eng.get(f"/travel_expense/trip/{trip}", headers=zh).text
    assert re.search(rf'<a href="/customers/\d+">{first}</a>和<a href="/customers/\d+">{second}</a>', page)
    assert ", " not in re.search(r"<dd>(<a href=\"/customers/.*?)</dd>", page).group(1)


def test_naming_many_customers_costs_no_query_per_name(tweb):
    """A trip serving twelve customers is saved and shown for editing with
    as many queries as one serving two: the names are looked up together."""
    site, _app, browser = tweb
    eng = browser("eng")
    names = customer_names(site, 12)
    assert len(names) == 12

    def statements(call):
        seen = []

        def counter(*_a):
            seen.append(1)

        event.listen(site.db.engine, "before_cursor_execute", counter)
        try:
            response = call()
        finally:
            event.remove(site.db.engine, "before_cursor_execute", counter)
        return response, len(seen)

    file_trip(site, eng)  # the first save of a site reads what later ones have cached
    saves, edits = [], []
    for served in (names[:2], names):
        made, n = statements(lambda: file_trip(site, eng, customer_ids=served))
        saves.append(n)
        edit, n = statements(lambda: eng.get(f"/travel_expense/trip/{made}/edit"))
        edits.append(n)
        boxes = re.findall(r'<input id="f-customer_ids[^"]*" name="customer_ids" value="([^"]+)"', edit.text)
        assert sorted(boxes) == sorted(served)
    assert saves[0] == saves[1] and edits[0] == edits[1], (saves, edits)


def test_what_waits_on_the_reader_is_named_their_way_and_opens_the_record(tweb):
    """The dashboard's "waiting on me" and the notification that a form came
    back: linked to the record, named in the reader's language and date
    format, whoever moved the record on and in whichever language."""
    site, _app, browser = tweb
    eng = browser("eng")
    eng.headers["Accept-Language"] = "zh-CN"  # the traveller works in Chinese
    trip = file_trip(site, eng, destinations="苏州", depart_on="2026-12-02", return_on="2026-12-04")
    assert step(eng, "trip", trip, "submit").status_code == 303

    manager = browser("manager")  # English
    card = manager.get("/").text
    assert re.search(rf'<strong>Travel application</strong>: <a href="/travel_expense/trip/{trip}">'
                     r"苏州, departing Dec 2, 2026</a>", card), card
    manager.headers["Accept-Language"] = "zh-CN"
    assert f'<a href="/travel_expense/trip/{trip}">苏州，2026年12月2日出发</a>' in manager.get("/").text

    # sent back: the traveller is told, and the notification opens the trip
    manager.headers["Accept-Language"] = "en"
    assert step(manager, "trip", trip, "reject", "预算请细化").status_code == 303
    eng.headers["Accept-Language"] = "en"
    notes = eng.get("/notifications").text
    assert "Travel application “苏州, departing Dec 2, 2026” is waiting for you" in notes
    opened = re.search(r'href="(/notifications/\d+/open)">Travel application', notes).group(1)
    assert eng.get(opened).headers["location"] == f"/travel_expense/trip/{trip}"
    eng.headers["Accept-Language"] = "zh-CN"
    assert f'<a href="/travel_expense/trip/{trip}">苏州，2026年12月2日出发</a>' in eng.get("/").text


def test_everything_waiting_is_listed_past_the_dashboards_first_ten(tweb):
    site, _app, browser = tweb
    eng = browser("eng")
    trips = []
    for n in range(12):
        trip = file_trip(site, eng, destinations=f"城市{n:02d}", depart_on=f"2026-12-{n + 1:02d}",
                         return_on=f"2026-12-{n + 2:02d}")
        assert step(eng, "trip", trip, "submit").status_code == 303
        trips.append(trip)
    manager = browser("manager")
    dashboard = manager.get("/").text
    card = dashboard[dashboard.index("<h2>Waiting on me</h2>"):]
    card = card[:card.index("</section>")]
    assert card.count('href="/travel_expense/trip/') == 10  # the oldest ten
    assert f'href="/travel_expense/trip/{trips[0]}"' in card and f"/travel_expense/trip/{trips[-1]}" not in card
    assert '<a href="/waiting">All 12 waiting on me</a>' in card

    page = manager.get("/waiting").text
    assert [int(t) for t in re.findall(r'href="/travel_expense/trip/(\d+)"', page)] == trips  # oldest first
    assert "城市00, departing Dec 1, 2026" in page and "Service manager review" in page
    assert "Nothing is waiting on you." in manager.get("/waiting?form=travel_expense.claim").text
    assert manager.get("/waiting?form=travel_expense.application").text.count("/travel_expense/trip/") == 12
    exported = manager.get("/waiting?format=csv")
    assert exported.status_code == 200 and exported.text.count("Travel application") == 12
    # the traveller moved them on: nothing waits on him, and he cannot see the manager's part
    assert "Nothing is waiting on you." in eng.get("/waiting").text

    def queries(size):
        site.db.run(lambda s: site.settings.set(s, "core.page_size", str(size)))
        n = [0]

        def counter(*_a):
            n[0] += 1

        event.listen(site.db.engine, "before_cursor_execute", counter)
        try:
            shown = manager.get("/waiting").text.count("/travel_expense/trip/")
        finally:
            event.remove(site.db.engine, "before_cursor_execute", counter)
        return n[0], shown

    few, many = queries(5), queries(12)
    assert (few[1], many[1]) == (5, 12)
    assert few[0] == many[0], (few, many)  # no query per row
