"""An engineer types a dongle number into the lookup box, in Chinese, and sees
as they type whether the customer is in warranty and which SLA applies."""

from __future__ import annotations

import re

import pytest

from tests.conftest import launch_chromium, serving, zh

from .conftest import PLUGINS, USERS, add_key, sign


@pytest.fixture
def live(web):
    site, app, _browser = web(plugins=PLUGINS, users=USERS)
    with serving(app) as url:
        yield site, url


@pytest.mark.browser
def test_engineer_looks_up_a_dongle_number_as_they_type(live, playwright_driver):
    from playwright.sync_api import expect

    site, url = live
    contract_id, _cust = sign(site, customer="浏览器查询客户")
    add_key(site, contract_id, "ERP-WEB-0001", dongle="DG-900123")
    browser = launch_chromium(playwright_driver)
    try:
        page = browser.new_context(locale="zh-CN").new_page()
        page.goto(f"{url}/login")
        page.fill("input[name=username]", "engineer")
        page.fill("input[name=password]", "correct horse battery")
        page.locator("section.login button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/$"))

        page.get_by_role("link", name=zh(site, "Entitlement lookup")).click()
        # The link is boosted: type only once htmx has swapped the page in and
        # bound the search box (keys pressed in between trigger nothing).
        page.wait_for_function("() => document.querySelector('#lookup-form') !== null"
                               " && !document.querySelector('.htmx-settling, .htmx-swapping')")
        box = page.locator("#q")
        box.press_sequentially("DG-9999")
        expect(page.locator("#not-found")).to_be_visible()
        box.fill("")
        box.press_sequentially("dg-900123")  # no submit: the answer comes as the engineer types
        answer = page.locator("#entitlement")
        expect(answer).to_contain_text("浏览器查询客户")
        expect(answer.locator(".warranty-in")).to_have_text(zh(site, "In warranty"))
        expect(answer.locator(".sla-level")).to_have_text(site.catalogs.get("zh_Hans").gettext("Within warranty"))
        expect(page).to_have_url(re.compile(r"q=dg-900123"))
    finally:
        browser.close()
