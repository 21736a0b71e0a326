"""An engineer types a dongle number into the lookup box, in Chinese, and sees
as they type whether the customer is in warranty and which SLA applies."""

from __future__ import annotations

import re
import socket
import threading

import pytest

from .conftest import PLUGINS, USERS, add_key, sign

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"]


@pytest.fixture
def live(web):
    import uvicorn

    site, app, _browser = web(plugins=PLUGINS, users=USERS)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield site, f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=30)
    sock.close()


def zh(site, message: str) -> str:
    text = site.catalogs.get("zh_Hans").gettext(message)
    assert re.search(r"[\u3400-\u9fff]", text), f"no Chinese for {message!r}"
    return text


@pytest.mark.browser
def test_engineer_looks_up_a_dongle_number_as_they_type(live, playwright_driver):
    from playwright.sync_api import expect

    site, url = live
    contract_id, _cust = sign(site, customer="浏览器查询客户")
    add_key(site, contract_id, "ERP-WEB-0001", dongle="DG-900123")
    browser = playwright_driver.get().chromium.launch(executable_path=CHROMIUM, args=ARGS)
    try:
        page = browser.new_context(locale="zh-CN").new_page()
        page.goto(f"{url}/login")
        page.fill("input[name=username]", "engineer")
        page.fill("input[name=password]", "correct horse battery")
        page.locator("section.login button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/$"))

        page.get_by_role("link", name=zh(site, "Entitlement lookup")).click()
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
