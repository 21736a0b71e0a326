"""A coordinator dispatches a mobile job and records its return visit in a
real browser, in Chinese (RES-7)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.conftest import customer_name, launch_chromium, serving, zh
from sqlalchemy import select

from .conftest import USERS, customer_id


@pytest.fixture
def live(web):
    site, app, _browser = web(plugins=["field_service"], users=USERS)
    with serving(app) as url:
        yield site, url


def technician_finishes(site, job_id: int) -> str:
    from fuwu_plugins.field_service import services
    from fuwu_plugins.field_service.models import MobileJob

    def work(s):
        job = s.get(MobileJob, job_id)
        now = datetime.now(UTC)
        services.depart(s, job, now)
        services.arrive(s, job, now)
        services.finish(s, job, now, "更换网卡驱动")
        return job.finished_on.isoformat()

    return site.db.run(work)


@pytest.mark.browser
def test_coordinator_dispatches_and_records_the_return_visit(live, playwright_driver):
    from playwright.sync_api import expect

    from fuwu_plugins.field_service.models import MobileJob

    site, url = live
    browser = launch_chromium(playwright_driver)
    try:
        page = browser.new_context(locale="zh-CN").new_page()
        page.goto(f"{url}/login")
        page.fill("input[name=username]", "coord")
        page.fill("input[name=password]", "correct horse battery")
        page.locator("section.login button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/$"))

        page.goto(f"{url}/field_service/")
        page.locator("#dispatch").click()
        page.fill("#f-customer_id", customer_name(site, customer_id(site)))
        page.select_option("#f-technician_id", label="tech1")
        page.select_option("#f-kind", "repair")
        page.fill("#f-problem", "网络打印机脱机")
        page.locator("#dispatch-form button[type=submit]").click()
        expect(page.locator("#job-state")).to_have_text(zh(site, "Assigned"))

        job_id = site.db.run(lambda s: s.scalar(select(MobileJob.id).where(MobileJob.problem == "网络打印机脱机")))
        day = technician_finishes(site, job_id)

        page.goto(f"{url}/field_service/visits?day={day}")
        row = page.locator(f"#visit-{job_id}")
        row.locator("select[name=answer]").select_option("very_satisfied")
        row.locator("input[name=comment]").fill("响应很快")
        row.locator("button[value=answered]").click()
        expect(page.locator(f"#visit-{job_id} .answer")).to_contain_text(zh(site, "Very satisfied"))
        expect(page.locator("#visit-progress")).to_have_text(zh(site, "The day's return visits are done."))

        page.goto(f"{url}/field_service/")
        expect(page.locator("#jobs")).to_contain_text("网络打印机脱机")
        expect(page.locator("#jobs")).to_contain_text(zh(site, "Finished"))
    finally:
        browser.close()
