"""Training through HTTP: registration and the waiting list, exams through
signed links, the acceptance sheet, plans, record rules, reports."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from fuwu.db import utcnow

from tests.conftest import customer_name

from .conftest import make_course, make_session

TOKEN = re.compile(r"/l/([0-9]+\.[A-Za-z0-9_\-]+\.[0-9a-f]+)")


def register(b, sid, name, email):
    return b.submit(f"/training/sessions/{sid}/register", {"name": name, "email": email},
                    page=f"/training/sessions/{sid}")


def regs(site, sid):
    from fuwu_plugins.training.models import Registration

    return site.db.run(lambda s: {r.name: (r.id, r.status) for r in s.scalars(
        select(Registration).where(Registration.session_id == sid))})


def test_registration_beyond_capacity_waits_and_moves_up_on_cancellation(tweb):
    site, _app, browser = tweb
    sid = make_session(site, make_course(site), capacity=2)
    b = browser("coordinator")
    for i, name in enumerate(["张三", "李四", "王五", "赵六"]):
        r = register(b, sid, name, f"t{i}@example.com")
        assert r.status_code == 303
    page = b.get(r.headers["location"])
    assert "on the waiting list" in page.text
    got = regs(site, sid)
    assert [got[n][1] for n in ["张三", "李四", "王五", "赵六"]] == ["registered", "registered", "waiting", "waiting"]
    # the same e-mail twice is refused, and a wrong address: the form again, with what was typed
    twice = register(b, sid, "张三", "t0@example.com")
    assert twice.status_code == 422 and 'value="t0@example.com"' in twice.text
    wrong = register(b, sid, "孙七", "sun7@")
    form = wrong.text[wrong.text.index('id="register-form"'):]
    assert wrong.status_code == 422 and 'value="孙七"' in form and 'value="sun7@"' in form
    assert "Enter an e-mail address" in form
    r = b.submit(f"/training/registrations/{got['李四'][0]}/cancel", page=f"/training/sessions/{sid}")
    assert r.status_code == 303
    assert "王五 moved up" in b.get(r.headers["location"]).text
    got = regs(site, sid)
    assert got["李四"][1] == "cancelled" and got["王五"][1] == "registered" and got["赵六"][1] == "waiting"
    # cancelling a waiting trainee frees nothing and moves no one
    b.submit(f"/training/registrations/{got['赵六'][0]}/cancel", page=f"/training/sessions/{sid}")
    assert regs(site, sid)["赵六"][1] == "cancelled"
    # trainees were told by e-mail (outbox), the notice prints the seated ones
    from fuwu.notifications import OutboxMail

    mails = site.db.run(lambda s: [m.to_addr for m in s.scalars(select(OutboxMail))])
    assert mails.count("t2@example.com") == 2  # waiting list, then moved up
    # a change of place reaches every trainee still registered or waiting
    form = b.get(f"/training/sessions/{sid}/edit").text
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form))
    fields.update({k: v for k, v in re.findall(r'<select id="f-([a-z_]+)".*?<option value="([^"]*)" selected', form, re.S)})
    fields["place"] = "新培训教室"
    assert b.submit(f"/training/sessions/{sid}/edit", fields, page="/").status_code == 303
    changed = site.db.run(lambda s: [m.to_addr for m in s.scalars(select(OutboxMail).where(
        OutboxMail.body.contains("新培训教室")))])
    assert sorted(changed) == ["t0@example.com", "t2@example.com"]
    notice = b.get(f"/training/sessions/{sid}/notice").text
    assert "张三" in notice and "王五" in notice and "李四" not in notice and 'class="signature"' in notice


def test_attendance_is_taken_per_session(tweb):
    site, _app, browser = tweb
    sid = make_session(site, make_course(site), capacity=5)
    b = browser("trainer")
    register(b, sid, "甲", "a@example.com")
    register(b, sid, "乙", "b@example.com")
    got = regs(site, sid)
    r = b.submit(f"/training/sessions/{sid}/attendance", {"present": [str(got["甲"][0])]},
                 page=f"/training/sessions/{sid}")
    assert r.status_code == 303
    from fuwu_plugins.training.models import Registration

    assert site.db.run(lambda s: {r.name: r.attended for r in s.scalars(select(Registration))}) == \
        {"甲": True, "乙": False}


def exam_link(site, b, sid, name, email):
    register(b, sid, name, email)
    rid = regs(site, sid)[name][0]
    r = b.submit(f"/training/registrations/{rid}/exam-link", page=f"/training/sessions/{sid}")
    assert r.status_code == 303, r.text
    page = b.get(r.headers["location"]).text
    return rid, "/l/" + TOKEN.search(page).group(1)


def questions(site, course_id):
    from fuwu_plugins.training.models import Question

    return site.db.run(lambda s: {q.kind: (q.id, q.answer, q.options) for q in s.scalars(
        select(Question).where(Question.course_id == course_id))})


def test_trainee_takes_exam_autosaved_scored_and_link_then_refused(tweb):
    site, app, browser = tweb
    cid = make_course(site)
    sid = make_session(site, cid)
    b = browser("trainer")
    rid, url = exam_link(site, b, sid, "孙七", "sun@example.com")
    qs = questions(site, cid)
    trainee = browser()
    page = trainee.get(url)
    assert page.status_code == 200
    assert "单选题" in page.text and "hx-post" in page.text
    # the answer key never reaches the trainee's browser
    assert "✓" not in page.text and "data-answer" not in page.text and 'checked' not in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    # answers saved as they go (htmx), a reload shows them
    saved = trainee.post(url, data={"csrf_token": token, "action": "save", f"q{qs['single'][0]}": "0",
                                    f"q{qs['multiple'][0]}": ["0"]}, headers={"HX-Request": "true"})
    assert saved.status_code == 200 and 'data-saved="2"' in saved.text
    again = trainee.get(url)
    assert again.text.count("checked") == 2
    # the page does not depend on the key: with other right answers it is the same page
    from fuwu_plugins.training.models import Question

    def rekey(s):
        for q in s.scalars(select(Question).where(Question.course_id == cid)):
            q.answer = {"single": "1", "multiple": "1,2", "truefalse": "true"}[q.kind]

    site.db.run(rekey)
    csrf = re.compile(r'(name="csrf-token" content|name="csrf_token" value)="[^"]+"')
    assert csrf.sub("", trainee.get(url).text) == csrf.sub("", again.text)
    site.db.run(lambda s: [setattr(q, "answer", qs[q.kind][1]) for q in s.scalars(
        select(Question).where(Question.course_id == cid))])
    token = re.search(r'name="csrf_token" value="([^"]+)"', trainee.get(url).text).group(1)
    done = trainee.post(url, data={"csrf_token": token, "action": "submit", f"q{qs['single'][0]}": "0",
                                   f"q{qs['multiple'][0]}": ["0"], f"q{qs['truefalse'][0]}": "true"})
    assert done.status_code == 200
    # 4 (single) + 2 (half of the multiple) + 0 (wrong true/false) = 6 of 10 = 60 %: passed at 60
    assert "6.00 of 10 (60.00%)" in done.text, done.text[done.text.find("exam-done"):]
    assert "Passed" in done.text
    # the link works once
    reused = trainee.get(url)
    assert reused.status_code == 410 and "already been used" in reused.text
    # tampered
    bad = url[:-3] + ("000" if not url.endswith("000") else "111")
    assert trainee.get(bad).status_code == 403
    # the customer's page shows who passed, and the timeline says so
    from fuwu_plugins.training.models import TrainingSession

    customer_id = site.db.run(lambda s: s.get(TrainingSession, sid).customer_id)
    cpage = b.get(f"/customers/{customer_id}").text
    assert 'data-trainee="孙七"' in cpage and "60.00%" in cpage
    from fuwu.timeline import TimelineEntry

    assert site.db.run(lambda s: s.scalar(select(TimelineEntry.id).where(
        TimelineEntry.customer_id == customer_id, TimelineEntry.source == "training"))) is not None


def test_expired_exam_link_gives_a_clear_page(tweb):
    site, _app, browser = tweb
    sid = make_session(site, make_course(site))
    b = browser("trainer")
    rid, url = exam_link(site, b, sid, "周八", "zhou@example.com")
    from fuwu.links import SignedLink

    def expire(s):
        link = s.scalar(select(SignedLink).where(SignedLink.record_id == rid, SignedLink.purpose == "training.exam"))
        link.expires_at = utcnow() - timedelta(minutes=1)

    site.db.run(expire)
    # the token is signed over the expiry, so a changed expiry reads as not ours; staff reissue
    r = browser().get(url)
    assert r.status_code in (403, 410) and "周八" not in r.text


def test_exam_link_really_expired(tweb):
    site, _app, browser = tweb
    sid = make_session(site, make_course(site))
    b = browser("trainer")
    register(b, sid, "吴九", "wu@example.com")
    rid = regs(site, sid)["吴九"][0]
    from fuwu import links
    from fuwu_plugins.training.models import Registration

    token = site.db.run(lambda s: links.issue_for(site, s, "training.exam", s.get(Registration, rid),
                                                  now=utcnow() - timedelta(days=400)))
    r = browser().get(f"/l/{token}")
    assert r.status_code == 410 and "expired" in r.text and "吴九" not in r.text


def test_exam_after_the_time_limit_hands_in_what_was_saved(tweb):
    site, _app, browser = tweb
    cid = make_course(site)
    sid = make_session(site, cid, minutes=10)
    b = browser("trainer")
    rid, url = exam_link(site, b, sid, "郑十", "zheng@example.com")
    qs = questions(site, cid)
    trainee = browser()
    page = trainee.get(url)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    trainee.post(url, data={"csrf_token": token, "action": "save", f"q{qs['single'][0]}": "0"},
                 headers={"HX-Request": "true"})
    from fuwu_plugins.training.models import Attempt

    def age(s):
        a = s.scalar(select(Attempt).where(Attempt.registration_id == rid))
        a.started_at = a.started_at - timedelta(minutes=12)

    site.db.run(age)
    # late answers are not taken; the saved ones are scored
    done = trainee.post(url, data={"csrf_token": token, "action": "submit", f"q{qs['single'][0]}": "0",
                                   f"q{qs['truefalse'][0]}": "false", f"q{qs['multiple'][0]}": ["0", "3"]})
    assert done.status_code == 200 and "time limit was reached" in done.text
    a = site.db.run(lambda s: s.scalar(select(Attempt).where(Attempt.registration_id == rid)))
    assert a.late and a.score == 4 and a.passed is False
    assert trainee.get(url).status_code == 410


def test_a_refused_question_comes_back_with_what_was_typed(tweb):
    site, _app, browser = tweb
    from fuwu_plugins.training.models import Question

    cid = make_course(site, questions=False)
    b = browser("trainer")
    typed = {"kind": "multiple", "text": "哪些操作需要先备份账套？", "options": "年结\n反结账\n查询报表",
             "answer": "1、4", "points": "5"}
    r = b.submit(f"/training/courses/{cid}/questions", typed, page=f"/training/courses/{cid}")
    assert r.status_code == 422
    page = html.unescape(r.text)
    answer = page[page.index('id="field-q-answer"'):][:800]
    assert "Give the numbers of the right options" in answer and 'value="1、4"' in answer
    assert "哪些操作需要先备份账套？" in page and "年结\n反结账\n查询报表" in page  # nothing typed is lost
    r = b.submit(f"/training/courses/{cid}/questions", {**typed, "answer": "1、2"}, page=f"/training/courses/{cid}")
    assert r.status_code == 303
    saved = site.db.run(lambda s: s.scalar(select(Question).where(Question.course_id == cid)))
    assert (saved.options, saved.answer, saved.points) == (["年结", "反结账", "查询报表"], "0,1", 5)


def test_short_answers_marked_by_the_trainer(tweb):
    site, _app, browser = tweb
    cid = make_course(site, questions=False)
    b = browser("trainer")
    r = b.submit(f"/training/courses/{cid}/questions", {"kind": "short", "text": "简述反结账", "answer": "取消记账",
                                                        "points": "10"}, page=f"/training/courses/{cid}")
    assert r.status_code == 303
    assert b.submit(f"/training/courses/{cid}/questions", {"kind": "single", "text": "x", "options": "a",
                                                           "answer": "1"}, page="/").status_code == 422
    sid = make_session(site, cid)
    rid, url = exam_link(site, b, sid, "钱一", "qian@example.com")
    qid = questions(site, cid)["short"][0]
    trainee = browser()
    page = trainee.get(url)
    assert "取消记账" not in page.text  # the model answer stays with the trainer
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = trainee.post(url, data={"csrf_token": token, "action": "submit", f"q{qid}": "先取消记账再反结账"})
    assert "will mark" in done.text
    detail = b.get(f"/training/sessions/{sid}").text
    assert "先取消记账再反结账" in detail and "To be marked" in detail
    refused = b.submit(f"/training/registrations/{rid}/mark", {f"mark{qid}": "11"}, page="/")
    assert refused.status_code == 422
    field = refused.text[refused.text.index(f'id="m-{rid}-{qid}"') - 300:][:900]
    assert 'value="11"' in field and "A score from 0 to 10." in field  # the page again, the score kept
    assert b.submit(f"/training/registrations/{rid}/mark", {f"mark{qid}": "８"}, page="/").status_code == 303
    from fuwu_plugins.training.models import Attempt

    a = site.db.run(lambda s: s.scalar(select(Attempt).where(Attempt.registration_id == rid)))
    assert a.score == 8 and a.passed is True and not a.pending_marking


def test_chinese_pages_join_lists_and_bracket_asides_the_chinese_way(tweb):
    """Names listed in a message are joined with 、 and 和 in Chinese, ", and" in
    English; an aside on a heading is in full-width brackets without a space."""
    site, _app, browser = tweb
    cid = make_course(site)
    sid = make_session(site, cid, capacity=5)
    b = browser("trainer")
    for name in ("甲", "乙", "丙"):
        register(b, sid, name, f"{ord(name)}@example.com")
    sheet, sign = f"/training/sessions/{sid}/sheet", f"/training/sessions/{sid}/sheet/sign"
    boss = {"registration_id": "", "name": "客户主管", "typed": "客户主管"}
    zh = b.submit(sign, boss, page=sheet, headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 422 and "尚未签字：甲、乙和丙。" in zh.text
    en = b.submit(sign, boss, page=sheet, headers={"Accept-Language": "en"})
    assert "Still to sign: 甲, 乙, and 丙." in en.text
    assert "題庫（3）" in b.get(f"/training/courses/{cid}", headers={"Accept-Language": "zh-TW"}).text
    assert "Question bank (3)" in b.get(f"/training/courses/{cid}", headers={"Accept-Language": "en"}).text


def test_acceptance_sheet_responsible_signs_last_then_locked(tweb):
    site, _app, browser = tweb
    sid = make_session(site, make_course(site))
    b = browser("trainer")
    register(b, sid, "甲", "a@example.com")
    register(b, sid, "乙", "b@example.com")
    got = regs(site, sid)
    sheet = f"/training/sessions/{sid}/sheet"
    sign = f"/training/sessions/{sid}/sheet/sign"
    assert b.submit(sign, {"registration_id": str(got["甲"][0]), "name": "甲", "typed": "甲"}, page=sheet).status_code == 303
    early = b.submit(sign, {"registration_id": "", "name": "客户主管", "typed": "客户主管"}, page=sheet)
    assert early.status_code == 422 and "乙" in early.text
    drawn = "data:image/png;base64,iVBORw0KGgo="
    assert b.submit(sign, {"registration_id": str(got["乙"][0]), "name": "乙", "drawn": drawn}, page=sheet).status_code == 303
    assert b.submit(sign, {"registration_id": "", "name": "客户主管", "typed": "客户主管"}, page=sheet).status_code == 303
    page = b.get(sheet).text
    assert "客户主管" in page and drawn in page and 'id="sign-form"' not in page and 'class="signature"' in page
    # complete: nothing changes any more
    late = b.submit(sign, {"registration_id": str(got["甲"][0]), "name": "甲", "typed": "甲"}, page=sheet)
    assert late.status_code == 422 and "can no longer change" in late.text
    assert b.submit(sign, {"registration_id": "", "name": "别人", "typed": "别人"}, page=sheet).status_code == 422


def test_record_rules_another_departments_session_is_not_found(tweb):
    site, _app, browser = tweb
    sid = make_session(site, make_course(site))
    b = browser("trainer")
    register(b, sid, "甲", "a@example.com")
    rid = regs(site, sid)["甲"][0]
    out = browser("outsider")
    assert out.get(f"/training/sessions/{sid}").status_code == 404
    assert out.get(f"/training/sessions/{sid}/sheet").status_code == 404
    assert register(out, sid, "坏人", "x@example.com").status_code == 404
    assert out.submit(f"/training/registrations/{rid}/cancel", page="/").status_code == 404
    assert out.submit(f"/training/registrations/{rid}/exam-link", page="/").status_code == 404
    assert regs(site, sid)["甲"][1] == "registered"
    # permissions: an engineer may look but not run sessions
    eng = browser("engineer")
    assert eng.get(f"/training/sessions/{sid}").status_code == 200
    assert register(eng, sid, "x", "y@example.com").status_code == 403
    assert eng.get("/training/reports").status_code == 403
    assert browser().get("/training/sessions").status_code in (302, 303)


def test_session_list_same_queries_for_10_and_50_rows(tweb):
    site, _app, browser = tweb
    cid = make_course(site)
    b = browser("trainer")

    def measure():
        count = [0]

        def counter(*_args):
            count[0] += 1

        b.get("/training/sessions")  # warm: the sign-in is cached from here on
        event.listen(site.db.engine, "before_cursor_execute", counter)
        try:
            r = b.get("/training/sessions")
        finally:
            event.remove(site.db.engine, "before_cursor_execute", counter)
        return count[0], r.text.count("/training/sessions/")

    for _ in range(10):
        make_session(site, cid)
    small = measure()
    for _ in range(40):
        make_session(site, cid, customer=False)
    large = measure()
    assert small[0] == large[0]
    assert large[1] > small[1]
    xlsx = b.get("/training/sessions?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_plan_agreed_through_the_workflow_and_first_use_plan(tweb):
    site, _app, browser = tweb
    from fuwu.models import Contract, Customer

    def contract(s):
        from fuwu.models import Department

        dept = s.scalar(select(Department).where(Department.name == "售后服务部"))
        cust = Customer(name="首次培训客户", account_type="key", region="华东", department_id=dept.id)
        s.add(cust)
        s.flush()
        from datetime import date

        c = Contract(number="TRN-C-1", kind="service", customer_id=cust.id, signed_on=date(2026, 1, 1),
                     installed_on=date(2026, 1, 5), starts_on=date(2026, 1, 5), ends_on=date(2027, 1, 4))
        s.add(c)
        s.flush()
        return cust.id

    customer_id = site.db.run(contract)
    from fuwu_plugins.training.models import Plan

    plan = site.db.run(lambda s: s.scalar(select(Plan).where(Plan.first_use.is_(True))))
    assert plan is not None and plan.state == "draft"
    from fuwu.models import Role, Staff
    from fuwu.workflow import WorkflowTask

    # on the responsible trainer's "waiting on me" list (TRN-6)
    task = site.db.run(lambda s: s.scalar(select(WorkflowTask).where(WorkflowTask.record_table == "training_plan",
                                                                      WorkflowTask.record_id == plan.id)))
    assert task.assignee_id == plan.trainer_id
    assert site.db.run(lambda s: s.scalar(select(Role.key).join(Staff.roles).where(Staff.id == plan.trainer_id)
                                          .where(Role.key == "trainer"))) == "trainer"
    b = browser("manager")
    listing = b.get("/training/plans?state=draft").text
    assert "Before first use" in listing
    url = f"/training/plans/{plan.id}"
    for step in ("send", "agree"):
        version = re.search(r'name="version" value="(\d+)"', b.get(url).text).group(1)
        r = b.submit(f"{url}/step", {"step": step, "version": version}, page=url)
        assert r.status_code == 303, r.text
    page = b.get(url).text
    assert 'id="plan-actions"' not in page and "Agreed with the customer" in page
    assert b.get(f"{url}/edit").status_code == 200
    r = b.submit(f"{url}/edit", {"customer_id": customer_name(site, customer_id), "title": "x", "place": "remote"},
                 page=url)
    assert r.status_code in (409, 422) and "An agreed plan cannot change." in r.text
    assert browser("outsider").get(url).status_code == 404


def test_course_form_materials_and_chinese_pages(tweb):
    site, _app, browser = tweb
    b = browser("trainer")
    r = b.submit("/training/courses/new", {"code": "ＵＰ－１", "title": "软件升级培训", "category": "upgrade",
                                           "hours": "3"}, page="/training/courses/new")
    assert r.status_code == 303
    cid = int(r.headers["location"].rsplit("/", 1)[1])
    # the code typed in full-width mode is kept as UP-1, and the list finds it by title or by code
    for q in ("升级", "up-1", "ＵＰ－１"):
        assert f"/training/courses/{cid}" in b.get("/training/courses", params={"q": q}).text, q
    assert f"/training/courses/{cid}" not in b.get("/training/courses", params={"q": "UP-2"}).text
    bad = b.submit("/training/courses/new", {"code": "UP-1", "title": "", "category": "upgrade", "hours": "x"},
                   page="/training/courses/new")
    assert bad.status_code == 422 and 'value="UP-1"' in bad.text
    token = b.csrf(f"/training/courses/{cid}")
    up = b.post(f"/training/courses/{cid}/materials", data={"csrf_token": token},
                files={"file": ("手册.pdf", io.BytesIO(b"%PDF-1.4 manual"), "application/pdf")})
    assert up.status_code == 303
    exe = b.post(f"/training/courses/{cid}/materials", data={"csrf_token": token},
                 files={"file": ("virus.exe", io.BytesIO(b"MZ"), "application/octet-stream")})
    assert exe.status_code == 422
    # the accepted types as a Chinese keyboard types them; "pdf;docx" is refused where it is saved
    site.db.run(lambda s: site.settings.set(s, "training.material_types", "pdf，docx、pptx"))
    slides = b.post(f"/training/courses/{cid}/materials", data={"csrf_token": token},
                    files={"file": ("讲义.pptx", io.BytesIO(b"PK slides"), "application/octet-stream")})
    assert slides.status_code == 303
    from fuwu.errors import ValidationError

    with pytest.raises(ValidationError):
        site.db.run(lambda s: site.settings.set(s, "training.material_types", "pdf;docx"))
    zh = b.get(f"/training/courses/{cid}", headers={"Accept-Language": "zh-CN"}).text
    assert "手册.pdf" in zh and "讲义.pptx" in zh, zh[zh.find('id="materials"'):][:800]
    assert "题库" in zh
    assert b.get("/training/courses?format=xlsx").content[:2] == b"PK"


def test_report_per_course_and_customer(tweb):
    site, _app, browser = tweb
    cid = make_course(site)
    sid = make_session(site, cid, capacity=5)
    b = browser("trainer")
    rid, url = exam_link(site, b, sid, "甲", "a@example.com")
    register(b, sid, "乙", "b@example.com")
    b.submit(f"/training/sessions/{sid}/attendance", {"present": [str(rid)]}, page="/")
    qs = questions(site, cid)
    trainee = browser()
    token = re.search(r'name="csrf_token" value="([^"]+)"', trainee.get(url).text).group(1)
    trainee.post(url, data={"csrf_token": token, "action": "submit", f"q{qs['single'][0]}": "0",
                            f"q{qs['multiple'][0]}": ["0", "3"], f"q{qs['truefalse'][0]}": "false"})
    m = browser("manager")
    page = m.get("/training/reports").text
    row = re.search(r"<tr><td>财务软件操作</td>(.*?)</tr>", page, re.S).group(1)
    cells = re.findall(r">\s*([0-9.]+)\s*<", row)
    # 1 session, 2 trainees, 1 attended (50 %), 1 examined, 100 % passed, average 100
    assert cells[:4] == ["1", "2", "1", "50.0"] and "100.0" in row
    from fuwu_plugins.training.models import TrainingSession

    name = site.db.run(lambda s: s.get(TrainingSession, sid).customer.name)
    assert name in m.get("/training/reports?by=customer").text
    assert m.get("/training/reports?format=xlsx").content[:2] == b"PK"


def test_assessments_staff_see_their_own(tweb):
    site, _app, browser = tweb
    from fuwu.models import Staff

    eng_id = site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == "engineer")))
    m = browser("manager")
    r = m.submit("/training/assessments/new", {"staff_id": str(eng_id), "kind": "probation",
                                               "assessed_on": "2026-11-01", "technical": "55", "attitude": "90",
                                               "proficiency": "70", "remarks": "试用期考核"},
                 page="/training/assessments/new")
    assert r.status_code == 303
    assert m.submit("/training/assessments/new", {"staff_id": str(eng_id), "kind": "x"}, page="/").status_code == 422
    assert "试用期考核" in browser("engineer").get("/training/my-assessments").text
    assert "试用期考核" not in browser("trainer").get("/training/my-assessments").text
    assert browser("trainer").get("/training/assessments").status_code == 403


def test_customer_contact_registers_trainees_through_a_signed_link(tweb):
    site, _app, browser = tweb
    sid = make_session(site, make_course(site), capacity=1)
    b = browser("coordinator")
    r = b.submit(f"/training/sessions/{sid}/invite", {"email": "it@customer.example"}, page=f"/training/sessions/{sid}")
    assert r.status_code == 303
    token = r.headers["location"].split("invite=")[1]
    from fuwu.notifications import OutboxMail
    from fuwu_plugins.training.models import TrainingSession

    # the contact gets the whole address, the start in the site's time zone, in the site's language
    mail = site.db.run(lambda s: s.scalar(select(OutboxMail).where(OutboxMail.to_addr == "it@customer.example")))
    starts = site.db.run(lambda s: s.get(TrainingSession, sid).starts_at).astimezone(ZoneInfo("Asia/Shanghai"))
    assert mail.subject.endswith("：培训报名邀请")
    assert f"开始时间：{starts.year}/{starts.month}/{starts.day}\xa0{starts:%H:%M}" in mail.body
    assert f"http://testserver/l/{token}" in mail.body
    shown = b.get(r.headers["location"]).text
    assert f"<code>http://testserver/l/{token}</code>" in shown  # what staff copy opens from outside too
    for odd in ("1/2", token[:-2] + "00"):  # a token that is no registration link shows no address
        page = b.get(f"/training/sessions/{sid}", params={"invite": odd})
        assert page.status_code == 200 and 'id="invite-link"' not in page.text
    contact = browser()
    for name, email, expected in (("客户甲", "a@c.example", "is registered"), ("客户乙", "b@c.example", "waiting list")):
        page = contact.get(f"/l/{token}", headers={"Accept-Language": "en"})
        assert page.status_code == 200 and "财务软件操作" in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        done = contact.post(f"/l/{token}", data={"csrf_token": csrf, "name": name, "email": email})
        assert done.status_code == 200 and expected in done.text
    page = contact.get(f"/l/{token}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    dup = contact.post(f"/l/{token}", data={"csrf_token": csrf, "name": "客户甲", "email": "a@c.example"})
    assert dup.status_code == 422
    got = regs(site, sid)
    assert got["客户甲"][1] == "registered" and got["客户乙"][1] == "waiting"
    assert contact.get(f"/l/{token[:-2]}xx").status_code == 403


def test_larger_capacity_lets_the_waiting_list_in_and_cancelled_trainee_link_is_withdrawn(tweb):
    site, _app, browser = tweb
    sid = make_session(site, make_course(site), capacity=1)
    b = browser("trainer")
    rid, url = exam_link(site, b, sid, "甲", "a@example.com")
    register(b, sid, "乙", "b@example.com")
    register(b, sid, "丙", "c@example.com")
    from fuwu_plugins.training.models import TrainingSession

    def grow(s):
        from fuwu_plugins.training import services

        ts = s.get(TrainingSession, sid)
        ts.capacity = 2
        services.fill_seats(s, ts)

    site.db.run(grow)
    got = regs(site, sid)
    assert got["乙"][1] == "registered" and got["丙"][1] == "waiting"
    b.submit(f"/training/registrations/{rid}/cancel", page="/")
    assert regs(site, sid)["丙"][1] == "registered"
    r = browser().get(url)
    assert r.status_code == 410 and "甲" not in r.text


def test_a_course_page_links_to_all_of_its_sessions(tweb):
    site, _app, browser = tweb
    course, other = make_course(site), make_course(site, code="C-2")
    ours = [make_session(site, course) for _ in range(3)]
    theirs = make_session(site, other)
    b = browser("trainer")
    page = b.get(f"/training/courses/{course}").text
    link = re.search(r'<a href="(/training/sessions\?course=\d+)">', page)
    assert link, "no link to the course's sessions"
    listed = b.get(html.unescape(link.group(1))).text
    assert all(f'href="/training/sessions/{sid}"' in listed for sid in ours)
    assert f'href="/training/sessions/{theirs}"' not in listed
