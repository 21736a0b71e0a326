"""First-visit calls (CORE-2) through the web: queue, attempts, checklist, completion, digest."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy import event, select
from sqlalchemy.orm import selectinload

from fuwu import jobs
from fuwu.db import utcnow
from fuwu.demo import DEMO_PASSWORD
from fuwu.first_visit import CORE_CHECKS, CustomerNeed, FirstVisitCall
from fuwu.models import Customer, Department, Role, RolePermission, Staff
from fuwu.notifications import Notification, OutboxMail
from fuwu.timeline import TimelineEntry

SHANGHAI = ZoneInfo("Asia/Shanghai")
CUSTOMER = "上海浦江精密机械有限公司"
USERS = {"sales1": (["sales"], "售后服务部"), "coord": (["coordinator"], "客户关系部"),
         "outsider": (["coordinator"], None), "eng": (["engineer"], "实施部")}


def customer_id(site, name=CUSTOMER) -> int:
    return site.db.run(lambda s: s.scalar(select(Customer.id).where(Customer.name == name)))


def the_call(site, cid):
    return site.db.run(lambda s: s.scalar(select(FirstVisitCall).where(FirstVisitCall.customer_id == cid)
                                          .options(selectinload(FirstVisitCall.attempts))))


def local_input(moment: datetime) -> str:
    """What a datetime-local field sends: Shanghai wall time, no zone."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def version_of(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


def submitted_call(site, browser, name=CUSTOMER):
    cid = customer_id(site, name)
    r = browser("sales1").submit("/first-visits/submit", {"customer_id": cid})
    assert r.status_code == 303 and r.headers["location"] == f"/customers/{cid}"
    return cid, the_call(site, cid).id


def test_full_first_visit_flow(web):
    site, app, browser = web(users=USERS)
    sales = browser("sales1")
    cid = customer_id(site)
    r = sales.submit("/first-visits/submit", {"customer_id": cid})
    assert r.status_code == 303
    again = sales.submit("/first-visits/submit", {"customer_id": cid})
    assert again.status_code == 303
    calls = site.db.run(lambda s: s.scalars(select(FirstVisitCall).where(FirstVisitCall.customer_id == cid)).all())
    assert len(calls) == 1 and calls[0].status == "queued"
    call_id = calls[0].id

    coord = browser("coord")
    queue = coord.get("/first-visits")
    assert queue.status_code == 200 and CUSTOMER in queue.text and f"/first-visits/{call_id}" in queue.text
    page = coord.get(f"/first-visits/{call_id}")
    assert page.status_code == 200
    for _key, label in CORE_CHECKS:
        assert str(label) in page.text

    # not reached: a next attempt time is required, and must lie ahead
    r = coord.submit(f"/first-visits/{call_id}/attempts", {"outcome": "no_answer", "note": "无人接听"})
    assert r.status_code == 422 and "say when to call again" in r.text
    assert "无人接听" in r.text  # the input is kept
    r = coord.submit(f"/first-visits/{call_id}/attempts",
                     {"outcome": "busy", "retry_at": local_input(utcnow() - timedelta(hours=1))})
    assert r.status_code == 422 and "must be in the future" in r.text
    retry_at = utcnow() + timedelta(days=1)
    r = coord.submit(f"/first-visits/{call_id}/attempts",
                     {"outcome": "no_answer", "retry_at": local_input(retry_at), "note": "无人接听"})
    assert r.status_code == 303
    call = the_call(site, cid)
    assert call.status == "retry"
    assert abs(call.next_attempt_at - retry_at) < timedelta(minutes=1)
    assert "Due now" not in coord.get("/first-visits?status=retry").text

    # completing before anyone answered is refused, with a reason
    page = coord.get(f"/first-visits/{call_id}").text
    everything = {"check": [k for k, _ in CORE_CHECKS], "version": version_of(page)}
    r = coord.submit(f"/first-visits/{call_id}/complete", everything)
    assert r.status_code == 422 and "Record an answered call" in r.text
    assert the_call(site, cid).status == "retry"

    r = coord.submit(f"/first-visits/{call_id}/attempts", {"outcome": "answered", "note": "杨工接听"})
    assert r.status_code == 303
    assert the_call(site, cid).status == "answered"

    # a checklist with an item left open is refused, naming the item; the ticks are kept
    page = coord.get(f"/first-visits/{call_id}").text
    # two left open are named the reader's way ("a and b", not "a、b" on an English page)
    two_open = coord.submit(f"/first-visits/{call_id}/complete",
                            {"check": [k for k, _ in CORE_CHECKS[:-2]], "version": version_of(page)})
    assert two_open.status_code == 422
    assert html.escape(f"{CORE_CHECKS[-2][1]} and {CORE_CHECKS[-1][1]}") in two_open.text
    partial = {"check": [k for k, _ in CORE_CHECKS[:-1]], "version": version_of(two_open.text)}
    r = coord.submit(f"/first-visits/{call_id}/complete", partial)
    assert r.status_code == 422 and str(CORE_CHECKS[-1][1]) in r.text
    assert the_call(site, cid).status == "answered"
    assert r.text.count("checked") == len(CORE_CHECKS) - 1

    # a form from before someone else's save is a conflict, not a silent overwrite
    r = coord.submit(f"/first-visits/{call_id}/complete", everything)
    assert r.status_code == 409 and the_call(site, cid).status == "answered"

    r = coord.submit(f"/first-visits/{call_id}/complete", {**everything, "version": version_of(r.text)})
    assert r.status_code == 303
    call = the_call(site, cid)
    assert call.status == "done" and call.completed_at is not None and call.next_attempt_at is None
    entries = site.db.run(lambda s: s.scalars(select(TimelineEntry).where(TimelineEntry.customer_id == cid,
                                                                          TimelineEntry.kind == "first_visit")
                                              .order_by(TimelineEntry.id)).all())
    assert [e.message for e in entries] == ["Submitted for the first-visit call by %(staff)s",
                                            "First-visit call completed by %(staff)s: customer details verified"]
    assert entries[-1].params == {"staff": "coord"}

    # closed: no more attempts, and it leaves the open queue
    r = coord.submit(f"/first-visits/{call_id}/attempts", {"outcome": "answered"})
    assert r.status_code == 422 and len(the_call(site, cid).attempts) == 2
    assert CUSTOMER not in coord.get("/first-visits").text
    assert CUSTOMER in coord.get("/first-visits?status=done").text


def test_permissions_and_record_rules(web):
    site, app, browser = web(users=USERS)
    cid, call_id = submitted_call(site, browser)
    # sales may look at the call but not make it
    sales = browser("sales1")
    assert sales.get(f"/first-visits/{call_id}").status_code == 200
    assert sales.submit(f"/first-visits/{call_id}/attempts", {"outcome": "answered"}).status_code == 403
    # an engineer of another department sees neither the call nor the customer, and cannot submit
    eng = browser("eng")
    assert eng.get(f"/first-visits/{call_id}").status_code == 404
    assert CUSTOMER not in eng.get("/first-visits").text
    assert eng.submit("/first-visits/submit", {"customer_id": cid}).status_code == 403

    # a caller limited to their own department: the call of another department's customer is not found
    def caller_role(s):
        role = Role(key="caller", name="Caller", permissions=[
            RolePermission(permission=p) for p in ("core.customer.view", "core.customer.edit",
                                                   "core.first_visit.call")])
        staff = s.scalar(select(Staff).where(Staff.username == "eng"))
        staff.roles.append(role)

    site.db.run(caller_role)
    assert eng.get(f"/first-visits/{call_id}").status_code == 404
    assert eng.submit(f"/first-visits/{call_id}/attempts", {"outcome": "answered"}).status_code == 404
    assert eng.submit(f"/first-visits/{call_id}/needs", {"text": "x"}).status_code == 404
    assert eng.submit("/first-visits/submit", {"customer_id": cid}).status_code == 404
    assert the_call(site, cid).attempts == []
    assert browser("coord").submit("/first-visits/submit", {"customer_id": 999999}).status_code == 404


def test_queue_puts_due_calls_first_without_a_query_per_row(web):
    site, app, browser = web(users=USERS)
    coord = browser("coord")
    names = site.db.run(lambda s: s.scalars(select(Customer.name).order_by(Customer.id).limit(8)).all())
    ids = [submitted_call(site, browser, name)[1] for name in names]
    later, due = ids[0], ids[1]
    r = coord.submit(f"/first-visits/{later}/attempts",
                     {"outcome": "busy", "retry_at": local_input(utcnow() + timedelta(hours=3))})
    assert r.status_code == 303
    text = coord.get("/first-visits").text
    assert text.index(f"/first-visits/{due}\"") < text.index("Later") < text.index(f"/first-visits/{later}\"")
    assert "7 calls are due now" in text

    statements = []
    event.listen(site.db.engine, "before_cursor_execute", lambda *a: statements.append(1))
    statements.clear()
    coord.get("/first-visits?status=retry")
    one_row = len(statements)
    statements.clear()
    coord.get("/first-visits")
    assert len(statements) == one_row  # 8 rows cost what one row costs

    # keyset pages: small pages together list every open call exactly once
    site.db.run(lambda s: site.settings.set(s, "core.page_size", 5))
    first = coord.get("/first-visits").text
    cursor = re.search(r'href="\?([^"]*after=[^"]*)" rel="next"', first).group(1).replace("&amp;", "&")
    second = coord.get("/first-visits?" + cursor).text
    seen = [int(i) for i in re.findall(r'href="/first-visits/(\d+)"', first + second)]
    assert sorted(seen) == sorted(ids)


def test_plugin_checklist_items_must_be_ticked(web, make_plugin):
    make_plugin("fvtest", plugin='''
        @hookimpl
        def first_visit_checks(customer):
            return [("fvtest.dongle", "Dongle number correct")]
    ''')
    site, app, browser = web(plugins=["fvtest"], users=USERS)
    cid, call_id = submitted_call(site, browser)
    coord = browser("coord")
    assert "Dongle number correct" in coord.get(f"/first-visits/{call_id}").text
    assert coord.submit(f"/first-visits/{call_id}/attempts", {"outcome": "answered"}).status_code == 303
    page = coord.get(f"/first-visits/{call_id}").text
    core_only = {"check": [k for k, _ in CORE_CHECKS], "version": version_of(page)}
    r = coord.submit(f"/first-visits/{call_id}/complete", core_only)
    assert r.status_code == 422 and "Dongle number correct" in r.text
    r = coord.submit(f"/first-visits/{call_id}/complete",
                     {"check": core_only["check"] + ["fvtest.dongle"], "version": version_of(r.text)})
    assert r.status_code == 303 and the_call(site, cid).status == "done"


def test_digest_sends_each_need_once_to_the_right_head(web):
    site, app, browser = web(users=USERS)
    cid, call_id = submitted_call(site, browser)
    depts = site.db.run(lambda s: {d.name: d.id for d in s.scalars(select(Department))})
    coord = browser("coord")
    for text, dept in [("需要财务模块培训", depts["财务部"]), ("希望上门安装", ""),
                       ("想了解会员活动", depts["客户关系部"])]:  # 客户关系部 has no head
        r = coord.submit(f"/first-visits/{call_id}/needs", {"text": text, "department_id": dept})
        assert r.status_code == 303
    r = coord.submit(f"/first-visits/{call_id}/needs", {"text": "", "department_id": ""})
    assert r.status_code == 422

    def state(s):
        return (s.scalars(select(Notification).order_by(Notification.id)).all(),
                s.scalars(select(OutboxMail).order_by(OutboxMail.id)).all(),
                s.scalars(select(CustomerNeed).order_by(CustomerNeed.id)).all())

    recorded = min(n.created_at for n in site.db.run(state)[2])
    # before the digest time that follows the needs, nothing goes out
    assert jobs.run_due(site, only="core.first_visit_digest", force=True, now=recorded) == [
        ("core.first_visit_digest", "done")]
    notes, mails, needs = site.db.run(state)
    assert notes == [] and mails == [] and all(n.digest_sent_at is None for n in needs)

    evening = datetime.combine(recorded.astimezone(SHANGHAI).date() + timedelta(days=1),
                               datetime.min.time().replace(hour=18, minute=30), tzinfo=SHANGHAI)
    jobs.run_due(site, only="core.first_visit_digest", force=True, now=evening)
    jobs.run_due(site, only="core.first_visit_digest", force=True, now=evening + timedelta(minutes=15))
    jobs.run_due(site, only="core.first_visit_digest", force=True, now=evening + timedelta(days=1))
    notes, mails, needs = site.db.run(state)
    heads = site.db.run(lambda s: {st.id: st.username for st in s.scalars(select(Staff))})
    assert sorted((heads[n.staff_id], n.params["count"]) for n in notes) == [("wang.fang", "2"), ("zhao.min", "1")]
    assert sorted(m.to_addr for m in mails) == ["wang.fang@fuwu.example", "zhao.min@fuwu.example"]
    finance_mail = next(m for m in mails if m.to_addr.startswith("zhao.min"))
    assert "需要财务模块培训" in finance_mail.body and "希望上门安装" not in finance_mail.body
    head_mail = next(m for m in mails if m.to_addr.startswith("wang.fang"))
    assert "希望上门安装" in head_mail.body and "想了解会员活动" in head_mail.body and CUSTOMER in head_mail.body
    assert all(n.digest_sent_at == evening for n in needs)

    # the head opens the notification and lands on the needs it lists
    head = browser()
    assert head.login("wang.fang", DEMO_PASSWORD).status_code == 303
    note = next(n for n in notes if heads[n.staff_id] == "wang.fang")
    r = head.get(f"/notifications/{note.id}/open")
    assert r.status_code == 303 and r.headers["location"].startswith("/first-visits/needs?")
    listed = head.get(r.headers["location"]).text
    assert "希望上门安装" in listed and "想了解会员活动" in listed and "需要财务模块培训" not in listed


def test_digest_waits_for_the_configured_time(web):
    site, app, browser = web(users=USERS)
    cid, call_id = submitted_call(site, browser)
    assert browser("coord").submit(f"/first-visits/{call_id}/needs", {"text": "报表定制"}).status_code == 303
    site.db.run(lambda s: site.settings.set(s, "core.first_visit_digest_time", "20:00"))
    day = utcnow().astimezone(SHANGHAI).date() + timedelta(days=3)
    at = lambda h, m: datetime(day.year, day.month, day.day, h, m, tzinfo=SHANGHAI)  # noqa: E731
    site.db.run(lambda s: s.execute(CustomerNeed.__table__.update().values(created_at=at(12, 0))))
    sent = lambda: site.db.run(lambda s: s.scalar(select(CustomerNeed.digest_sent_at)))  # noqa: E731
    jobs.run_due(site, only="core.first_visit_digest", force=True, now=at(19, 59))
    assert sent() is None  # 18:00 has passed, but this site sends at 20:00
    jobs.run_due(site, only="core.first_visit_digest", force=True, now=at(20, 1))
    assert sent() == at(20, 1)


def test_times_are_typed_shown_and_exported_in_the_site_time_zone(web):
    """``[site] timezone`` decides how a typed time is read and how every
    time is shown, on the page and in the export alike (not the server's zone)."""
    site, _app, browser = web(users=USERS)
    _cid, call_id = submitted_call(site, browser)
    coord = browser("coord")
    r = coord.submit(f"/first-visits/{call_id}/attempts", {"outcome": "no_answer", "retry_at": "2030-03-02T09:30"})
    assert r.status_code == 303
    assert site.db.run(lambda s: s.get(FirstVisitCall, call_id).next_attempt_at) == datetime(2030, 3, 2, 1, 30,
                                                                                             tzinfo=UTC)

    def shown() -> tuple[str, str]:
        page = coord.get(f"/first-visits/{call_id}").text.replace("\xa0", " ")  # a moment's spaces do not break
        export = coord.get("/first-visits?format=csv").text
        return page, export

    page, export = shown()
    assert format_datetime(datetime(2030, 3, 2, 9, 30), "short", locale="en") in page
    assert "2030-03-02 09:30:00" in export
    site.config.timezone = "America/New_York"
    page, export = shown()
    assert format_datetime(datetime(2030, 3, 1, 20, 30), "short", locale="en") in page
    assert "2030-03-01 20:30:00" in export
    # and a time typed now is New York's
    r = coord.submit(f"/first-visits/{call_id}/attempts", {"outcome": "busy", "retry_at": "2030-03-05T08:00"})
    assert r.status_code == 303
    assert site.db.run(lambda s: s.get(FirstVisitCall, call_id).next_attempt_at) == datetime(2030, 3, 5, 13, 0,
                                                                                             tzinfo=UTC)
