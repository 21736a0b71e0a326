"""The same flows with JavaScript off: plain forms post, redirect and render."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser


def test_forms_work_without_javascript(browse, live):
    page = browse(js=False).page
    page.goto("/login")
    assert page.evaluate("typeof window.htmx") == "undefined", "the page's scripts ran"
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    # the language is chosen before signing in, with the <noscript> button of the switcher
    page.locator("#lang-select").select_option("en")
    page.locator(".topbar form.lang button[type=submit]").click()
    expect(page).to_have_url(live.url + "/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("section.login h1")).to_contain_text("Sign in")
    login(page, live, "admin")
    expect(page.locator("main h1")).to_have_text(live.tr("en", "Hello, %(name)s", name="系统管理员"))

    page.goto("/customers")
    page.locator("main .toolbar a.button", has_text="New customer").click()
    expect(page).to_have_url(live.url + "/customers/new")
    name = "青岛海滨食品有限公司"
    page.locator("#f-name").fill(name)
    page.locator("#f-region").fill("华北")
    page.locator("#f-phone").fill("call me")
    with page.expect_navigation() as navigation:
        page.locator("#customer-form button[type=submit]").click()
    assert navigation.value.status == 422
    expect(page.locator("#field-phone .error")).to_have_text(
        live.tr("en", "Enter a phone number (digits, spaces, + - and brackets)."))
    expect(page.locator("#f-phone")).to_have_value("call me")
    expect(page.locator("#f-name")).to_have_value(name)
    page.locator("#f-phone").fill("0532-8288 1234")
    page.locator("#customer-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    expect(page.locator("main h1")).to_contain_text(name)
    expect(page.locator(".flash")).to_have_text(live.tr("en", "Customer %(name)s created.", name=name))
    expect(page.locator("dl.facts").first).to_contain_text("0532-8288 1234")

    page.goto("/customers")
    page.locator("#q").fill("青岛海滨")
    page.locator("main form[role=search] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/customers\?q=" + re.escape(quote("青岛海滨"))))
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(name)
    page.locator("#q").fill("西北")
    page.locator("#account_type").select_option("retail")
    page.locator("main form[role=search] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"[?&]account_type=retail"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("兰州黄河水务有限公司")

    # a contract for it: the customer is typed whole (no suggestions without scripts)
    page.goto("/contracts/new")
    page.locator("#f-number").fill("NOJS-0001")
    page.locator("#f-kind").select_option("sales")
    page.locator("#f-customer_id").fill(name)
    page.locator("#f-amount").fill("800")
    page.locator("#contract-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/contracts/\d+$"))
    expect(page.locator("main")).to_contain_text(name)
