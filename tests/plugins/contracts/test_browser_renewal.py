"""A service manager renews a contract in a real browser, in Chinese:
proposal -> agreed with the customer -> customer contacted -> software
updated -> done (CON-5)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import launch_chromium, serving, zh

from .conftest import USERS, sign


@pytest.fixture
def live(web):
    site, app, _browser = web(plugins=["contracts"], users=USERS)
    with serving(app) as url:
        yield site, url


@pytest.mark.browser
def test_service_manager_renews_a_contract_from_proposal_to_done(live, playwright_driver):
    from playwright.sync_api import expect

    site, url = live
    cid = sign(site, customer="浏览器续约客户", started_days_ago=340, ends_in=10)
    browser = launch_chromium(playwright_driver)
    try:
        page = browser.new_context(locale="zh-CN").new_page()
        page.goto(f"{url}/login")
        page.fill("input[name=username]", "manager")
        page.fill("input[name=password]", "correct horse battery")
        page.locator("section.login button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/$"))

        # the expiry board shows the contract in red, with no renewal yet
        page.goto(f"{url}/contracts/expiring")
        row = page.locator("tr", has_text="浏览器续约客户")
        expect(row.locator(".tag.danger").first).to_have_text(zh(site, "Urgent"))
        row.locator("a", has_text=zh(site, "Propose renewal")).click()

        expect(page.locator("#renewal-form")).to_be_visible()
        page.select_option("#f-assignee_id", label="engineer")
        page.locator("#renewal-form button[type=submit]").click()
        state = page.locator("#renewal-state")
        expect(state).to_have_text(zh(site, "Proposed"))

        for step, comment, label in (("agree", "客户已盖章寄回", "Agreed with the customer"),
                                     ("contact", "已电话通知信息部主管", "Customer contacted"),
                                     ("update", "已升级并更新序列号", "Software updated"),
                                     ("complete", "", "Done")):
            form = page.locator(f"#step-{step}")
            if comment:
                form.locator("textarea").fill(comment)
            form.locator("button[type=submit]").click()
            expect(state).to_have_text(zh(site, label))

        expect(page.locator("#renewal-actions")).to_have_count(0)
        steps = page.locator("#renewal-steps tbody tr")
        expect(steps).to_have_count(5)
        for i, comment in enumerate(("客户已盖章寄回", "已电话通知信息部主管", "已升级并更新序列号"), start=1):
            expect(steps.nth(i)).to_contain_text("manager")
            expect(steps.nth(i)).to_contain_text(comment)

        # the contract now has its second period, and the customer page says so
        page.goto(f"{url}/contracts/service/{cid}")
        expect(page.locator("#periods tbody tr")).to_have_count(2)
        page.locator("a", has_text="浏览器续约客户").first.click()
        panel = page.locator("#contracts-panel")
        expect(panel).to_contain_text(zh(site, "In warranty"))
        expect(panel).to_contain_text(zh(site, "Done"))
    finally:
        browser.close()
