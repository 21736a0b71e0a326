"""Sign-in, sessions, CSRF, cookies, headers, redirects and escaping, as a browser meets them."""

import os
import re
import subprocess
import sys
from dataclasses import replace

from argon2 import PasswordHasher, Type
from sqlalchemy import select, update
from starlette.routing import Route

from fuwu.db import utcnow
from fuwu.models import Staff
from fuwu.web.app import create_app
from fuwu.web.sessions import COOKIE, WebSession
from tests.conftest import PASSWORD, Browser, another_process

EN = {"Accept-Language": "en"}
ARGON2 = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$")


def stored_hash(site, username):
    with site.db.session(write=False) as s:
        return s.scalar(select(Staff.password_hash).where(Staff.username == username))


def login(client, username, password=PASSWORD, **extra):
    token = client.csrf("/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token, **extra},
                       headers=EN)


def set_cookies(response) -> dict[str, str]:
    """name -> the whole Set-Cookie line."""
    return {line.split("=", 1)[0]: line for line in response.headers.get_list("set-cookie")}


def test_sign_in_uses_argon2id_with_owasp_parameters(web):
    site, app, browser = web(users={"boss": ["admin"]})
    match = ARGON2.match(stored_hash(site, "boss"))
    assert match, "not an argon2id hash"
    memory, time_cost, _parallelism = map(int, match.groups())
    assert memory >= 19456 and time_cost >= 2
    client = browser()
    assert login(client, "boss", "wrong password").status_code == 400
    assert COOKIE not in client.cookies
    r = login(client, "boss")
    assert r.status_code == 303 and client.cookies.get(COOKIE)
    assert client.get("/").status_code == 200


def test_a_weaker_hash_is_upgraded_at_sign_in(web):
    site, app, browser = web(users={"boss": ["admin"]})
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID).hash(PASSWORD)
    site.db.run(lambda s: s.execute(update(Staff).where(Staff.username == "boss").values(password_hash=weak)))
    client = browser()
    assert login(client, "boss", "not it").status_code == 400
    assert stored_hash(site, "boss") == weak  # a failed sign-in changes nothing
    assert login(client, "boss").status_code == 303
    upgraded = stored_hash(site, "boss")
    memory, time_cost, _p = map(int, ARGON2.match(upgraded).groups())
    assert upgraded != weak and memory >= 19456 and time_cost >= 2
    assert login(browser(), "boss").status_code == 303  # and the new hash verifies


def test_too_many_failures_pause_an_account(web):
    site, app, browser = web(users={"boss": ["admin"], "eng": (["engineer"], "售后服务部")})
    client = browser()
    limit = site.settings.get("core.login_max_failures_account")
    for _ in range(limit):
        assert login(client, "boss", "guess").status_code == 400
    r = login(client, "boss")  # the right password, too late
    assert r.status_code == 429
    assert "Too many failed sign-ins. Wait 15 minutes and try again." in r.text
    assert COOKIE not in client.cookies
    assert login(browser(), "eng").status_code == 303  # other accounts are not affected


def test_too_many_failures_pause_an_address(web):
    site, app, browser = web(users={"boss": ["admin"]},
                             settings={"core.login_max_failures_address": 3, "core.login_max_failures_account": 50})
    client = browser()
    for name in ("alice", "bob", "carol"):
        assert login(client, name, "guess").status_code == 400
    r = login(client, "boss")
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text
    elsewhere = Browser(app, base_url="http://testserver", follow_redirects=False, client=("10.0.0.9", 5000))
    try:
        assert login(elsewhere, "boss").status_code == 303
    finally:
        elsewhere.close()


def unsafe_routes(app):
    """(method, concrete path) of every route that changes something."""
    found = []

    def walk(routes, prefix=""):
        for route in routes:
            if hasattr(route, "routes") and not isinstance(route, Route):
                walk(route.routes, prefix + route.path)
            elif isinstance(route, Route):
                for method in sorted((route.methods or set()) - {"GET", "HEAD", "OPTIONS"}):
                    path = re.sub(r"\{(\w+)(:int)?\}", lambda m: "1" if m.group(2) else "core.page_size",
                                  prefix + route.path)
                    found.append((method, path))

    walk(app.routes)
    return found


def test_csrf_is_required_on_every_unsafe_request(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    routes = unsafe_routes(app)
    assert ("POST", "/login") in routes and ("POST", "/settings/core.page_size") in routes
    for method, path in routes:
        for token in (None, "forged-token"):
            data = {"csrf_token": token} if token else {}
            r = b.request(method, path, data=data, headers=EN)
            assert r.status_code == 403, (method, path, token, r.status_code)
            assert "Your form has expired or did not come from this site" in r.text, (method, path)
    # nothing was changed by all those requests
    with site.db.session(write=False) as s:
        assert site.settings.source("core.page_size", s) == "default"
    assert b.get("/").status_code == 200  # and the session still works (logout was refused too)

    # the token from the page works, in the form or in the header htmx sends
    token = b.csrf("/settings")
    assert b.post("/settings/core.page_size", data={"value": "20", "csrf_token": token}).status_code == 303
    r = b.post("/settings/core.page_size", data={"value": "21"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 303
    # another session's token is not this session's token
    other = browser("boss")
    assert other.post("/settings/core.page_size", data={"value": "22"},
                      headers={"X-CSRF-Token": token}).status_code == 403


def test_sign_in_needs_the_login_token(web):
    site, app, browser = web(users={"boss": ["admin"]})
    client = browser()
    client.get("/login")
    form = {"username": "boss", "password": PASSWORD}
    assert client.post("/login", data=form).status_code == 403
    assert client.post("/login", data={**form, "csrf_token": "guess"}).status_code == 403
    fresh = browser()  # a token without its signed cookie is refused too
    token = client.csrf("/login")
    assert fresh.post("/login", data={**form, "csrf_token": token}).status_code == 403
    assert COOKIE not in client.cookies and COOKIE not in fresh.cookies
    assert login(client, "boss").status_code == 303


def test_forms_carry_a_csrf_token(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    for path in ("/", "/customers/new", "/settings", "/calendar", "/customers/1"):
        page = b.get(path)
        assert page.status_code == 200, path
        tokens = re.findall(r'name="csrf_token" value="([^"]*)"', page.text)
        assert tokens and all(tokens), f"{path}: a form without a CSRF token"
        assert set(tokens) == {b.csrf("/")}, path


def test_cookie_flags_over_http_and_https(web):
    site, app, browser = web(users={"boss": ["admin"]})
    client = browser()
    page = client.get("/login")
    login_cookie = set_cookies(page)["fuwu_login_csrf"]
    r = login(client, "boss")
    session = set_cookies(r)[COOKIE]
    for line in (login_cookie, session):
        assert "HttpOnly" in line and "SameSite=lax" in line.replace("Lax", "lax")
        assert "Secure" not in line
    assert "strict-transport-security" not in r.headers

    site.config.https = True
    secure_app = create_app(site)
    client = Browser(secure_app, base_url="https://testserver", follow_redirects=False)
    try:
        page = client.get("/login")
        r = login(client, "boss")
        assert r.status_code == 303
        for line in (set_cookies(page)["fuwu_login_csrf"], set_cookies(r)[COOKIE]):
            assert "Secure" in line and "HttpOnly" in line and "SameSite=lax" in line.replace("Lax", "lax")
        assert r.headers["strict-transport-security"].startswith("max-age=")
        flashed = client.submit("/language", {"language": "en", "next": "/"})
        assert "Secure" in set_cookies(flashed)["fuwu_flash"]
    finally:
        client.close()


def test_security_headers_on_every_response(web):
    site, app, browser = web(users={"boss": ["admin"], "eng": (["engineer"], "售后服务部")})
    b, eng, anon = browser("boss"), browser("eng"), browser()
    responses = [
        anon.get("/login"), anon.get("/"), anon.post("/login", data={}), anon.get("/static/theme/fuwu.css"),
        b.get("/"), b.get("/customers"), b.get("/nowhere"), b.get("/customers/999999"), b.post("/customers"),
        b.get("/customers", headers={"HX-Request": "true"}), eng.get("/settings"),
    ]
    assert {r.status_code for r in responses} >= {200, 303, 403, 404, 405}
    for r in responses:
        csp = r.headers["content-security-policy"]
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, r.url
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] in ("same-origin", "strict-origin-when-cross-origin", "no-referrer")
        assert r.headers["x-request-id"]


def test_logout_revokes_the_session_on_the_server(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    stolen = b.cookies[COOKIE]
    r = b.submit("/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    with site.db.session(write=False) as s:
        assert s.scalar(select(WebSession.revoked_at)) is not None
    replay = browser()
    replay.cookies.set(COOKIE, stolen)
    r = replay.get("/customers")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_signing_out_in_one_process_signs_out_in_every_process(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    with another_process(site, b.cookies[COOKIE]) as other:
        assert other.get("/customers").status_code == 200  # the session is shared...
        assert other.get("/customers").status_code == 200  # ...and now cached by the other process
        here = browser("boss")
        assert here.submit("/profile/sessions/sign-out-others", page="/profile").status_code == 303
        r = other.get("/customers")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        assert b.get("/customers").status_code == 303

        b2 = browser("boss")
        other.cookies.set(COOKIE, b2.cookies[COOKIE])
        assert other.get("/").status_code == 200
        assert b2.submit("/logout").status_code == 303  # signing out in one process...
        assert other.get("/").status_code == 303  # ...signs out in the other


def test_a_process_keeps_a_sign_in_at_most_session_cache_seconds(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    assert b.get("/customers").status_code == 200
    # Plain SQL outside fuwu moves no change counter: a process that keeps
    # sign-ins (SQLite) still trusts its copy until its expiry; on PostgreSQL
    # no process keeps one...
    site.db.run(lambda s: s.execute(update(WebSession).values(revoked_at=utcnow())))
    assert b.get("/customers").status_code == (200 if site.sign_ins.enabled else 303)
    # ...and one configured to keep none reads the session on every request.
    uncached = replace(site.config, session_cache_seconds=0)
    with another_process(site, b.cookies[COOKIE], config=uncached) as other:
        r = other.get("/customers")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_password_set_from_the_cli_signs_the_user_out_of_running_servers(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    assert b.get("/customers").status_code == 200
    assert b.get("/customers").status_code == 200  # cached by this process
    cli = subprocess.run([sys.executable, "-m", "fuwu", "user", "passwd", "boss", "--password", "N3w-secret!"],
                         env={**os.environ, "FUWU_HOME": str(site.config.home),
                              "FUWU_DATABASE_URL": site.config.database_url},
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stderr
    assert "1 session(s) signed out" in cli.stdout
    r = b.get("/customers")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert login(browser(), "boss", password="N3w-secret!").status_code == 303


def test_no_open_redirect_after_sign_in(web):
    site, app, browser = web(users={"boss": ["admin"]})
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "\\\\evil.example", "evil"):
        client = browser()
        r = login(client, "boss", next=target)
        assert r.status_code == 303 and r.headers["location"] == "/", target
        page = browser().get("/login", params={"next": target})
        assert 'name="next" value="/"' in page.text, target
    r = login(browser(), "boss", next="/customers?q=a")
    assert r.headers["location"] == "/customers?q=a"
    anon = browser()
    r = anon.get("/settings")
    assert r.headers["location"] == "/login?next=/settings"
    r = anon.submit("/language", {"language": "en", "next": "//evil.example"}, page="/login")
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_templates_escape_what_users_type(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    evil = "<script>alert(1)</script>"
    r = b.submit("/customers/new", {"name": evil, "account_type": "retail", "region": '"><img src=x>'})
    assert r.status_code == 303, r.text[:2000]
    for page in (b.get("/customers"), b.get(r.headers["location"]), b.get("/customers", params={"q": evil})):
        assert page.status_code == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert evil not in page.text and "<img src=x>" not in page.text
