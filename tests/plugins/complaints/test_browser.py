"""A quality supervisor takes a complaint from intake to archive in a real
browser, in Chinese, with the deadlines on the page (CMP-1..5)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import customer_name, launch_chromium, serving, zh
from sqlalchemy import select

from fuwu.models import Department, Staff

from .conftest import DEPT, USERS, customer


@pytest.fixture
def live(web):
    site, app, _browser = web(plugins=["complaints"], users=USERS)

    def setup(s):
        dept = s.scalar(select(Department).where(Department.name == DEPT))
        dept.manager_id = s.scalar(select(Staff.id).where(Staff.username == "manager"))
    site.db.run(setup)
    with serving(app) as url:
        yield site, url


@pytest.mark.browser
def test_quality_supervisor_takes_a_complaint_from_intake_to_archive(live, playwright_driver):
    from playwright.sync_api import expect

    site, url = live
    cust = customer(site)
    browser = launch_chromium(playwright_driver)
    try:
        page = None

        def login(name):
            nonlocal page
            page = browser.new_context(locale="zh-CN").new_page()  # one person per browser context
            page.goto(f"{url}/login")
            page.fill("input[name=username]", name)
            page.fill("input[name=password]", "correct horse battery")
            page.locator("section.login button[type=submit]").click()
            expect(page).to_have_url(re.compile(r"/$"))

        def do(step, fields, selects=None):
            form = page.locator(f"#step-{step}")
            if not form.is_visible():
                form.locator("xpath=..").locator("summary").click()
            for name, value in (selects or {}).items():
                select = form.locator(f"select[name={name}]")
                select.select_option(**value) if isinstance(value, dict) else select.select_option(value)
            for name, value in fields.items():
                form.locator(f"[name={name}]").fill(value)
            form.locator("button[type=submit]").click()

        login("quality")
        page.goto(f"{url}/complaints/new")
        # the customer is typed: the first characters bring suggestions, then the whole name
        name = customer_name(site, cust)
        page.fill("#f-customer_id", name[:2])
        expect(page.locator(f'#f-customer_id-options option[value="{name}"]')).to_have_count(1)
        page.fill("#f-customer_id", name)
        page.fill("#f-contact_name", "李主任")
        page.select_option("#f-source", "direct")
        page.select_option("#f-channel", "phone")
        page.select_option("#f-category", "response")
        page.fill("#f-description", "报修后一天无人回电")
        page.locator("#complaint-form button[type=submit]").click()
        expect(page.locator("#complaint-state")).to_have_text(zh(site, "Awaiting review"))
        expect(page.locator("[data-deadline=reply]")).to_contain_text(zh(site, "Reply to the complainant (CMP-3)"))
        complaint_url = page.url

        do("review", {}, {"valid": "yes", "department_id": {"label": DEPT}})
        expect(page.locator("#complaint-state")).to_have_text(zh(site, "With the responsible department"))

        login("manager")
        page.goto(complaint_url)
        do("reply", {"cause": "值班安排不当", "measures": "调整值班表", "reply_text": "已致歉"},
           {"cause_category": "capacity", "responsible_staff_id": {"label": "engineer"}, "reply_kind": "apologise"})
        expect(page.locator("#complaint-state")).to_have_text(zh(site, "Replied, being handled"))
        expect(page.locator("[data-deadline=reply]")).to_contain_text(zh(site, "Met"))
        do("handled", {"result": "已上门解决"})
        expect(page.locator("#complaint-state")).to_have_text(zh(site, "Awaiting follow-up call"))
        expect(page.locator("[data-deadline=follow_up]")).to_be_visible()

        login("quality")
        page.goto(complaint_url)
        do("follow_up", {"opinion": "用户表示满意"}, {"resolved": "yes"})
        expect(page.locator("#complaint-state")).to_have_text(zh(site, "Ready to archive"))
        expect(page.locator("[data-deadline=follow_up]")).to_contain_text(zh(site, "Met"))
        do("archive", {"corrective": "值班表每周复核", "preventive": "增加备岗"})
        expect(page.locator("#complaint-state")).to_have_text(zh(site, "Archived"))
        expect(page.locator("#complaint-actions details")).to_have_count(1)  # only the internal note is left
        expect(page.locator("#history tbody tr")).to_have_count(6)
    finally:
        browser.close()
