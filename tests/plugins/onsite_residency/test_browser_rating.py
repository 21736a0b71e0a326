"""The customer's contact rates a stamped resident report from a phone, in
Chinese, through the signed one-time link (RES-3)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import launch_chromium, serving, zh
from sqlalchemy import select

from fuwu import links
from fuwu_plugins.onsite_residency.models import ResidentReport, ResidentRating

from .conftest import USERS, residency
from .test_pages import make_report


@pytest.fixture
def live(web):
    site, app, _browser = web(plugins=["onsite_residency"], users=USERS)
    with serving(app) as url:
        yield site, url


@pytest.mark.browser
def test_customer_rates_a_report_on_a_phone(live, playwright_driver):
    from playwright.sync_api import expect

    site, url = live
    rep = make_report(site, residency(site), date(2026, 10, 1), state="sent")
    token = site.db.run(lambda s: links.issue_for(site, s, "onsite_residency.rate", s.get(ResidentReport, rep)))
    browser = launch_chromium(playwright_driver)
    try:
        context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740}, is_mobile=True,
                                      has_touch=True)
        page = context.new_page()
        page.goto(f"{url}/l/{token}")
        expect(page.locator("h1")).to_contain_text(zh(site, "Resident service %(month)s: your evaluation")
                                                  .split("%")[0])
        form = page.locator("#rate-form")
        expect(form).to_be_visible()
        # fits the phone: nothing wider than the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.select_option("#f-satisfaction", label=zh(site, "Very good"))
        page.select_option("#f-rating", label=zh(site, "Good"))
        page.fill("#f-comments", "驻场工程师响应及时，处理专业")
        page.fill("#f-rater_name", "王主任")
        form.locator("button[type=submit]").tap()
        expect(page.locator("#rate-done h1")).to_have_text(zh(site, "Thank you for your evaluation"))
        page.goto(f"{url}/l/{token}")
        expect(page.locator("#rate-form")).to_have_count(0)
    finally:
        browser.close()
    saved = site.db.run(lambda s: [(r.report_id, r.rating, r.satisfaction, r.rater_name, r.comments)
                                   for r in s.scalars(select(ResidentRating))])
    assert saved == [(rep, "good", "very_good", "王主任", "驻场工程师响应及时，处理专业")]
