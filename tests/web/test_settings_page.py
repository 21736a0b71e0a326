"""The settings page: every declared setting with its rule, value and source, saved per row."""

import gettext as gettext_module
import re
from datetime import time
from decimal import Decimal

from fuwu.models import Role
from fuwu.web.sessions import COOKIE
from sqlalchemy import select

from tests.conftest import another_process, zh

ZETA = """
from decimal import Decimal
from fuwu import Setting
from fuwu.i18n import lazy_gettext as _l

@hookimpl
def register_settings():
    return [Setting("zeta.rate", Decimal, Decimal("1.50"), _l("Zeta surcharge rate"), rule="ZT-1",
                    help=_l("Applied to zeta invoices."), minimum=Decimal("0"))]
"""

ALPHA = """
from datetime import time
from fuwu import Setting

@hookimpl
def register_settings():
    return [Setting("alpha.enabled", bool, True, "Alpha switched on", rule="AL-2"),
            Setting("alpha.start", time, time(9), "Alpha starts at")]
"""

OMEGA = """
from fuwu import Setting

def _pairs(value):
    if "=" not in value:
        raise ValueError("Write key=value.")

@hookimpl
def register_settings():
    return [Setting("omega.pairs", str, "a=1", "Omega pairs", rule="OM-1", check=_pairs)]
"""

EN = {"Accept-Language": "en"}


class FakeCatalog(gettext_module.NullTranslations):
    def __init__(self, table):
        super().__init__()
        self.table = table

    def gettext(self, message):
        return self.table.get(message, message)


def row(html: str, key: str) -> str:
    """The part of the page that shows one setting."""
    start = html.index(f'data-key="{key}"')
    end = html.find('data-key="', start + 10)
    return html[start:end if end != -1 else len(html)]


def htmx(browser, path, data):
    token = browser.csrf("/settings")
    return browser.post(path, data=data, headers={"HX-Request": "true", "X-CSRF-Token": token, **EN})


def stored(site, key):
    with site.db.session(write=False) as s:
        return site.settings.get(key, s), site.settings.source(key, s)


def test_groups_core_first_then_plugins_in_dependency_order(web, make_plugin):
    make_plugin("zeta", plugin=ZETA)
    make_plugin("alpha", depends=("zeta",), plugin=ALPHA)
    site, app, browser = web(plugins=("alpha", "zeta"), users={"boss": ["admin"]},
                             settings={"core.smtp_port": 2525})
    page = browser("boss").get("/settings", headers=EN)
    assert page.status_code == 200
    # alpha depends on zeta, so zeta's group comes first although "alpha" sorts before it
    assert re.findall(r'data-plugin="([^"]+)"', page.text) == ["core", "zeta", "alpha"]
    shown = re.findall(r'data-key="([^"]+)"', page.text)
    assert sorted(shown) == sorted(site.settings.declared)
    zeta = row(page.text, "zeta.rate")
    assert "ZT-1" in zeta and "Zeta surcharge rate" in zeta and "Applied to zeta invoices." in zeta
    assert 'value="1.50"' in zeta and 'data-source="default"' in zeta
    assert "AL-2" in row(page.text, "alpha.enabled")
    port = row(page.text, "core.smtp_port")
    assert 'data-source="fuwu.toml"' in port and 'value="2525"' in port
    assert "Default: 25" in port
    # a label and its value are joined the reader's way: a full-width colon in Chinese
    for language, joined in (("zh-CN", "默认值：25"), ("zh-TW", "預設值：25")):
        assert joined in row(browser("boss").get("/settings", headers={"Accept-Language": language}).text,
                             "core.smtp_port")


def test_plain_form_save_redirects_and_changes_what_users_see(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    r = b.submit("/settings/core.page_size", {"value": " 5 "})
    assert r.status_code == 303
    assert r.headers["location"] == "/settings#setting-core--page_size"
    assert stored(site, "core.page_size") == (5, "database")
    page = b.get("/settings", headers=EN)
    assert "Rows per list page saved." in page.text
    saved = row(page.text, "core.page_size")
    assert 'data-source="database"' in saved and 'value="5"' in saved and "Reset to default" in saved
    customers = b.get("/customers")
    assert len(re.findall(r'<td><a href="/customers/\d+">', customers.text)) == 5


def test_htmx_save_swaps_only_the_row(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    r = htmx(b, "/settings/core.login_lockout_minutes", {"value": "30"})
    assert r.status_code == 200
    assert "<html" not in r.text and r.text.lstrip().startswith('<div class="setting"')
    assert 'data-source="database"' in r.text and 'value="30"' in r.text and "Saved." in r.text
    assert stored(site, "core.login_lockout_minutes") == (30, "database")


def test_invalid_values_are_refused_with_the_input_kept(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    r = b.submit("/settings/core.page_size", {"value": "3"}, headers=EN)
    assert r.status_code == 422
    assert "<html" in r.text  # without JavaScript: the whole page again
    bad = row(r.text, "core.page_size")
    assert 'class="setting invalid"' in r.text and "Must be at least 5." in bad and 'value="3"' in bad
    assert stored(site, "core.page_size") == (50, "default")

    cases = {
        "core.page_size": ("abc", "Not a valid value."),
        "core.smtp_port": ("70000", "Must be at most 65535."),
        "core.smtp_tls": ("tls", "Not one of the allowed values."),
        "core.working_hours": ("9-5", "Use the form 09:00-12:00,13:30-18:00."),
        "core.mail_sender": ("service desk", "Enter an e-mail address such as name@example.com."),
    }
    for key, (value, message) in cases.items():
        r = htmx(b, f"/settings/{key}", {"value": value})
        assert r.status_code == 422, key
        assert "<html" not in r.text and message in r.text, key
        if key != "core.smtp_tls":  # a list offers only allowed values
            assert f'value="{value}"' in r.text, key
        assert stored(site, key)[1] == "default", key


def test_messages_follow_the_users_language(web, monkeypatch):
    site, app, browser = web(users={"boss": ["admin"]})
    # a stand-in Chinese catalog, so this checks the page, not the translators' progress
    real = site.catalogs.get
    chinese = FakeCatalog({"Must be at least %(min)s.": "不能小于 %(min)s。", "Save": "保存"})
    monkeypatch.setattr(site.catalogs, "get", lambda language: chinese if language == "zh_Hans" else real(language))
    b = browser("boss")
    r = b.submit("/settings/core.page_size", {"value": "1"}, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert r.status_code == 422 and "不能小于 5。" in row(r.text, "core.page_size")
    r = b.submit("/settings/core.page_size", {"value": "1"}, headers=EN)
    assert "Must be at least 5." in row(r.text, "core.page_size")
    b.submit("/language", {"language": "zh_Hans", "next": "/settings"}, headers=EN)  # the user's own choice wins
    r = htmx(b, "/settings/core.page_size", {"value": "1"})
    assert "不能小于 5。" in r.text and "保存" in r.text


def test_reset_goes_back_to_fuwu_toml_or_default(web):
    site, app, browser = web(users={"boss": ["admin"]}, settings={"core.smtp_port": 2525})
    b = browser("boss")
    for key, value in (("core.smtp_port", "587"), ("core.page_size", "20")):
        assert b.submit(f"/settings/{key}", {"value": value}).status_code == 303
    assert stored(site, "core.smtp_port") == (587, "database")

    r = b.submit("/settings/core.smtp_port/reset", headers=EN)
    assert r.status_code == 303 and r.headers["location"] == "/settings#setting-core--smtp_port"
    assert stored(site, "core.smtp_port") == (2525, "fuwu.toml")
    page = b.get("/settings", headers=EN)
    assert "SMTP port reset to 2525." in page.text
    assert "Reset to default" not in row(page.text, "core.smtp_port")

    r = htmx(b, "/settings/core.page_size/reset", {})
    assert r.status_code == 200 and "<html" not in r.text
    assert 'data-source="default"' in r.text and 'value="50"' in r.text
    assert stored(site, "core.page_size") == (50, "default")


def test_plugin_setting_types_parse_and_show(web, make_plugin):
    make_plugin("zeta", plugin=ZETA)
    make_plugin("alpha", depends=("zeta",), plugin=ALPHA)
    site, app, browser = web(plugins=("alpha", "zeta"), users={"boss": ["admin"]})
    b = browser("boss")
    assert b.submit("/settings/alpha.enabled", {"value": "false"}).status_code == 303
    assert b.submit("/settings/alpha.start", {"value": "10:30"}).status_code == 303
    assert b.submit("/settings/zeta.rate", {"value": "2.75"}).status_code == 303
    assert stored(site, "alpha.enabled") == (False, "database")
    assert stored(site, "alpha.start") == (time(10, 30), "database")
    assert stored(site, "zeta.rate") == (Decimal("2.75"), "database")
    page = b.get("/settings", headers=EN)
    assert '<option value="false" selected>No</option>' in row(page.text, "alpha.enabled")
    assert 'type="time" value="10:30"' in row(page.text, "alpha.start")
    for key, value in (("zeta.rate", "-1"), ("zeta.rate", "abc"), ("alpha.start", "25:00"),
                       ("alpha.enabled", "maybe")):
        assert b.submit(f"/settings/{key}", {"value": value}).status_code == 422, (key, value)
    # zeta declares no maximum: a number no column holds (and no page could
    # compute with) is refused all the same
    for value in ("10000000000", "1e400"):
        r = htmx(b, "/settings/zeta.rate", {"value": value})
        assert r.status_code == 422 and "The number is too large." in r.text, value
    assert stored(site, "zeta.rate") == (Decimal("2.75"), "database")


def test_secret_values_are_not_shown(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    assert b.submit("/settings/core.smtp_password", {"value": "hunter2-secret"}).status_code == 303
    assert stored(site, "core.smtp_password")[0] == "hunter2-secret"
    page = b.get("/settings")
    assert "hunter2-secret" not in page.text
    assert 'type="password"' in row(page.text, "core.smtp_password")
    # a number about passwords is no secret: its value shows, to be changed like any other
    minutes = row(page.text, "core.password_reset_minutes")
    assert 'type="password"' not in minutes and 'value="60"' in minutes


def test_unknown_setting_is_404(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    assert b.submit("/settings/core.nope", {"value": "1"}).status_code == 404
    assert b.submit("/settings/core.nope/reset").status_code == 404


def test_engineer_may_not_open_or_change_settings(web):
    site, app, browser = web(users={"boss": ["admin"], "eng": (["engineer"], "售后服务部")})
    eng = browser("eng")
    assert eng.get("/settings").status_code == 403
    assert eng.submit("/settings/core.page_size", {"value": "7"}).status_code == 403
    assert eng.submit("/settings/core.page_size/reset").status_code == 403
    assert stored(site, "core.page_size") == (50, "default")
    anonymous = browser()
    r = anonymous.get("/settings")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_setting_saved_in_one_app_process_applies_at_once_in_another(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    with another_process(site, b.cookies[COOKIE]) as other:
        shown = len(re.findall(r'<td><a href="/customers/\d+">', other.get("/customers").text))
        assert shown > 5  # the default page size, now kept by the other process
        assert b.submit("/settings/core.page_size", {"value": "5"}).status_code == 303
        page = other.get("/customers").text
        assert len(re.findall(r'<td><a href="/customers/\d+">', page)) == 5
        assert b.submit("/settings/core.page_size/reset").status_code == 303
        page = other.get("/customers").text
        assert len(re.findall(r'<td><a href="/customers/\d+">', page)) == shown


def test_plugin_groups_are_headed_by_their_title_in_the_readers_language(web):
    site, app, browser = web(plugins=("contracts",), users={"boss": ["admin"]})
    summary = str(site.plugins.get("contracts").manifest.summary)
    boss = browser("boss")
    group = re.compile(r'<section[^>]*data-plugin="contracts".*?</section>', re.S)
    english = group.search(boss.get("/settings", headers=EN).text).group(0)
    assert "<h2>Service contracts " in english and summary in english
    chinese = group.search(boss.get("/settings", headers={"Accept-Language": "zh-CN"}).text).group(0)
    assert f"<h2>{zh(site, 'Service contracts')} " in chinese
    assert zh(site, summary) in chinese and summary not in chinese
    # the role page's permission grid is grouped under the same titles
    with site.db.session(write=False) as db:
        role_id = db.scalar(select(Role.id).where(Role.key == "engineer"))
    role_page = boss.get(f"/roles/{role_id}", headers={"Accept-Language": "zh-CN"}).text
    legends = re.findall(r"<legend>([^<]+)</legend>", role_page)
    assert zh(site, "Service contracts") in legends and summary not in " ".join(legends)


def test_a_plugins_structured_setting_is_checked_by_its_own_rule_where_it_is_saved(web, make_plugin):
    make_plugin("omega", plugin=OMEGA)
    site, app, browser = web(plugins=("omega",), users={"boss": ["admin"]})
    b = browser("boss")
    r = htmx(b, "/settings/omega.pairs", {"value": "nothing"})
    assert r.status_code == 422 and "Write key=value." in r.text and 'value="nothing"' in r.text
    assert stored(site, "omega.pairs") == ("a=1", "default")
    assert htmx(b, "/settings/omega.pairs", {"value": "b=2"}).status_code == 200
    assert stored(site, "omega.pairs") == ("b=2", "database")


def test_working_hours_typed_with_full_width_punctuation_are_taken(web):
    site, app, browser = web(users={"boss": ["admin"]})
    r = htmx(browser("boss"), "/settings/core.working_hours", {"value": "08:30－12:00，13:00－17:30"})
    assert r.status_code == 200, r.text[:300]
    from fuwu.calendar_days import site_calendar

    with site.db.session(write=False) as s:
        assert [(str(a), str(b)) for a, b in site_calendar(site, s).hours.periods] == \
            [("08:30:00", "12:00:00"), ("13:00:00", "17:30:00")]
