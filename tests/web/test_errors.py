"""Error pages: the right status, in the reader's language, with what they typed kept, never a trace."""

import logging
import re

from sqlalchemy import select

from fuwu.i18n import gettext, use_language
from fuwu.models import Customer

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
CJK = re.compile(r"[\u4e00-\u9fff]")
TRACE_MARKERS = ("Traceback", 'File "', "RuntimeError", "kaboom", "sqlalchemy", "jinja2", ".py")

BOOM = """
from starlette.routing import Route
from fuwu.web.endpoint import AUTHENTICATED, requires

@requires(AUTHENTICATED)
def explode(request):
    raise RuntimeError("kaboom: password=hunter2 in /srv/fuwu/app.py")

@hookimpl
def register_routes():
    return [Route("/explode", explode, name="boom:explode")]
"""


def title(page: str) -> str:
    return re.search(r'<h1><span class="code">\d+</span>\s*(.*?)</h1>', page, re.S).group(1).strip()


def chinese(site, message: str) -> str:
    """``message`` as a zh_Hans reader sees it; insists the catalog really translates it."""
    with use_language(site.catalogs, "zh_Hans"):
        text = gettext(message)
    assert CJK.search(text), (f"the zh_Hans catalog has no Chinese for {message!r}: "
                              "core/locale/zh_Hans/LC_MESSAGES/fuwu.po needs translating")
    return text


def assert_no_trace(page: str) -> None:
    for marker in TRACE_MARKERS:
        assert marker not in page, marker


def edit_form(page: str) -> dict:
    """The customer edit form's fields as a browser would post them."""
    data = dict(re.findall(r'<input[^>]*name="(\w+)" value="([^"]*)"', page))
    data.pop("csrf_token", None)
    for name, options in re.findall(r'<select[^>]*name="(\w+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.findall(r'<option value="([^"]*)"\s*selected', options)
        if chosen:
            data[name] = chosen if name == "products" else chosen[0]
    data["notes"] = re.search(r'<textarea[^>]*name="notes"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    return data


def test_404_for_unknown_pages_and_records_in_both_languages(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    for path in ("/no-such-page", "/customers/999999", "/customers/999999/edit", "/settings/core.nope/reset"):
        method = "post" if path.endswith("reset") else "get"
        r = b.submit(path, headers=EN) if method == "post" else b.get(path, headers=EN)
        assert r.status_code == 404, path
        assert title(r.text) == "Not found" and '<html lang="en">' in r.text, path
        assert_no_trace(r.text)
    r = b.get("/customers/999999", headers=ZH)
    assert r.status_code == 404 and '<html lang="zh-Hans">' in r.text
    assert title(r.text) == chinese(site, "Not found")
    anon = browser()
    r = anon.get("/no-such-page", headers=EN)
    assert r.status_code == 404 and title(r.text) == "Not found"


def test_405_for_a_wrong_method(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    for method, path in (("GET", "/logout"), ("GET", "/settings/core.page_size"), ("DELETE", "/customers")):
        r = b.request(method, path, headers=EN)
        assert r.status_code == 405, (method, path)
        assert title(r.text) == "Method not allowed"
        assert_no_trace(r.text)
    r = b.get("/logout", headers=ZH)
    assert title(r.text) == chinese(site, "Method not allowed")


def test_403_for_a_page_the_user_may_not_open(web):
    site, app, browser = web(users={"eng": (["engineer"], "售后服务部")})
    eng = browser("eng")
    r = eng.get("/settings", headers=EN)
    assert r.status_code == 403 and title(r.text) == "Not allowed"
    assert "You do not have permission to do this." in r.text
    assert 'href="/settings"' not in r.text  # the menu does not offer it either
    r = eng.get("/calendar", headers=ZH)
    assert r.status_code == 403 and title(r.text) == chinese(site, "Not allowed")


def test_an_error_page_offers_the_page_the_person_came_from(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    came_from = "/customers?q=%E6%9D%AD&sort=-name"
    r = b.get("/customers/999999", headers={**EN, "Referer": f"http://testserver{came_from}"})
    assert r.status_code == 404
    assert f'<a class="button" href="{came_from.replace("&", "&amp;")}">Back to the previous page</a>' in r.text
    assert 'href="/">Back to the dashboard' in r.text
    # another site's address, or none: only the dashboard is offered
    for headers in ({"Referer": "http://elsewhere.example/customers"}, {"Referer": "javascript:alert(1)"}, {}):
        r = b.get("/customers/999999", headers={**EN, **headers})
        assert "Back to the previous page" not in r.text and "elsewhere" not in r.text
        assert '<a class="button" href="/">Back to the dashboard</a>' in r.text


def test_413_for_a_form_that_is_too_large(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    limit = site.config.max_form_bytes
    r = b.submit("/customers/new", {"name": "Big", "account_type": "retail", "notes": "x" * (limit + 10)},
                 headers=EN)
    assert r.status_code == 413 and title(r.text) == "Too large"
    assert "What you sent is too large." in r.text
    with site.db.session(write=False) as s:
        assert s.scalar(select(Customer).where(Customer.name == "Big")) is None
    r = b.submit("/settings/core.smtp_host", {"value": "x" * (limit + 10)}, headers=ZH)
    assert r.status_code == 413 and title(r.text) == chinese(site, "Too large")


def test_422_keeps_the_input_and_puts_the_message_at_the_field(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    r = b.submit("/customers/new", {"name": "", "account_type": "retail", "phone": "call me maybe",
                                    "region": "华东", "address": "上海市浦东新区 88 号"}, headers=EN)
    assert r.status_code == 422
    assert "Please correct the highlighted fields." in r.text
    name = r.text[r.text.index('id="field-name"') - 30:r.text.index('id="field-account_type"')]
    assert "invalid" in name and "This field is required." in name
    phone = r.text[r.text.index('id="field-phone"') - 30:]
    phone = phone[:phone.index("</div>\n</div>") if "</div>\n</div>" in phone else 800]
    assert "invalid" in phone and "Enter a phone number" in phone and 'value="call me maybe"' in phone
    assert 'value="华东"' in r.text and 'value="上海市浦东新区 88 号"' in r.text
    assert_no_trace(r.text)


def test_409_shows_their_values_and_keeps_ours(web):
    site, app, browser = web(users={"boss": ["admin"], "wang": ["admin"]})
    me, colleague = browser("boss"), browser("wang")
    with site.db.session(write=False) as s:
        customer = s.scalar(select(Customer).order_by(Customer.id))
    url = f"/customers/{customer.id}/edit"
    mine = edit_form(me.get(url).text)
    theirs = edit_form(colleague.get(url).text)
    assert mine["version"] == theirs["version"]
    theirs.update(region="他们的区域", phone="021-11112222")
    assert colleague.submit(url, theirs).status_code == 303

    mine.update(region="我的区域", address="我填写的地址")
    r = me.submit(url, mine, headers=EN)
    assert r.status_code == 409
    conflict = r.text[r.text.index('class="conflict"'):r.text.index("</dl>")]
    assert "Someone else saved this customer after you opened it." in conflict
    assert "他们的区域" in conflict and "021-11112222" in conflict
    form = r.text[r.text.index("</dl>"):]
    assert 'value="我的区域"' in form and 'value="我填写的地址"' in form
    new_version = re.search(r'name="version" value="(\d+)"', r.text).group(1)
    assert int(new_version) == int(mine["version"]) + 1
    with site.db.session(write=False) as s:
        assert s.get(Customer, customer.id).region == "他们的区域"  # nothing of ours was saved
    # saving again from the conflict page replaces their values on purpose
    assert me.submit(url, {**mine, "version": new_version}).status_code == 303
    with site.db.session(write=False) as s:
        assert s.get(Customer, customer.id).region == "我的区域"


def test_500_shows_a_request_id_and_no_trace(web, make_plugin, caplog):
    make_plugin("boom", plugin=BOOM)
    site, app, browser = web(plugins=("boom",), users={"boss": ["admin"]})
    b = browser("boss")
    with caplog.at_level(logging.ERROR, logger="fuwu.web"):
        r = b.get("/boom/explode", headers=EN)
    assert r.status_code == 500
    assert title(r.text) == "Something went wrong"
    request_id = r.headers["x-request-id"]
    assert re.search(rf"<code>{request_id}</code>", r.text)
    assert_no_trace(r.text)
    assert "hunter2" not in r.text
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]  # headers on a 500 too
    assert r.headers["x-content-type-options"] == "nosniff"
    # the trace goes to the log, under the same request id, for the administrator
    assert any(request_id in rec.getMessage() and rec.exc_info for rec in caplog.records)

    r = b.get("/boom/explode", headers=ZH)
    assert r.status_code == 500 and '<html lang="zh-Hans">' in r.text
    assert title(r.text) == chinese(site, "Something went wrong")
    assert_no_trace(r.text)
    # an htmx request gets the message as a fragment it can swap in
    token = b.csrf("/")
    r = b.get("/boom/explode", headers={**EN, "HX-Request": "true", "X-CSRF-Token": token})
    assert r.status_code == 500 and "<html" not in r.text and "Something went wrong" in r.text
    assert_no_trace(r.text)
