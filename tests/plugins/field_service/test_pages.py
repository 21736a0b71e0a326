"""Mobile service and team projects through HTTP: dispatch, steps, return
visits, the month close (once), the project with its survey link and bonus,
record rules (IDOR), exports, query counts and the Chinese pages."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import event, select

from tests.conftest import customer_name

from .conftest import customer_id, make_job, staff_id

ZH = {"Accept-Language": "zh-CN"}


def job_of(site, job_id):
    from fuwu_plugins.field_service.models import MobileJob

    return site.db.run(lambda s: s.get(MobileJob, job_id).__dict__.copy())


def test_coordinator_dispatches_and_technician_records_the_steps(fs):
    site, _app, browser, _ledger = fs
    coord = browser("coord")
    r = coord.get("/field_service/jobs/new")
    assert r.status_code == 200 and "install" in r.text
    cid, tid = customer_id(site), staff_id(site, "tech1")
    # invalid input is kept, with a message
    r = coord.submit("/field_service/jobs/new", {"customer_id": customer_name(site, cid), "technician_id": tid,
                                                 "kind": "nope",
                                                 "problem": "打印机无法打印"}, page="/field_service/jobs/new")
    assert r.status_code == 422 and "打印机无法打印" in r.text
    r = coord.submit("/field_service/jobs/new", {"customer_id": customer_name(site, cid), "technician_id": tid,
                                                 "kind": "install",
                                                 "problem": "打印机无法打印"}, page="/field_service/jobs/new")
    assert r.status_code == 303
    job_id = int(re.search(r"/jobs/(\d+)", r.headers["location"]).group(1))
    tech = browser("tech1")
    for step, state in (("depart", "departed"), ("arrive", "arrived"), ("finish", "finished")):
        r = tech.submit(f"/field_service/jobs/{job_id}/step", {"step": step, "work_done": "驱动重装"},
                        page=f"/field_service/jobs/{job_id}")
        assert r.status_code == 303, r.text[:300]
        assert job_of(site, job_id)["state"] == state
    job = job_of(site, job_id)
    assert job["left_in_time"] is True and job["score"] == 3
    # a step recorded twice is refused
    r = tech.submit(f"/field_service/jobs/{job_id}/step", {"step": "depart"}, page=f"/field_service/jobs/{job_id}")
    assert r.status_code == 409
    board = coord.get("/field_service/")
    assert "打印机无法打印" in board.text and "Finished" in board.text
    # the return visit: the day's list is done once each job has an answer or a failed attempt
    day = job["finished_on"].isoformat()
    # finished the same moment, so on the same day in the site's zone whatever the clock says
    other = make_job(site, "tech2", finished_at=job["finished_at"])
    page = coord.get(f"/field_service/visits?day={day}")
    assert "0 of 2 jobs called back" in page.text
    r = coord.submit(f"/field_service/jobs/{job_id}/visit", {"outcome": "answered", "answer": "very_satisfied",
                                                            "comment": "很满意"}, page="/field_service/visits")
    assert r.status_code == 303
    r = coord.submit(f"/field_service/jobs/{other}/visit", {"outcome": "failed", "comment": "无人接听"},
                     page="/field_service/visits")
    assert r.status_code == 303
    page = coord.get(f"/field_service/visits?day={day}")
    assert "The day&#39;s return visits are done." in page.text or "The day's return visits are done." in page.text
    assert "Very satisfied: 很满意" in page.text and "Not reached (1)" in page.text
    assert job_of(site, job_id)["answer"] == "very_satisfied"


def test_the_score_table_is_checked_when_saved_and_takes_full_width_punctuation(fs):
    """RES-7's table is text; a pair that is not one is refused on the settings page (it
    was skipped silently, so a kind vanished from dispatch), and "巡检＝1，安装＝3" as a
    Chinese keyboard types it is read."""
    site, _app, browser, _ledger = fs
    admin = browser("boss")
    token = admin.csrf("/settings")

    def save(value):
        return admin.post("/settings/field_service.score_table", data={"value": value},
                          headers={"HX-Request": "true", "X-CSRF-Token": token, "Accept-Language": "en"})

    r = save("install=3,repair")
    assert r.status_code == 422 and "repair is not one" in html.unescape(r.text)
    assert save("").status_code == 422
    assert save("巡检＝1，安装＝3").status_code == 200
    form = browser("coord").get("/field_service/jobs/new", headers=ZH).text
    select = form.split('name="kind"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="([^"]+)"', select) == ["巡检", "安装"]


def test_kinds_of_job_are_named_in_the_readers_language(fs):
    """The dispatch form and the job page name the default score table's
    kinds (RES-7) in the reader's language; a kind the deployer adds to the
    table shows as they wrote it."""
    site, _app, browser, _ledger = fs
    coord = browser("coord")
    site.db.run(lambda s: site.settings.set(s, "field_service.score_table",
                                            "install=3,repair=2,training=2,consult=1,巡检=1"))
    form = coord.get("/field_service/jobs/new", headers=ZH).text
    select = form.split('name="kind"', 1)[1].split("</select>", 1)[0]
    options = dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', select))
    assert options == {"install": "安装", "repair": "维修", "training": "培训", "consult": "咨询", "巡检": "巡检"}
    cid, tid = customer_id(site), staff_id(site, "tech1")
    r = coord.submit("/field_service/jobs/new", {"customer_id": customer_name(site, cid), "technician_id": tid,
                                                 "kind": "repair",
                                                 "problem": "扫描仪卡纸"}, page="/field_service/jobs/new")
    assert r.status_code == 303
    page = coord.get(r.headers["location"], headers=ZH).text
    assert re.search(r"<dt>任务类别</dt><dd>维修</dd>", page)
    page = coord.get(r.headers["location"], headers={"Accept-Language": "zh-TW"}).text
    assert re.search(r"<dt>[^<]+</dt><dd>維修</dd>", page)


def test_late_departure_is_flagged(fs):
    site, _app, browser, _ledger = fs
    job_id = make_job(site, "tech1", assigned_ago=timedelta(minutes=11))
    tech = browser("tech1")
    r = tech.submit(f"/field_service/jobs/{job_id}/step", {"step": "depart"}, page=f"/field_service/jobs/{job_id}")
    assert r.status_code == 303
    assert job_of(site, job_id)["left_in_time"] is False
    assert "Late departure" in tech.get(f"/field_service/jobs/{job_id}").text


def test_other_people_s_jobs_are_not_found(fs):
    site, _app, browser, _ledger = fs
    job_id = make_job(site, "tech1")
    tech2 = browser("tech2")
    assert tech2.get(f"/field_service/jobs/{job_id}").status_code == 404
    r = tech2.submit(f"/field_service/jobs/{job_id}/step", {"step": "depart"}, page="/field_service/")
    assert r.status_code == 404
    assert job_of(site, job_id)["state"] == "assigned"
    # an engineer of another department sees neither the job nor its return visit
    far = browser("far")
    assert far.get(f"/field_service/jobs/{job_id}").status_code == 404
    assert far.submit(f"/field_service/jobs/{job_id}/step", {"step": "depart"},
                      page="/field_service/").status_code == 404
    # a technician cannot dispatch nor close a month
    assert tech2.get("/field_service/jobs/new").status_code == 403
    assert tech2.submit("/field_service/awards/close", {"month": "2020-01"}).status_code == 403


def _last_month(site):
    first = site.day_of().replace(day=1)
    prev = (first - timedelta(days=1)).replace(day=1)
    return datetime(prev.year, prev.month, 10, 3, 0, tzinfo=UTC), prev


def test_month_close_emits_each_result_once_with_its_reason(fs):
    site, _app, browser, ledger = fs
    when, month = _last_month(site)
    for _ in range(3):
        make_job(site, "tech1", finished_at=when, answer="very_satisfied", kind="install")  # 9 points, 100 %
    for _ in range(2):
        make_job(site, "tech2", finished_at=when, answer="very_satisfied", kind="repair")   # 4 points, 100 %
    make_job(site, "tech3", finished_at=when, answer="very_satisfied", kind="install")
    make_job(site, "tech3", finished_at=when, answer="dissatisfied", kind="install")       # 6 points, 50 %
    make_job(site, "tech4", finished_at=when, answer="very_satisfied", kind="consult")     # 1 point, 2 complaints
    ledger.COMPLAINTS[staff_id(site, "tech4")] = 2
    manager = browser("manager")
    ranking = manager.get(f"/field_service/awards?month={month:%Y-%m}")
    assert ranking.status_code == 200
    for _ in range(2):
        r = manager.submit("/field_service/awards/close", {"month": f"{month:%Y-%m}"}, page="/field_service/awards")
        assert r.status_code == 303
    got = sorted((c[0], c[1], c[3]) for c in ledger.CALLS)
    assert got == [("tech1", Decimal("100.00"), "RES-7"), ("tech2", Decimal("70.00"), "RES-7"),
                   ("tech3", Decimal("-100.00"), "RES-7"), ("tech4", Decimal("-100.00"), "RES-7")]
    reasons = {c[0]: c[2] for c in ledger.CALLS}
    # reasons are written in the site's language (zh_Hans)
    assert re.search(r"[\u4e00-\u9fff]", reasons["tech1"]) and "9" in reasons["tech1"]
    assert "2" in reasons["tech4"] and "50.00" in reasons["tech3"]
    # the current month cannot be closed
    r = manager.submit("/field_service/awards/close", {"month": f"{site.day_of():%Y-%m}"}, page="/field_service/awards")
    assert r.status_code == 422
    closed = manager.get(f"/field_service/awards?month={month:%Y-%m}")
    assert closed.text.count("RES-7") == 0 and "100.00" in closed.text
    xlsx = manager.get(f"/field_service/awards?month={month:%Y-%m}&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_monthly_job_closes_the_previous_month_once(fs):
    from fuwu_plugins.field_service import services

    site, _app, _browser, ledger = fs
    when, month = _last_month(site)
    make_job(site, "tech1", finished_at=when, answer="very_satisfied")
    today = site.day_of()
    later = datetime(today.year, today.month, 5, 3, tzinfo=UTC)
    if later.date() < month:  # pragma: no cover - the month boundary
        later = datetime.now(UTC)
    site.db.run(lambda s: services.close_previous_month(site, s, later))
    site.db.run(lambda s: services.close_previous_month(site, s, later))
    assert [(c[0], c[1]) for c in ledger.CALLS] == [("tech1", Decimal("100.00"))]


def _plan(browser, site, **extra):
    start = site.day_of() + timedelta(days=1)
    members = [staff_id(site, u) for u in ("tech1", "tech2", "tech3", "tech4")]
    data = {"title": "税控升级", "customer_id": customer_name(site, customer_id(site)), "expected_start": start.isoformat(),
            "expected_finish": (start + timedelta(days=6)).isoformat(), "leader_id": staff_id(site, "lead"),
            "members": members, "tasks": "tech1: 服务器\ntech2: 客户端", "bonus": "600", **extra}
    return browser.submit("/field_service/projects/new", data, page="/field_service/projects/new")


def test_the_task_split_takes_either_colon_and_refuses_a_line_it_cannot_place(fs):
    site, _app, browser = fs[:3]
    manager = browser("manager")
    for tasks, problem in (("tech1 服务器", "Write each line as a member's name, a colon and the task"),
                           ("tech9：服务器", "tech9 is not one of the project members.")):
        r = _plan(manager, site, tasks=tasks)
        assert r.status_code == 422 and problem in html.unescape(r.text)
        assert tasks in html.unescape(r.text)  # what was typed stays in the box
    # a Chinese keyboard types the full-width colon
    r = _plan(manager, site, tasks="tech1：服务器\n\ntech2 : 客户端 ")
    assert r.status_code == 303, r.text[:300]
    from fuwu_plugins.field_service.models import ProjectMember

    pid = int(re.search(r"/projects/(\d+)", r.headers["location"]).group(1))
    tasks = site.db.run(lambda s: {m.staff_id: m.task for m in s.scalars(
        select(ProjectMember).where(ProjectMember.project_id == pid))})
    assert tasks[staff_id(site, "tech1")] == "服务器" and tasks[staff_id(site, "tech2")] == "客户端"


def test_team_project_from_plan_to_survey_and_bonus(fs):
    site, _app, browser, ledger = fs
    manager = browser("manager")
    # too small for a team project
    small = _plan(manager, site, members=[staff_id(site, "tech1")],
                  expected_finish=(site.day_of() + timedelta(days=1)).isoformat())
    assert small.status_code == 422 and "Too small for a team project" in small.text
    r = _plan(manager, site)
    assert r.status_code == 303, r.text[:500]
    pid = int(re.search(r"/projects/(\d+)", r.headers["location"]).group(1))
    page = manager.get(f"/field_service/projects/{pid}")
    assert page.status_code == 200 and "服务器" in page.text
    # the planned period breaks only at its dash; the actual one, not begun, is a plain dash
    facts = re.search(r'<dl class="facts" id="project-facts">(.*?)</dl>', page.text, re.S).group(1)
    assert re.search(r'<dt>Planned</dt><dd><span class="nowrap">[^<]+</span> – <span class="nowrap">', facts)
    assert "<dt>Actual</dt><dd>—</dd>" in facts
    # the leader files the daily reports and a work record; the manager the plan
    from fuwu_plugins.field_service.models import ProjectDocument

    docs = site.db.run(lambda s: [(d.id, d.kind) for d in s.scalars(
        select(ProjectDocument).where(ProjectDocument.project_id == pid))])
    lead = browser("lead")
    for doc_id, kind in docs:
        who = manager if kind == "plan" else lead
        r = who.submit(f"/field_service/projects/{pid}/documents/{doc_id}", {"body": "按计划完成"},
                       page=f"/field_service/projects/{pid}")
        assert r.status_code == 303
    r = lead.submit(f"/field_service/projects/{pid}/work-records", {"serials": "SN001\nSN002", "quantity": "2"},
                    page=f"/field_service/projects/{pid}")
    assert r.status_code == 303
    # a member who is not the leader cannot file the leader's documents; outsiders see nothing
    tech1 = browser("tech1")
    assert tech1.get(f"/field_service/projects/{pid}").status_code == 200
    assert tech1.submit(f"/field_service/projects/{pid}/work-records", {"serials": "X"},
                        page="/field_service/").status_code == 404
    far = browser("far")
    assert far.get(f"/field_service/projects/{pid}").status_code == 404
    # the customer's survey by signed link
    r = manager.submit(f"/field_service/projects/{pid}/survey-link", page=f"/field_service/projects/{pid}")
    link = re.search(r'id="survey-link">([^<]+)<', r.text).group(1)
    path = link.replace("http://testserver", "")
    customer = browser()
    form = customer.get(path)
    assert form.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    done = customer.post(path, data={"survey": "satisfied", "comment": "很好", "csrf_token": token})
    assert done.status_code == 200 and "Your answer has been recorded." in done.text
    assert customer.get(path).status_code in (403, 410)
    r = manager.submit(f"/field_service/projects/{pid}/close", page=f"/field_service/projects/{pid}")
    assert r.status_code == 303
    calls = sorted((c[0], c[1]) for c in ledger.CALLS)
    # survey: leader 100, members 50; bonus 600 among the manager (1.2) and 5 members (1.0 each)
    assert ("lead", Decimal("100.00")) in calls and calls.count(("tech1", Decimal("50.00"))) == 1
    bonus = [c for c in ledger.CALLS if c[4][0].startswith("field_service.project.bonus")]
    assert sum(c[1] for c in bonus) == Decimal("600.00")
    assert ("manager", Decimal("116.13")) in [(c[0], c[1]) for c in bonus]  # 600 x 1.2 / 6.2
    assert all(re.search(r"[\u4e00-\u9fff]", c[2]) and c[3] == "RES-8" for c in ledger.CALLS)
    # closing twice is refused; nothing more is emitted
    n = len(ledger.CALLS)
    assert manager.submit(f"/field_service/projects/{pid}/close",
                          page=f"/field_service/projects/{pid}").status_code == 422
    assert len(ledger.CALLS) == n


def test_late_documents_reduce_the_share_line_by_line(fs):
    from fuwu_plugins.field_service.models import Project

    site, _app, browser, _ledger = fs
    manager = browser("manager")
    r = _plan(manager, site)
    pid = int(re.search(r"/projects/(\d+)", r.headers["location"]).group(1))

    def age(s):
        project = s.get(Project, pid)
        plan = next(d for d in project.documents if d.kind == "plan")
        daily = next(d for d in project.documents if d.kind == "daily")
        # a week without holidays: Mon 3 March 2025 due, Thu 6 March filed (3 working days late);
        # Fri 7 March due, Mon 10 March filed (the weekend does not count: 1 day late)
        plan.due_on, plan.submitted_on = date(2025, 3, 3), date(2025, 3, 6)
        daily.due_on, daily.submitted_on = date(2025, 3, 7), date(2025, 3, 10)

    site.db.run(age)
    page = manager.get(f"/field_service/projects/{pid}")
    # 600 among the manager (1.2) and five members: 116.13 and 96.78/96.78/96.77/96.77/96.77
    bonus = page.text[page.text.index('id="bonus"'):]
    assert "116.13" in bonus and "96.78" in bonus
    assert re.search(r"Plan 2025-03-03: late by 3 working day\(s\), −\D*17\.42", bonus)  # 116.13 x 5 % x 3
    assert re.search(r"Daily report 2025-03-07: late by 1 working day\(s\), −\D*4\.84", bonus)  # the leader's 96.77 x 5 %
    assert "98.71" in bonus and "91.93" in bonus  # the net amounts


def test_board_lists_without_a_query_per_row_and_exports(fs):
    site, _app, browser, _ledger = fs
    coord = browser("coord")

    def count(n):
        while True:
            have = coord.get("/field_service/").text.count("/field_service/jobs/") - 1
            if have >= n:
                break
            make_job(site, "tech1")
        statements = []
        listener = lambda *a, **k: statements.append(1)  # noqa: E731
        event.listen(site.db.engine, "before_cursor_execute", listener)
        try:
            assert coord.get("/field_service/").status_code == 200
        finally:
            event.remove(site.db.engine, "before_cursor_execute", listener)
        return len(statements)

    assert count(10) == count(50)
    xlsx = coord.get("/field_service/?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    csv = coord.get("/field_service/?format=csv")
    assert "无法开票" in csv.text


def test_pages_in_chinese(fs):
    site, _app, browser, _ledger = fs
    make_job(site, "tech1")
    coord = browser("coord")
    for path in ("/field_service/", "/field_service/visits", "/field_service/awards", "/field_service/projects"):
        r = coord.get(path, headers=ZH)
        assert r.status_code == 200
    assert "流动服务" in coord.get("/field_service/", headers=ZH).text


def test_every_route_declares_a_field_service_permission(fs):
    site, _app, _browser, _ledger = fs
    routes = dict(site.plugins.collect_by_plugin("register_routes"))["field_service"]
    assert len(routes) == 15
    for route in routes:
        assert getattr(route.endpoint, "__fuwu_permission__", "").startswith("field_service."), route.path
        assert not hasattr(route.endpoint, "__fuwu_public__"), route.path


def test_who_opens_which_page(fs):
    _site, _app, browser, _ledger = fs
    pages = {"/field_service/": "tech", "/field_service/visits": "coord", "/field_service/awards": "lead",
             "/field_service/projects": "tech", "/field_service/projects/new": "manager",
             "/field_service/jobs/new": "coord"}
    allowed = {
        "tech1": {"/field_service/", "/field_service/projects"},
        "coord": {"/field_service/", "/field_service/visits", "/field_service/awards", "/field_service/projects",
                  "/field_service/jobs/new"},
        "lead": {"/field_service/", "/field_service/awards", "/field_service/projects"},
        "manager": set(pages),
    }
    for user, ok in allowed.items():
        client = browser(user)
        for path in pages:
            assert client.get(path).status_code == (200 if path in ok else 403), (user, path)


def test_a_forged_survey_link_is_refused(fs):
    _site, _app, browser, _ledger = fs
    assert browser().get("/l/not-a-token").status_code in (403, 404)
