"""Pages of the complaints plugin: validity (CMP-2), escalation (CMP-4),
headquarters (CMP-1, CMP-5), promises (CMP-6), the customer's links, record
rules, permissions, pagination and export."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, date, datetime, timedelta

import openpyxl
from sqlalchemy import event, select

from fuwu.models import Contact
from fuwu.notifications import Notification
from fuwu_plugins.complaints.models import Complaint

from tests.conftest import customer_name, zh

from .conftest import CSRF, customer, dept_id, receive, staff_id, step


def notes_of(site, username):
    sid = staff_id(site, username)
    return site.db.run(lambda s: list(s.scalars(select(Notification.message).where(Notification.staff_id == sid))))


def state_of(site, cid):
    return site.db.run(lambda s: s.get(Complaint, cid).state)


def test_an_invalid_complaint_is_explained_and_archived_and_not_counted(cweb):
    site, _app, browser = cweb
    cid = receive(site, category="charges")
    quality = browser("quality")
    # the explanation to the complainant is required
    r = step(quality, cid, "review", {"valid": "no", "explanation": ""}, expect=422)
    assert "Record the explanation given to the complainant." in r.text
    step(quality, cid, "review", {"valid": "no", "explanation": "合同未承诺免费升级"})
    assert state_of(site, cid) == "archived"
    page = quality.get(f"/complaints/{cid}")
    assert "合同未承诺免费升级" in page.text and 'id="complaint-validity">Not valid<' in page.text
    assert 'data-deadline=' not in page.text
    # the month's report keeps it in the statistics, not among the valid ones
    month = f"{site.day_of():%Y-%m}"  # the site's month, not the server clock's
    r = quality.submit("/complaints/reports/build", {"month": month}, page="/complaints/reports")
    assert r.status_code == 303
    report = quality.get(r.headers["location"])
    assert re.search(r'id="report-total">1<', report.text)
    assert re.search(r'id="report-valid">0<', report.text) and re.search(r'id="report-invalid">1<', report.text)


def test_an_unresolved_complaint_is_escalated_to_headquarters(cweb):
    site, _app, browser = cweb
    cid = receive(site)
    quality, manager, lead = browser("quality"), browser("manager"), browser("lead")
    step(quality, cid, "review", {"valid": "yes", "department_id": dept_id(site)})
    assert "Complaint %(number)s was sent to your department" in notes_of(site, "manager")
    step(manager, cid, "reply", {"cause": "c", "cause_category": "skill", "responsible_staff_id": staff_id(site, "engineer"),
                                 "measures": "m", "reply_kind": "serve_again", "reply_text": "t"})
    step(manager, cid, "handled", {"result": "重新上门"})
    step(lead, cid, "follow_up", {"resolved": "no", "opinion": "问题依旧"})
    assert state_of(site, cid) == "escalated"
    assert any("escalate it to headquarters" in n for n in notes_of(site, "quality"))
    page = quality.get(f"/complaints/{cid}")
    assert 'data-event="escalated"' in page.text
    # archiving is not possible before headquarters answered
    step(quality, cid, "archive", {"corrective": "x"}, expect=422)
    step(quality, cid, "hq_answer", {"answer": "总部派专家处理"})
    step(quality, cid, "archive", {"corrective": "专家远程修复", "preventive": "版本回归测试"})
    assert state_of(site, cid) == "archived"


def test_the_intake_form_asks_how_a_complaint_came_in_apart_from_who_took_it(cweb):
    """"Received through" (the channel) and "Received by" (the signature of
    whoever took the complaint) are two questions, in Chinese as in English."""
    _site, _app, browser = cweb
    page = browser("quality").get("/complaints/new", headers={"Accept-Language": "zh-CN"}).text
    assert re.search(r'<label for="[^"]*channel">受理方式', page)
    assert "受理人" in page.split('id="f-channel"')[1]  # the signature line under the form
    english = browser("quality").get("/complaints/new", headers={"Accept-Language": "en"}).text
    assert re.search(r'<label for="[^"]*channel">Received through', english)


def test_a_complaint_forwarded_by_headquarters_is_reported_back_before_archiving(cweb):
    site, _app, browser = cweb
    quality = browser("quality")
    base = {"customer_id": customer_name(site, customer(site)), "contact_name": "赵", "source": "headquarters", "channel": "letter",
            "received_at": "2026-11-20T10:00", "category": "technical", "description": "总部转来"}
    r = quality.submit("/complaints/new", {**base, "hq_reference": ""}, page="/complaints/new")
    assert r.status_code == 422 and "Give headquarters&#39; reference" in r.text
    r = quality.submit("/complaints/new", {**base, "hq_reference": "HQ-2026-118"}, page="/complaints/new")
    cid = int(r.headers["location"].rsplit("/", 1)[1])
    manager = browser("manager")
    step(quality, cid, "review", {"valid": "yes", "department_id": dept_id(site)})
    step(manager, cid, "reply", {"cause": "c", "cause_category": "product", "responsible_staff_id": staff_id(site, "engineer"),
                                 "measures": "m", "reply_kind": "apologise", "reply_text": "t"})
    step(manager, cid, "handled", {"result": "补丁已安装"})
    assert 'data-deadline="hq_report"' in quality.get(f"/complaints/{cid}").text
    step(browser("lead"), cid, "follow_up", {"resolved": "yes", "opinion": "ok"})
    r = step(quality, cid, "archive", {"corrective": "x"}, expect=422)
    assert "Report the result to headquarters before archiving." in r.text
    step(quality, cid, "hq_report", {"note": "已反馈总部服务发展部"})
    step(quality, cid, "archive", {"corrective": "x"})
    assert state_of(site, cid) == "archived"


def test_the_customer_link_shows_progress_without_internal_notes(cweb):
    site, _app, browser = cweb
    cid = receive(site, internal_note="内部：该客户曾欠款")
    quality = browser("quality")
    step(quality, cid, "note", {"note": "内部备注：工程师情绪不稳"})
    step(quality, cid, "review", {"valid": "yes", "department_id": dept_id(site)})
    page = quality.get(f"/complaints/{cid}")
    r = quality.post(f"/complaints/{cid}/link", data={"csrf_token": CSRF.search(page.text).group(1)})
    assert r.status_code == 200
    link = re.search(r'id="issued-link" value="([^"]+)"', r.text).group(1)
    public = browser()
    view = public.get(link.replace("http://testserver", ""))
    assert view.status_code == 200, view.text[:500]
    assert "Confirmed as valid" in view.text and "With the responsible department" in view.text
    assert "内部" not in view.text and "工程师情绪不稳" not in view.text and "曾欠款" not in view.text
    # the link can be opened again (following is not a single use)
    assert public.get(link.replace("http://testserver", "")).status_code == 200
    # a tampered token shows nothing
    assert public.get(link.replace("http://testserver", "")[:-2] + "xx").status_code == 403


def test_a_contact_files_a_complaint_through_a_one_time_link(cweb):
    site, _app, browser = cweb
    cust = customer(site)
    contact_id = site.db.run(lambda s: s.scalar(select(Contact.id).where(Contact.customer_id == cust).limit(1)))
    if contact_id is None:
        def add(s):
            c = Contact(customer_id=cust, name="孙工", phone="13800000000")
            s.add(c)
            s.flush()
            return c.id
        contact_id = site.db.run(add)
    clerk = browser("clerk")
    r = clerk.submit(f"/complaints/contacts/{contact_id}/link", {})
    assert r.status_code == 200
    link = re.search(r'id="issued-link" value="([^"]+)"', r.text).group(1).replace("http://testserver", "")
    public = browser()
    form = public.get(link)
    assert form.status_code == 200
    token = CSRF.search(form.text).group(1)
    r = public.post(link, data={"category": "", "description": "", "csrf_token": token})
    assert r.status_code == 422
    token = CSRF.search(r.text).group(1)
    r = public.post(link, data={"category": "attitude", "description": "电话里被工程师挂断", "csrf_token": token})
    assert r.status_code == 200 and 'id="follow-link"' in r.text
    # single use: a second submission files nothing
    assert public.get(link).status_code == 410
    rows = site.db.run(lambda s: list(s.scalars(select(Complaint).where(Complaint.customer_id == cust))))
    assert [c.channel for c in rows] == ["link"] and rows[0].contact_id == contact_id
    assert "Complaint %(number)s waits for your review" in notes_of(site, "quality")


def test_another_departments_complaint_is_not_found_on_read_and_write(cweb):
    site, _app, browser = cweb
    cid = receive(site)
    outsider = browser("outsider")
    assert outsider.get(f"/complaints/{cid}").status_code == 404
    token = outsider.csrf("/complaints/")
    assert outsider.post(f"/complaints/{cid}/step/note", data={"note": "x", "csrf_token": token}).status_code == 404
    assert outsider.post(f"/complaints/{cid}/link", data={"csrf_token": token}).status_code == 404
    assert outsider.post(f"/complaints/{cid}/promises", data={"kind": "result", "text": "x", "due_on": "2026-12-01",
                                                              "csrf_token": token}).status_code in (403, 404)
    assert 'data-complaint="' not in outsider.get("/complaints/").text
    assert outsider.get(f"/complaints/{cid}/edit").status_code == 404
    event_id = site.db.run(lambda s: s.get(Complaint, cid).events[0].id)
    assert outsider.get(f"/complaints/events/{event_id}/edit").status_code in (403, 404)
    contact_id = site.db.run(lambda s: s.scalar(select(Contact.id).join(Complaint, Complaint.customer_id == Contact.customer_id)
                                                .where(Complaint.id == cid).limit(1)))
    if contact_id is not None:
        assert outsider.post(f"/complaints/contacts/{contact_id}/link", data={"csrf_token": token}).status_code == 404
    # a colleague of the customer's department sees it
    assert browser("engineer").get(f"/complaints/{cid}").status_code == 200


def test_each_step_needs_its_own_permission(cweb):
    site, _app, browser = cweb
    cid = receive(site)
    engineer = browser("engineer")
    page = engineer.get(f"/complaints/{cid}")
    assert 'id="step-review"' not in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    r = engineer.post(f"/complaints/{cid}/step/review", data={
        "valid": "yes", "department_id": dept_id(site), "version": version,
        "csrf_token": CSRF.search(page.text).group(1)})
    assert r.status_code == 403
    assert browser("clerk").get("/complaints/reports").status_code == 403
    assert browser("clerk").get("/complaints/consequences").status_code == 403
    # a step out of order is refused with a message
    r = step(browser("manager"), cid, "reply", {"cause": "c", "cause_category": "skill",
                                                "responsible_staff_id": staff_id(site, "engineer"), "measures": "m",
                                                "reply_kind": "apologise", "reply_text": "t"}, expect=422)
    assert "This step is not possible in the complaint&#39;s current state." in r.text


def test_promises_are_kept_or_broken_and_broken_ones_reach_the_report(cweb):
    site, _app, browser = cweb
    cid = receive(site)
    manager = browser("manager")
    today = datetime.now(UTC).date()
    r = manager.submit(f"/complaints/{cid}/promises", {"kind": "time_limit", "text": "三小时内回电",
                                                       "due_on": today.isoformat()}, page=f"/complaints/{cid}")
    assert r.status_code == 303
    page = manager.get(f"/complaints/{cid}")
    pid = re.search(r'data-promise="(\d+)"', page.text).group(1)
    r = manager.submit(f"/complaints/promises/{pid}", {"status": "broken"}, page=f"/complaints/{cid}")
    assert r.status_code == 303
    assert "三小时内回电" in manager.get(f"/complaints/{cid}").text
    r = manager.submit("/complaints/reports/build", {"month": today.strftime("%Y-%m")}, page="/complaints/reports")
    report = manager.get(r.headers["location"])
    assert "三小时内回电" in report.text.split('id="broken-promises"')[1]


def test_pausing_needs_a_reason_and_shows_on_the_deadline(cweb):
    site, _app, browser = cweb
    cid = receive(site)
    quality, manager = browser("quality"), browser("manager")
    step(quality, cid, "review", {"valid": "yes", "department_id": dept_id(site)})
    step(manager, cid, "pause", {"reason": ""}, expect=422)
    step(manager, cid, "pause", {"reason": "等待客户提供日志"})
    assert "Paused: waiting on the customer" in manager.get(f"/complaints/{cid}").text
    step(manager, cid, "resume", {"note": "日志已收到"})
    assert 'data-event="resumed"' in manager.get(f"/complaints/{cid}").text


def test_the_list_costs_the_same_queries_for_10_and_50_rows_and_exports(cweb):
    site, _app, browser = cweb
    quality = browser("quality")
    quality.get("/complaints/")

    def queries():
        count = [0]

        def counter(*_args):
            count[0] += 1

        event.listen(site.db.engine, "before_cursor_execute", counter)
        try:
            r = quality.get("/complaints/")
        finally:
            event.remove(site.db.engine, "before_cursor_execute", counter)
        return count[0], len(re.findall(r'data-complaint="', r.text))

    start = datetime(2026, 11, 2, 2, tzinfo=UTC)
    for i in range(10):
        receive(site, at=start + timedelta(hours=i), category="attitude" if i % 2 else "response")
    few, shown = queries()
    assert shown == 10
    for i in range(40):
        receive(site, at=start + timedelta(days=1, hours=i))
    many, shown = queries()
    assert shown == 50 and many == few
    r = quality.get("/complaints/?format=xlsx")
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet.max_row == 51
    assert quality.get("/complaints/?format=csv&category=attitude").text.count("\n") == 6


def test_pages_speak_chinese_and_the_customer_page_lists_complaints(cweb):
    site, _app, browser = cweb
    cust = customer(site)
    cid = receive(site, customer_id=cust, category="attitude")
    quality = browser("quality")
    in_chinese = {"Accept-Language": "zh-CN"}
    page = quality.get(f"/complaints/{cid}", headers=in_chinese)
    assert "待审核" in page.text and "服务态度" in page.text and "答复投诉人（CMP-3）" in page.text
    assert "投诉编号" in quality.get("/complaints/", headers=in_chinese).text
    panel = quality.get(f"/customers/{cust}", headers=in_chinese)
    assert panel.status_code == 200 and 'id="complaints-panel"' in panel.text
    assert f"/complaints/{cid}" in panel.text
    # the service history names the category in the reader's language, not by its key
    number = site.db.run(lambda s: s.get(Complaint, cid).number)
    history = re.search(r'id="timeline".*?</section>', panel.text, re.S).group(0)
    assert zh(site, "Complaint %(number)s received: %(category)s", number=number,
              category=zh(site, "Service attitude")) in history
    assert "投诉分析报告" in quality.get("/complaints/reports", headers=in_chinese).text or \
        "投诉报告" in quality.get("/complaints/reports", headers=in_chinese).text
    assert quality.get("/complaints/consequences", headers=in_chinese).status_code == 200


def test_an_engineer_sees_each_of_a_customers_complaints_once_on_its_page(cweb):
    site, _app, browser = cweb
    cust = customer(site)
    start = datetime(2026, 11, 2, 2, tzinfo=UTC)
    complaints = [receive(site, customer_id=cust, at=start + timedelta(hours=i)) for i in range(3)]
    # the engineer sees the customer through his department, like several other customers of it
    page = browser("engineer").get(f"/customers/{cust}")
    assert page.status_code == 200
    panel = re.search(r'id="complaints-panel".*?</table>', page.text, re.S).group(0)
    for cid in complaints:
        assert panel.count(f'href="/complaints/{cid}"') == 1


def test_the_dashboard_shows_open_complaints_and_the_general_managers_calls(cweb):
    site, _app, browser = cweb
    cid = receive(site, customer_id=customer(site, key=True), at=datetime(2026, 9, 14, 2, tzinfo=UTC))
    step(browser("quality"), cid, "review", {"valid": "yes", "department_id": dept_id(site)})
    home = browser("manager").get("/")
    assert "Overdue: 1" in home.text and f"/complaints/{cid}" in home.text
    boss = browser("boss")
    assert "Call " in boss.get("/").text
    step(boss, cid, "gm_called", {"note": "客户接受道歉"})
    assert "Call " not in boss.get("/").text
    assert "客户接受道歉" in boss.get(f"/complaints/{cid}").text


def test_correcting_the_intake_keeps_the_users_input_on_a_conflict(cweb):
    site, _app, browser = cweb
    cid = receive(site)
    quality = browser("quality")
    form = quality.get(f"/complaints/{cid}/edit")
    assert form.status_code == 200
    version = re.search(r'name="version" value="(\d+)"', form.text).group(1)
    data = {"contact_name": "钱", "category": "attitude", "description": "更正后的内容", "version": version,
            "csrf_token": CSRF.search(form.text).group(1)}
    assert quality.post(f"/complaints/{cid}/edit", data=data).status_code == 303
    assert "更正后的内容" in quality.get(f"/complaints/{cid}").text
    stale = quality.post(f"/complaints/{cid}/edit", data={**data, "description": "我的版本"})
    assert stale.status_code == 409 and "我的版本" in stale.text
    assert browser("outsider").get(f"/complaints/{cid}/edit").status_code == 404


def test_the_monthly_reports_page_through_every_month_newest_first(cweb):
    site, _app, browser = cweb
    from fuwu_plugins.complaints.models import MonthlyReport

    months = [date(2020 + i // 12, i % 12 + 1, 1) for i in range(12)]
    site.db.run(lambda s: s.add_all(MonthlyReport(month=m, due_on=m + timedelta(days=40), built_at=datetime.now(UTC),
                                                  data={"total": i}) for i, m in enumerate(months)))
    site.db.run(lambda s: site.settings.set(s, "core.page_size", "5"))
    quality = browser("quality")
    shown, url, pages = [], "/complaints/reports", []
    while url:
        page = quality.get(url).text
        pages.append(re.findall(r'<td><a href="/complaints/reports/\d+">([^<]+)</a>', page))
        shown += pages[-1]
        after = re.search(r'<a href="(\?[^"]*after=[^"]*)" rel="next"', page)
        url = "/complaints/reports" + html.unescape(after.group(1)) if after else None
    assert [len(p) for p in pages] == [5, 5, 2]
    assert shown == [f"{m:%b %Y}" for m in reversed(months)]  # the reader's way: Jan 2020
    export = quality.get("/complaints/reports?format=csv").content.decode("utf-8-sig").splitlines()
    assert len(export) == 1 + 12


def test_the_dashboard_card_counts_every_open_complaint(cweb):
    """The card works out deadlines for the oldest 200 open complaints only;
    its count is of all of them."""
    site, _app, browser = cweb
    cust = customer(site)
    received = datetime.now(UTC) - timedelta(hours=1)
    site.db.run(lambda s: s.add_all(Complaint(number=f"TS-BULK-{i:04d}", customer_id=cust, received_at=received,
                                              description="批量") for i in range(205)))
    site.db.run(lambda s: s.add(Complaint(number="TS-BULK-DONE", customer_id=cust, received_at=received,
                                          state="archived")))
    card = browser("quality").get("/").text
    assert "Open: 205" in card


def test_the_consequences_page_and_its_export_name_each_review(cweb):
    site, _app, browser = cweb
    from fuwu_plugins.complaints.models import ReviewFlag

    cid = receive(site)
    sid, boss = staff_id(site, "engineer"), staff_id(site, "manager")
    site.db.run(lambda s: s.add_all([ReviewFlag(staff_id=sid, kind="dismissal", complaint_id=cid, count=2),
                                     ReviewFlag(staff_id=boss, kind="manager_review", complaint_id=cid, count=3)]))
    quality = browser("quality")
    page = html.unescape(quality.get("/complaints/consequences").text)
    export = quality.get("/complaints/consequences?format=csv").content.decode("utf-8-sig")
    for label in ("Dismissal review: repeated service-attitude complaint",
                  "Manager's demotion or dismissal review: complaints in the window"):
        assert label in page and label in export


def test_the_consequences_page_pages_its_reviews_and_its_fines_each_on_its_own(cweb):
    site, _app, browser = cweb
    from fuwu_plugins.complaints.models import ReviewFlag

    cust, sid = customer(site), staff_id(site, "engineer")
    start = datetime.now(UTC) - timedelta(days=30)
    site.db.run(lambda s: s.add_all(Complaint(number=f"TS-FINE-{i:02d}", customer_id=cust, description="态度",
                                              received_at=start + timedelta(days=i), fine_emitted=True,
                                              concerned_staff_id=sid) for i in range(12)))
    fined = site.db.run(lambda s: list(s.scalars(select(Complaint.id).where(Complaint.number.like("TS-FINE-%"))
                                                 .order_by(Complaint.id))))
    site.db.run(lambda s: s.add_all(ReviewFlag(staff_id=sid, kind="dismissal", complaint_id=cid, count=10 + i)
                                    for i, cid in enumerate(fined)))
    site.db.run(lambda s: site.settings.set(s, "core.page_size", "5"))
    quality = browser("quality")

    def section(page: str, name: str) -> str:
        part = page[page.index(f'id="{name}"'):]
        return part[:part.index("</section>")]

    def walk(name: str, other: str, prefix: str, pattern: str) -> tuple[list[list[str]], list[int]]:
        """Follow one list's Next links; also how many rows the other list shows on each page."""
        pages, others, url = [], [], "/complaints/consequences"
        while url:
            page = quality.get(url).text
            panel = section(page, name)
            pages.append(re.findall(pattern, panel))
            others.append(section(page, other).count("<tr"))
            after = re.search(rf'<a href="(\?[^"]*{prefix}after=[^"]*)" rel="next"', panel)
            url = "/complaints/consequences" + html.unescape(after.group(1)) if after else None
        assert "12 in all" in panel
        return pages, others

    flags, fines_beside = walk("review-flags", "fines", "flags_", r'<td class="num">(\d+)</td>')
    assert flags == [[str(n) for n in range(21, 16, -1)], [str(n) for n in range(16, 11, -1)], ["11", "10"]]
    assert fines_beside == [5, 5, 5]  # paging the reviews leaves the fines on their first page
    fines, flags_beside = walk("fines", "review-flags", "fines_", r">(TS-FINE-\d\d)<")
    assert [n for page in fines for n in page] == [f"TS-FINE-{i:02d}" for i in range(11, -1, -1)]  # newest first
    assert [len(page) for page in fines] == [5, 5, 2]
    assert flags_beside == [6, 6, 6]  # and the other way round (5 rows and the heading)
    export = quality.get("/complaints/consequences?format=csv").content.decode("utf-8-sig").splitlines()
    assert len(export) == 1 + 12 + 12


def test_the_search_box_finds_a_complaint_by_number_or_the_complainants_phone(cweb):
    site, _app, browser = cweb
    cid = receive(site, contact_phone="13900001111")
    number = site.db.run(lambda s: s.get(Complaint, cid).number)
    quality, outsider = browser("quality"), browser("outsider")
    for text in (number, "13900001111"):
        page = quality.get("/search", params={"q": text}).text
        assert f'<a href="/complaints/{cid}">{number}</a>' in page, text
    # an engineer of another office sees neither the customer nor the complaint
    assert f"/complaints/{cid}" not in outsider.get("/search", params={"q": number}).text
