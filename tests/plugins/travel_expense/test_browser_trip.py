"""An engineer files a trip, gets an advance, claims and settles it, in a
real browser and in Chinese; each approver sees the explanation (TRV-1..6)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import launch_chromium, serving, zh

from .conftest import USERS, customer_names


@pytest.fixture
def live(web):
    site, app, _browser = web(plugins=["travel_expense"], users=USERS)
    with serving(app) as url:
        yield site, url


@pytest.mark.browser
def test_trip_from_application_to_settlement_in_chinese(live, playwright_driver):
    from playwright.sync_api import expect

    site, url = live
    browser = launch_chromium(playwright_driver)
    pages = {}

    def as_user(name):
        if name not in pages:
            page = browser.new_context(locale="zh-CN").new_page()
            page.goto(f"{url}/login")
            page.fill("input[name=username]", name)
            page.fill("input[name=password]", "correct horse battery")
            page.locator("section.login button[type=submit]").click()
            expect(page).to_have_url(re.compile(r"/$"))
            pages[name] = page
        return pages[name]

    def do_step(page, name, comment=""):
        form = page.locator(f"#step-{name}")
        if comment:
            form.locator("textarea").fill(comment)
        form.locator("button[type=submit]").click()

    try:
        # the engineer files the application
        eng = as_user("eng")
        eng.goto(f"{url}/travel_expense/new")
        eng.fill("#f-destinations", "苏州")
        eng.fill("#f-region", "华东")
        eng.fill("#f-depart_on", "2026-03-02")
        eng.fill("#f-return_on", "2026-03-04")
        eng.fill("#f-customer_ids", customer_names(site, 1)[0])
        eng.fill("#f-purpose", "系统升级")
        eng.select_option("#f-transport_class", "train_hard_sleeper")
        eng.fill("#f-est_transport", "180")
        eng.locator("#trip-form button[type=submit]").click()
        expect(eng.locator("#trip-state")).to_have_text(zh(site, "Draft"))
        trip_url = eng.url
        do_step(eng, "submit")
        expect(eng.locator("#trip-state")).to_have_text(zh(site, "Service manager review"))

        manager = as_user("manager")
        manager.goto(trip_url)
        do_step(manager, "approve", "同意出差")
        expect(manager.locator("#trip-state")).to_have_text(zh(site, "Approved, to be archived"))

        # the advance: requested, approved by the general manager, paid by finance
        eng.goto(trip_url)
        eng.locator("#ask-advance").click()
        eng.fill("#f-amount", "800")
        eng.fill("#f-purpose", "差旅借款")
        eng.locator("#advance-form button[type=submit]").click()
        expect(eng.locator("#advance-state")).to_have_text(zh(site, "Waiting for the general manager"))
        advance_url = eng.url
        boss = as_user("boss")
        boss.goto(advance_url)
        do_step(boss, "approve", "同意")
        expect(boss.locator("#advance-state")).to_have_text(zh(site, "Approved, to be paid"))
        finance = as_user("finance")
        finance.goto(advance_url)
        finance.fill("#reference", "CHQ-0001")
        finance.locator("#pay-form button[type=submit]").click()
        expect(finance.locator("#advance-state")).to_have_text(zh(site, "Paid, not cleared"))

        # the claim, with the computation line by line
        eng.goto(trip_url)
        eng.locator("#file-claim").click()
        eng.fill("#departed_at", "2026-03-02T09:00")
        eng.fill("#returned_at", "2026-03-04T10:30")
        eng.select_option("#line-0-kind", "transport")
        eng.fill("input[name=line-0-description]", "上海-苏州往返")
        eng.fill("input[name=line-0-amount]", "180")
        eng.select_option("#line-1-kind", "lodging")
        eng.fill("input[name=line-1-amount]", "260")
        eng.fill("input[name=line-1-nights]", "2")
        eng.check("input[name=line-1-invoice]")
        eng.locator("#claim-form button[type=submit]").click()
        explanation = eng.locator("#explanation")
        expect(explanation).to_contain_text("2.5 天 × 30.00 = 75.00")
        expect(explanation).to_contain_text("实际 260.00，标准 240.00，报销 240.00，个人承担 20.00")
        claim_url = eng.url
        do_step(eng, "submit")
        expect(eng.locator("#claim-state")).to_have_text(zh(site, "Service manager review"))

        manager.goto(claim_url)
        expect(manager.locator("#explanation")).to_contain_text(zh(site, "Total payable: %(total)s", total="495.00"))
        do_step(manager, "approve", "符合标准")
        expect(manager.locator("#claim-state")).to_have_text(zh(site, "Approved, to be settled by finance"))

        finance.goto(claim_url)
        expect(finance.locator("#settle-form")).to_contain_text(zh(site, "The employee returns the difference"))
        finance.fill("#reference", "收据-9")
        finance.locator("#settle-form button[type=submit]").click()
        expect(finance.locator("#claim-state")).to_have_text(zh(site, "Settled"))
        expect(finance.locator("#settlement")).to_contain_text("305.00")
        finance.goto(advance_url)
        expect(finance.locator("#advance-state")).to_have_text(zh(site, "Cleared"))
    finally:
        browser.close()
