"""A trainee takes the exam on a phone-sized screen, in Chinese: answers are
saved as they go (htmx), a reload keeps them, handing in shows the score, and
the link then refuses a second attempt (TRN-4)."""

from __future__ import annotations


import pytest

from tests.conftest import launch_chromium, serving, zh
from sqlalchemy import select

from .conftest import USERS, make_course, make_session


@pytest.fixture
def live(web):
    site, app, _browser = web(plugins=["training"], users=USERS)
    with serving(app) as url:
        yield site, url


@pytest.mark.browser
def test_trainee_takes_the_exam_on_a_phone(live, playwright_driver):
    from playwright.sync_api import expect

    from fuwu import links
    from fuwu_plugins.training import services
    from fuwu_plugins.training.models import Attempt, Question, Registration, TrainingSession

    site, url = live
    cid = make_course(site)
    sid = make_session(site, cid)

    def setup(s):
        ts = s.get(TrainingSession, sid)
        reg = services.register(s, ts, name="手机学员", email="phone@example.com")
        return reg.id, links.issue_for(site, s, "training.exam", reg)

    rid, token = site.db.run(setup)
    qs = site.db.run(lambda s: {q.kind: q.id for q in s.scalars(select(Question).where(Question.course_id == cid))})
    browser = launch_chromium(playwright_driver)
    try:
        context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 667}, is_mobile=True,
                                      has_touch=True)
        page = context.new_page()
        page.goto(f"{url}/l/{token}")
        expect(page.locator("h1")).to_have_text("财务软件操作")
        # fits the phone: no sideways scrolling
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.locator(f"#q-{qs['single']} input[value='0']").check()
        expect(page.locator("#save-state [data-saved='1']")).to_be_visible()
        page.locator(f"#q-{qs['multiple']} input[value='0']").check()
        page.locator(f"#q-{qs['multiple']} input[value='3']").check()
        expect(page.locator("#save-state [data-saved='2']")).to_be_visible()
        # a dropped connection loses nothing: a reload shows what was saved
        # (once the last autosave has answered: each click posts on its own)
        page.wait_for_load_state("networkidle")
        page.reload()
        expect(page.locator(f"#q-{qs['multiple']} input[value='3']")).to_be_checked()
        page.locator(f"#q-{qs['truefalse']} input[value='false']").check()
        expect(page.locator("#save-state [data-saved='3']")).to_be_visible()
        page.locator("#hand-in").click()
        expect(page.locator("#exam-score")).to_contain_text("10.00 / 10")
        expect(page.locator("#exam-score strong")).to_have_text(zh(site, "Passed"))
        page.goto(f"{url}/l/{token}")
        expect(page.locator("body")).not_to_contain_text("财务软件操作")
        assert site.db.run(lambda s: s.scalar(select(Attempt.passed).where(Attempt.registration_id == rid)))
        assert site.db.run(lambda s: s.get(Registration, rid).status) == "registered"
    finally:
        browser.close()
