"""Follow-ups: scheduled on a customer's page for oneself or a colleague, waiting
on the dashboard and in the list until marked done, in the service history."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fuwu.follow_ups import FollowUp
from fuwu.models import Customer, Department, Staff
from fuwu import jobs
from fuwu.notifications import Notification, OutboxMail

from .test_performance import counting

SHANGHAI = ZoneInfo("Asia/Shanghai")

USERS = {"eng": (["engineer"], "华东服务组"), "mate": (["engineer"], "华东服务组"),
         "north": (["engineer"], "华北服务组"), "lead": (["service_manager"], "华东服务组"),
         "nobody": ([], "华东服务组")}


def _today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _setup(site, *names: str) -> tuple[list[int], dict[str, int]]:
    def work(s):
        east = s.scalar(select(Department).filter_by(name="华东服务组"))
        customers = [Customer(name=name, department_id=east.id) for name in names]
        s.add_all(customers)
        s.flush()
        return [c.id for c in customers], {st.username: st.id for st in s.scalars(select(Staff))}

    return site.db.run(work)


def _panel(page: str) -> str:
    return re.search(r'<div id="follow-ups">.*?</details>', page, re.S).group(0)


def test_a_follow_up_for_a_colleague_waits_on_their_dashboard_until_they_mark_it_done(web):
    site, app, browser = web(demo=False, users=USERS)
    (cid,), ids = _setup(site, "跟进测试有限公司")
    eng, mate = browser("eng"), browser("mate")
    form = _panel(eng.get(f"/customers/{cid}").text)
    # for me, by the next working day (a Friday's next working day is the Monday)
    assert re.search(r'<option value="%d"\s+selected>eng</option>' % ids["eng"], form)
    due = re.search(r'name="due_on"[^>]*value="([\d-]+)"', form).group(1)
    assert date.fromisoformat(due) == site.db.run(lambda s: site.calendar(s).add_working_days(_today(), 1))

    due_on = _today() + timedelta(days=3)
    r = eng.submit(f"/customers/{cid}/follow-ups", {"assigned_to_id": ids["mate"], "due_on": due_on.isoformat(),
                                                    "note": "回电确认升级日期 <b>周五</b>"})
    assert r.status_code == 303 and r.headers["location"] == f"/customers/{cid}#follow-ups"
    page = eng.get(f"/customers/{cid}").text
    assert "Follow-up scheduled." in page
    assert "mate: 回电确认升级日期 &lt;b&gt;周五&lt;/b&gt;" in _panel(page)
    assert f"eng scheduled a follow-up for mate by {due_on:%b} {due_on.day}, {due_on.year}" in page

    dashboard = mate.get("/").text
    card = re.search(r"<h2>My follow-ups</h2>.*?</section>", dashboard, re.S).group(0)
    assert "跟进测试有限公司" in card and "回电确认升级日期" in card
    with site.db.session(write=False) as s:
        told = s.scalars(select(Notification).where(Notification.staff_id == ids["mate"])).all()
    assert len(told) == 1 and "follow up" in told[0].message
    assert "跟进测试有限公司" not in re.search(r"<h2>My follow-ups</h2>.*?</section>", eng.get("/").text,
                                           re.S).group(0)  # it waits on mate, not on who asked

    follow_up_id = site.db.run(lambda s: s.scalar(select(FollowUp.id)))
    assert browser("north").submit(f"/follow-ups/{follow_up_id}/done").status_code == 404
    assert browser("nobody").submit(f"/follow-ups/{follow_up_id}/done").status_code == 403
    # neither for them nor asked by them: an engineer may not mark it done, one who edits customers may
    eng.submit(f"/customers/{cid}/follow-ups", {"assigned_to_id": ids["eng"], "due_on": due_on.isoformat(),
                                                "note": "寄送发票"})
    other_id = site.db.run(lambda s: s.scalar(select(FollowUp.id).where(FollowUp.note == "寄送发票")))
    assert mate.submit(f"/follow-ups/{other_id}/done").status_code == 403
    third = browser("lead")
    assert third.submit(f"/follow-ups/{other_id}/done", {"next": "/follow-ups?who=all"}).headers["location"] == \
        "/follow-ups?who=all"
    done = mate.submit(f"/follow-ups/{follow_up_id}/done", {"outcome": "客户同意下周二升级"})
    assert done.status_code == 303
    assert mate.submit(f"/follow-ups/{follow_up_id}/done").status_code == 409
    page = third.get(f"/customers/{cid}").text
    assert "No open follow-ups." in _panel(page) and "lead followed up “寄送发票”" in page
    assert "mate followed up “回电确认升级日期 &lt;b&gt;周五&lt;/b&gt;”: 客户同意下周二升级" in page
    assert "跟进测试有限公司" not in mate.get("/").text.split("<h2>My follow-ups</h2>")[1].split("</section>")[0]
    listing = mate.get("/follow-ups", params={"state": "done"}).text
    assert "客户同意下周二升级" in listing


def test_a_follow_up_for_someone_who_may_not_see_the_customer_or_in_the_past_is_refused(web):
    site, app, browser = web(demo=False, users=USERS)
    (cid,), ids = _setup(site, "拒绝测试有限公司")
    eng = browser("eng")
    cases = [
        ({"assigned_to_id": ids["north"], "due_on": _today().isoformat(), "note": "x"}, "north may not see this customer."),
        ({"assigned_to_id": ids["nobody"], "due_on": _today().isoformat(), "note": "x"},
         "nobody may not see this customer."),
        ({"assigned_to_id": ids["eng"], "due_on": (_today() - timedelta(days=1)).isoformat(), "note": "昨天的事"},
         "Must be at least"),
        ({"assigned_to_id": ids["eng"], "due_on": _today().isoformat(), "note": "长" * 501}, "At most 500 characters."),
        ({"assigned_to_id": ids["eng"], "due_on": "下周", "note": "x"}, "Enter a date as YYYY-MM-DD."),
    ]
    for data, message in cases:
        r = eng.submit(f"/customers/{cid}/follow-ups", data)
        assert r.status_code == 422 and message in r.text, message
        assert "<details class=\"no-print\" open>" in r.text  # the form open, with what was typed
        assert data["note"] in r.text
    assert site.db.run(lambda s: s.scalar(select(FollowUp.id))) is None
    assert browser("north").submit(f"/customers/{cid}/follow-ups", cases[0][0]).status_code == 404


def test_the_list_shows_mine_or_everyones_i_may_see_exports_them_and_costs_the_same_queries(web):
    site, app, browser = web(demo=False, users=USERS)
    cids, ids = _setup(site, *(f"列表客户{i:02d}" for i in range(25)))

    def add(s, count, staff):
        for i in range(count):
            s.add(FollowUp(customer_id=cids[i], assigned_to_id=ids[staff], scheduled_by_id=ids["lead"],
                           due_on=_today() + timedelta(days=i - 1), note=f"{staff} 的跟进 {i:02d}"))

    site.db.run(lambda s: add(s, 3, "eng"))
    site.db.run(lambda s: add(s, 2, "mate"))
    eng = browser("eng")
    mine = eng.get("/follow-ups").text
    assert mine.count("eng 的跟进") == 3 and "mate 的跟进" not in mine
    assert mine.index("eng 的跟进 00") < mine.index("eng 的跟进 01")  # earliest due first
    assert "Overdue" in mine  # the one due yesterday
    everyone = eng.get("/follow-ups", params={"who": "all"}).text
    assert everyone.count("eng 的跟进") == 3 and everyone.count("mate 的跟进") == 2
    assert 'name="next" value="/follow-ups?who=all"' in everyone  # marked done from the list, back to it
    assert "的跟进" not in browser("north").get("/follow-ups", params={"who": "all"}).text

    exported = eng.get("/follow-ups", params={"who": "all", "format": "csv"})
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Due on", "Customer", "To do"] and len(rows) == 6

    def queries():
        eng.get("/follow-ups", params={"who": "all"})
        with counting(site.db.engine) as statements:
            assert eng.get("/follow-ups", params={"who": "all"}).status_code == 200
        return len(statements)

    few = queries()
    site.db.run(lambda s: add(s, 20, "mate"))
    assert queries() == few


def test_whoever_has_follow_ups_due_is_reminded_once_after_the_reminder_time(web):
    site, app, browser = web(demo=False, users=USERS)
    (first, second), ids = _setup(site, "提醒客户甲", "提醒客户乙")
    day = date(2026, 12, 1)

    def add(s):
        for customer, staff, due, note, done in [(first, "eng", day, "今天回电", False),
                                                 (second, "eng", day - timedelta(days=2), "补寄发票", False),
                                                 (first, "eng", day + timedelta(days=1), "明天上门", False),
                                                 (second, "mate", day, "已经办完", True)]:
            s.add(FollowUp(customer_id=customer, assigned_to_id=ids[staff], due_on=due, note=note,
                           done_at=datetime(2026, 11, 30, tzinfo=SHANGHAI) if done else None))

    site.db.run(add)

    def told():
        with site.db.session(write=False) as s:
            return ([(n.staff_id, n.params["items"]) for n in s.scalars(select(Notification).order_by(Notification.id))],
                    [(m.to_addr, m.body) for m in s.scalars(select(OutboxMail).order_by(OutboxMail.id))])

    def run(hour, minute, days=0):
        now = datetime.combine(day + timedelta(days=days), datetime.min.time(), tzinfo=SHANGHAI).replace(
            hour=hour, minute=minute)
        assert jobs.run_due(site, only="core.follow_up_reminders", force=True, now=now) == [
            ("core.follow_up_reminders", "done")]

    run(8, 30)  # before the reminder time (09:00 unless set)
    assert told() == ([], [])
    run(9, 5)
    run(9, 20)  # once a day, not at every run
    notes, mails = told()
    assert notes == [(ids["eng"], "提醒客户乙: 补寄发票; 提醒客户甲: 今天回电")]
    assert len(mails) == 1 and mails[0][0] == "eng@example.com" and "补寄发票" in mails[0][1]
    run(9, 5, days=1)  # the next day, tomorrow's visit is due
    notes, _mails = told()
    assert notes[1:] == [(ids["eng"], "提醒客户甲: 明天上门")]
    eng = browser("eng")
    page = eng.get("/notifications").text
    assert "Follow-ups due: 提醒客户甲: 明天上门" in page and 'href="/follow-ups"' in page
