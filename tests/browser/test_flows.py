"""The main flows in chromium with JavaScript on (htmx boosting and live search)."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from fuwu.errors import Forbidden
from fuwu.i18n import msgid

from .conftest import PASSWORD, login, screenshot

pytestmark = pytest.mark.browser

ZH = "zh_Hans"


def open_customer(page, name: str) -> None:
    """Find ``name`` through the list's search form and open its page."""
    page.goto("/customers?q=" + quote(name))
    page.locator("#results tbody a", has_text=name).click()
    expect(page.locator("main h1")).to_contain_text(name)


def test_login_lands_on_dashboard(browse, live):
    tab = browse()
    page = tab.page
    response = page.goto("/")
    assert response.status == 200
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.locator("#username").fill("admin")
    page.locator("#password").fill("wrong password")
    page.locator("section.login button[type=submit]").click()
    expect(page.locator(".login .form-errors")).to_have_text(live.tr(ZH, "Wrong username or password."))
    expect(page.locator("#username")).to_have_value("admin")
    login(page, live, "admin")
    expect(page.locator("main h1")).to_have_text(live.tr(ZH, "Hello, %(name)s", name="系统管理员"))
    expect(page.locator(".topbar .account")).to_contain_text("系统管理员")
    expect(page.locator("nav.sidebar a[aria-current=page]")).to_have_text(live.tr(ZH, "Dashboard"))


def test_the_bell_shows_what_is_unread_and_a_new_notification_on_the_next_page(browse, live):
    from sqlalchemy import select

    from fuwu.models import Staff
    from fuwu.notifications import mark_read, notify

    def admin_note(s):
        admin = s.scalar(select(Staff).where(Staff.username == "admin"))
        mark_read(s, admin.id)
        notify(s, admin, "Report ready")

    page = browse().page
    login(page, live, "admin")
    live.site.db.run(admin_note)
    page.locator("nav.sidebar a", has_text=live.tr(ZH, "Customers")).first.click()  # a boosted navigation
    expect(page.locator(".bell .badge")).to_have_text("1")
    live.site.db.run(lambda s: notify(s, s.scalar(select(Staff).where(Staff.username == "admin")), "Second"))
    page.goto("/contracts")
    expect(page.locator(".bell .badge")).to_have_text("2")
    live.site.db.run(lambda s: mark_read(s, s.scalar(select(Staff.id).where(Staff.username == "admin"))))
    with page.expect_response(lambda r: r.url.endswith("/notifications/badge")):
        page.goto("/")
    expect(page.locator(".bell-count")).to_be_empty()  # the count came back: none


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_on_a_phone_the_menu_opens_as_a_drawer(browse, live, js):
    """An engineer on a phone: the menu is hidden until the topbar's link
    opens it (with or without scripts), its entries navigate, and a wide
    list scrolls in its own box instead of the whole page scrolling sideways."""
    width = 390
    page = browse("admin", js=js, viewport=(width, 844)).page
    page.goto("/customers")
    menu = page.locator("nav.sidebar")
    expect(menu).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator(".topbar a.menu-open", has_text=live.tr(ZH, "Menu")).click()
    expect(menu).to_be_visible()
    expect(menu.locator("a[aria-current=page]")).to_have_text(live.tr(ZH, "Customers"))
    if js:
        screenshot(page, "menu-phone.zh_Hans", full_page=False)  # the drawer covers the screen, not the page
    menu.locator("a", has_text=re.compile(f"^{re.escape(live.tr(ZH, 'Contracts'))}$")).click()
    expect(page).to_have_url(live.url + "/contracts")  # a list wider than a phone
    expect(page.locator("main h1")).to_have_text(live.tr(ZH, "Contracts"))
    expect(menu).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator(".topbar a.menu-open").click()
    menu.locator("a.menu-close", has_text=live.tr(ZH, "Close menu")).click()
    expect(menu).to_be_hidden()
    page.locator(".topbar a.menu-open").click()
    page.mouse.click(width - 20, 400)  # beside the drawer
    expect(menu).to_be_hidden()


def test_create_customer(browse, live):
    page = browse("admin").page
    page.goto("/customers")
    page.locator("main .toolbar a.button", has_text=live.tr(ZH, "New customer")).click()
    expect(page).to_have_url(live.url + "/customers/new")
    name = "宁波北仑港机械制造有限公司"
    page.locator("#f-name").fill(name)
    page.locator("#f-region").fill("华东")
    page.locator("#f-office").fill("宁波办事处")
    page.locator("#f-address").fill("宁波市北仑区新碶街道明州路 66 号")
    page.locator("#f-phone").fill("0574-86881234")
    page.locator("#f-products").get_by_label("仓储管理系统").check()
    page.locator("#customer-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    expect(page.locator("main h1")).to_contain_text(name)
    expect(page.locator(".flash")).to_have_text(live.tr(ZH, "Customer %(name)s created.", name=name))
    facts = page.locator("dl.facts").first
    expect(facts).to_contain_text("0574-86881234")
    expect(facts).to_contain_text("宁波办事处")
    expect(facts).to_contain_text("仓储管理系统")
    # the flash is shown once, not again on the next visit
    page.reload()
    expect(page.locator("main h1")).to_contain_text(name)
    expect(page.locator(".flash")).to_have_count(0)


def test_live_search_updates_results_without_reload(browse, live):
    page = browse("admin").page
    page.goto("/customers")
    rows = page.locator("#results tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() > 3
    page.evaluate("window.fuwuNoReload = 'still here'")
    page.locator("#q").fill("浦江")
    expect(page).to_have_url(re.compile(r"[?&]q=" + re.escape(quote("浦江"))))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("上海浦江精密机械有限公司")
    # a region matches too, and each keystroke-batch replaces the rows
    page.locator("#q").fill("华南")
    expect(page).to_have_url(re.compile(r"[?&]q=" + re.escape(quote("华南"))))
    expect(rows).to_have_count(3)
    for name in ("广州岭南百货有限公司", "深圳南山智能科技有限公司", "东莞长安五金制品厂"):
        expect(page.locator("#results tbody", has_text=name)).to_have_count(1)
    page.locator("#account_type").select_option("key")
    expect(page).to_have_url(re.compile(r"[?&]account_type=key"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("广州岭南百货有限公司")
    assert page.evaluate("window.fuwuNoReload") == "still here", "the search reloaded the whole page"
    # the form still carries the query after the swaps
    expect(page.locator("#q")).to_have_value("华南")
    # Back restores the previous search as a whole page (htmx asks the server again: no history cache)
    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]account_type=(&|$)"))
    assert "q=" + quote("华南") in page.url
    expect(rows).to_have_count(3)
    expect(page.locator("nav.sidebar")).to_be_visible()
    expect(page.locator("#account_type")).to_have_value("")


def test_edit_customer_invalid_phone_then_fix(browse, live):
    page = browse("admin").page
    open_customer(page, "长沙湘江出版印刷厂")
    page.locator("main .toolbar a.button", has_text=live.tr(ZH, "Edit")).click()
    expect(page).to_have_url(re.compile(r"/customers/\d+/edit$"))
    page.locator("#f-phone").fill("abc!!")
    page.locator("#f-address").fill("长沙市开福区湘江中路二段 38 号")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#customer-form button[type=submit]").click()
    assert posted.value.status == 422
    expect(page.locator("#field-phone .error")).to_have_text(
        live.tr(ZH, "Enter a phone number (digits, spaces, + - and brackets)."))
    expect(page.locator("#field-phone")).to_have_class(re.compile(r"\binvalid\b"))
    expect(page.locator("#f-phone")).to_have_value("abc!!")
    expect(page.locator("#f-address")).to_have_value("长沙市开福区湘江中路二段 38 号")
    expect(page.locator("#customer-form .form-errors")).to_have_text(
        live.tr(ZH, "Please correct the highlighted fields."))
    expect(page.locator("#field-name .error")).to_have_count(0)
    screenshot(page, "customer-edit-error.zh_Hans")
    page.locator("#f-phone").fill("0731-8456 9999")
    page.locator("#customer-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    expect(page.locator(".flash")).to_have_text(live.tr(ZH, "Changes saved."))
    facts = page.locator("dl.facts").first
    expect(facts).to_contain_text("0731-8456 9999")
    expect(facts).to_contain_text("湘江中路二段 38 号")


def switch_language(page, live, name: str, language: str) -> None:
    page.locator("#lang-select").select_option(label=name)
    expect(page.locator("html")).to_have_attribute("lang", language.replace("_", "-"))
    expect(page.locator(".flash")).to_have_text(live.tr(language, "Language changed."))


LABELS = ["Customers", "Search", "Sign out"]


def test_language_switcher(browse, live):
    # wang.fang, not admin: her stored choice must not leak into the other tests
    page = browse("wang.fang").page
    page.goto("/customers")
    expect(page.locator("main h1")).to_have_text(live.tr(ZH, "Customers"))
    hant = {label: live.tr("zh_Hant", label) for label in LABELS}
    # the list's filters search on a change of their own selects, not of the
    # language select in the top bar (a search racing the switch once left the
    # reader on /customers?q=&region=...)
    searches = []
    page.on("request", lambda request: searches.append(request.url) if "/customers?" in request.url else None)
    try:
        switch_language(page, live, "繁體中文", "zh_Hant")
        expect(page).to_have_url(live.url + "/customers")
        assert searches == [], searches
        screenshot(page, "customers.zh_Hant")
        expect(page.locator("main h1")).to_have_text(hant["Customers"])
        expect(page.locator("nav.sidebar a[aria-current=page]")).to_have_text(hant["Customers"])
        expect(page.locator("main form[role=search] button[type=submit]")).to_have_text(hant["Search"])
        expect(page.locator(".topbar button.link")).to_have_text(hant["Sign out"])
        expect(page.locator("#lang-select")).to_have_value("zh_Hant")
        # her choice is stored: a fresh load keeps it
        page.reload()
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
        expect(page.locator("main h1")).to_have_text(hant["Customers"])

        switch_language(page, live, "English", "en")
        screenshot(page, "customers.en")
        expect(page.locator("main h1")).to_have_text("Customers")
        expect(page.locator(".topbar button.link")).to_have_text("Sign out")
    finally:
        if page.locator("#lang-select").input_value() != ZH:
            switch_language(page, live, "简体中文", ZH)
    expect(page.locator("main h1")).to_have_text(live.tr(ZH, "Customers"))
    expect(page.locator("#lang-select")).to_have_value(ZH)
    # what she read above was Chinese, and Traditional is not Simplified
    for label in LABELS:
        live.tr_chinese("zh_Hant", label)
    assert hant["Customers"] != live.tr_chinese(ZH, "Customers"), "zh_Hant shows the zh_Hans word (客戶 vs 客户)"


def test_forbidden_page_in_the_users_language(browse, live):
    # li.qiang reads Traditional Chinese (his browser says so; he never picked a language)
    page = browse("li.qiang", locale="zh-TW").page
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    candidates = [p for p in (live.path("settings"), live.path("roles"), live.path("calendar"),
                              live.path("customer_new")) if p]
    statuses = {}
    for path in candidates:
        statuses[path] = page.goto(path).status
        if statuses[path] == 403:
            break
    else:
        pytest.fail(f"no admin-only page answered 403 for the engineer li.qiang: {statuses}")
    title, message = "Not allowed", msgid(Forbidden.default_message)
    expect(page.locator(".error-page h1")).to_contain_text("403")
    expect(page.locator(".error-page h1")).to_contain_text(live.tr("zh_Hant", title))
    expect(page.locator(".error-page p").first).to_have_text(live.tr("zh_Hant", message))
    # still his frame around it: he is signed in and can go back
    expect(page.locator(".topbar .account")).to_contain_text("李强")
    page.locator(".error-page a.button").click()
    expect(page).to_have_url(live.url + "/")
    # and what he read was Traditional Chinese
    live.tr_chinese("zh_Hant", title)
    live.tr_chinese("zh_Hant", message)


def test_logout_then_customers_needs_login(browse, live):
    page = browse("admin").page
    page.goto("/customers")
    session = [c for c in page.context.cookies() if c["name"] == "fuwu_session"]
    assert session
    page.locator(".topbar button.link", has_text=live.tr(ZH, "Sign out")).click()
    expect(page).to_have_url(live.url + "/login")
    expect(page.locator("#username")).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "fuwu_session"], "session cookie kept"
    # the session is ended on the server too: its old cookie no longer signs anyone in
    page.context.add_cookies(session)
    page.goto("/customers")
    expect(page).to_have_url(re.compile(r"/login\?next=/customers$"))
    page.context.clear_cookies()
    response = page.goto("/customers")
    assert response.status == 200
    expect(page).to_have_url(re.compile(r"/login\?next=/customers$"))
    expect(page.locator("nav.sidebar")).to_have_count(0)
    # signing in again returns to the page asked for
    page.locator("#username").fill("admin")
    page.locator("#password").fill(PASSWORD)
    page.locator("section.login button[type=submit]").click()
    expect(page).to_have_url(live.url + "/customers")


def test_a_detail_page_prints_as_a_paper_form(browse, live):
    page = browse("admin").page
    open_customer(page, "上海浦江精密机械有限公司")
    title = page.locator("main h1").inner_text()
    page.emulate_media(media="print")
    try:
        # the form's title and its signature lines are on paper; navigation, buttons and the language switch are not
        expect(page.locator("main h1")).to_be_visible()
        expect(page.locator("main h1")).to_have_text(title)
        expect(page.locator(".signature div").first).to_be_visible()
        for hidden in ("nav.sidebar", "header.topbar", "main .actions", "form.lang"):
            expect(page.locator(hidden).first).to_be_hidden()
        screenshot(page, "customer-detail-print.zh_Hans")
        # a form prints as a blank paper form with its signature lines too
        page.goto("/customers/new")
        expect(page.locator("main h1")).to_be_visible()
        expect(page.locator("main .signature div")).to_have_count(3)
        expect(page.locator("main .signature div").first).to_be_visible()
    finally:
        page.emulate_media(media="screen")


def test_slash_opens_the_search_box_and_finds_across_records(browse, live):
    page = browse("admin").page
    page.goto("/contracts")
    page.locator("main h1").click()  # focus on the page, not in a field
    page.keyboard.press("/")
    expect(page.locator("#find-q")).to_be_focused()
    page.keyboard.type("浦江")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=" + re.escape(quote("浦江"))))
    customers = page.locator("section.panel", has_text=live.tr(ZH, "Customers"))
    customers.locator("a", has_text="上海浦江精密机械有限公司").click()
    expect(page.locator("main h1")).to_contain_text("上海浦江精密机械有限公司")
    # typed into a field, "/" is only a character
    page.goto("/customers")
    page.locator("#q").fill("")
    page.locator("#q").press("/")
    expect(page.locator("#q")).to_be_focused()
    expect(page.locator("#q")).to_have_value("/")


def test_a_scanned_contract_is_attached_and_downloaded_with_its_name(browse, live, tmp_path):
    page = browse("admin").page
    open_customer(page, "上海浦江精密机械有限公司")
    # loaded whole, so no boosted swap is still settling while the file is chosen
    page.goto(page.locator("section.panel", has_text=live.tr(ZH, "Contracts")).locator("tbody a").first
              .get_attribute("href"))
    files = page.locator("#files")
    expect(files).to_contain_text(live.tr(ZH, "No files yet."))
    scan = tmp_path / "合同扫描件.pdf"
    scan.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n")
    files.locator("#f-file").set_input_files(scan)
    files.locator("#f-file-description").fill("双方盖章页")
    files.get_by_role("button", name=live.tr(ZH, "Attach"), exact=True).click()
    expect(page.locator(".flash")).to_have_text(live.tr(ZH, "File %(name)s attached.", name="合同扫描件.pdf"))
    row = page.locator("#files tbody tr", has_text="合同扫描件.pdf")
    expect(row).to_contain_text("双方盖章页")
    with page.expect_download() as download:
        row.locator("a", has_text="合同扫描件.pdf").click()
    assert download.value.suggested_filename == "合同扫描件.pdf"
    assert open(download.value.path(), "rb").read() == scan.read_bytes()
    # a program renamed is refused at the field, and the page stays
    fake = tmp_path / "报价.pdf"
    fake.write_bytes(b"MZ\x90\x00" + b"\x00" * 64)
    files = page.locator("#files")
    files.locator("#f-file").set_input_files(fake)
    files.get_by_role("button", name=live.tr(ZH, "Attach"), exact=True).click()
    expect(page.locator("#files .error")).to_have_text(
        live.tr(ZH, "The file's content is not what its name says (.%(ext)s).", ext="pdf"))
    expect(page.locator("#files tbody tr")).to_have_count(1)
