"""In a real browser, in Chinese: the manager waives a fine with a reason,
finance closes the month and downloads the payroll spreadsheet."""

from __future__ import annotations

import io
import re

import pytest

from tests.conftest import launch_chromium, serving, zh

from .conftest import USERS, emit, entries, this_month


@pytest.fixture
def live(web):
    site, app, _browser = web(plugins=["incentives"], users=USERS)
    with serving(app) as url:
        yield site, url


def login(page, url, username):
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "correct horse battery")
    page.locator("section.login button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))


@pytest.mark.browser
def test_manager_waives_and_finance_closes_and_exports(live, playwright_driver):
    from openpyxl import load_workbook
    from playwright.sync_api import expect

    site, url = live
    emit(site, "eng", "-30.00", rule="TRV-8", reason="出差未写入服务记录")
    emit(site, "eng2", "-50.00", rule="SD-9", reason="远程服务未记录")
    waived = entries(site)[0][0]
    browser = launch_chromium(playwright_driver)
    try:
        context = browser.new_context(locale="zh-CN", accept_downloads=True)
        page = context.new_page()
        login(page, url, "manager")
        page.goto(f"{url}/incentives/entry/{waived}")
        page.locator("button[value=waive]").click()
        expect(page.locator(".field.invalid .error")).to_have_text(zh(site, "Give the reason for waiving."))
        page.fill("#review-note", "初次违规，口头提醒")
        page.locator("button[value=waive]").click()
        expect(page.locator("#entry-state")).to_have_text(zh(site, "Waived"))

        context.clear_cookies()
        login(page, url, "finance")
        month = this_month()
        page.goto(f"{url}/incentives/months/{month}")
        expect(page.locator("#month-pending")).to_contain_text("-¥50.00")
        page.locator("#close-month").click()
        expect(page.locator("#month-state")).to_have_text(zh(site, "Month closed"))
        expect(page.locator("#month-net")).to_contain_text("-¥50.00")
        with page.expect_download() as info:
            page.locator("#payroll-export").click()
        book = load_workbook(io.BytesIO(open(info.value.path(), "rb").read()))
        lines = list(book.worksheets[0].iter_rows(values_only=True))
        assert lines[0][0] == zh(site, "Payroll month")
        assert {row[4] for row in lines[1:]} == {"TRV-8", "SD-9"}
        assert str(book.worksheets[1].cell(row=book.worksheets[1].max_row, column=6).value) in ("-50", "-50.00")
    finally:
        browser.close()
