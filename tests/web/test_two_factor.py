"""Two-step sign-in through HTTP: turning it on with an authenticator's code,
signing in with a code or a recovery code (each once), failures counted
towards the sign-in pause, turning it off, and a role manager turning it off."""

from __future__ import annotations

import re
import time

import pyotp
from sqlalchemy import select

from fuwu.audit import AuditEntry
from fuwu.models import Staff
from fuwu.web.sessions import LoginAttempt
from tests.conftest import PASSWORD, Browser

USERS = {"li": (["engineer"], "客服部"), "boss": (["admin"], "总部")}


def _anonymous(app) -> Browser:
    return Browser(app, base_url="http://testserver", raise_server_exceptions=False, follow_redirects=False,
                   headers={"Accept-Language": "en"})


def _hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', page).group(1)


def _turn_on(b: Browser) -> tuple[str, list[str]]:
    page = b.get("/profile/two-factor").text
    assert "<svg" in page and 'id="on-form"' in page
    secret = _hidden(page, "secret")
    r = b.post("/profile/two-factor/on", data={"secret": secret, "signature": _hidden(page, "signature"),
                                               "code": pyotp.TOTP(secret).now(), "csrf_token": b.csrf("/profile")})
    assert r.status_code == 200 and 'id="recovery-codes"' in r.text
    return secret, re.findall(r"<li><code>([a-z0-9]{4}-[a-z0-9]{4})</code></li>", r.text)


def _code(client: Browser, code: str, next_path: str = "/"):
    token = client.csrf(f"/login/code?next={next_path}")
    return client.post(f"/login/code?next={next_path}", data={"code": code, "next": next_path, "csrf_token": token})


def _step_code(secret: str, offset: int) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(int(time.time() // 30) + offset)


def test_turned_on_signing_in_asks_for_the_code_and_takes_each_once(web):
    site, app, browser = web(demo=False, users=USERS)
    li = browser("li")
    assert "Turn on two-step sign-in" in li.get("/profile").text
    page = li.get("/profile/two-factor").text
    wrong = li.post("/profile/two-factor/on", data={"secret": _hidden(page, "secret"), "code": "000000",
                                                    "signature": _hidden(page, "signature"),
                                                    "csrf_token": li.csrf("/profile")})
    assert wrong.status_code == 422 and "not right" in wrong.text
    forged = li.post("/profile/two-factor/on", data={"secret": "JBSWY3DPEHPK3PXP", "code": "123456",
                                                     "signature": _hidden(page, "signature"),
                                                     "csrf_token": li.csrf("/profile")})
    assert forged.status_code == 400
    secret, codes = _turn_on(li)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert 'id="two-factor"' in li.get("/profile").text and "Recovery codes or turn off" in li.get("/profile").text

    visitor = _anonymous(app)
    r = visitor.login("li")
    assert r.status_code == 303 and r.headers["location"].startswith("/login/code")
    assert visitor.get("/profile").status_code in (302, 303)  # the password alone signs nobody in
    assert 'id="code-form"' in visitor.get("/login/code").text
    bad = _code(visitor, "123456")
    assert bad.status_code == 400 and "not right" in bad.text
    # the next 30 seconds' code: the current one turned it on, and a code is taken once
    now = _step_code(secret, 1)
    ok = _code(visitor, now, "/customers")
    assert ok.status_code == 303 and ok.headers["location"] == "/customers"
    assert visitor.get("/profile").status_code == 200
    # the same code a second time (someone who saw it over a shoulder) is refused
    other = _anonymous(app)
    other.login("li")
    assert _code(other, now).status_code == 400
    results = site.db.run(lambda s: [a.success for a in s.scalars(
        select(LoginAttempt).where(LoginAttempt.username == "li").order_by(LoginAttempt.id))])
    assert results == [True, False, True, False]  # the first: signing in to turn it on
    # the key never reaches the audit log
    assert site.db.run(lambda s: [e for e in s.scalars(select(AuditEntry)) if secret in f"{e.old}{e.new}"]) == []


def test_a_recovery_code_signs_in_once(web):
    _site, app, browser = web(demo=False, users=USERS)
    li = browser("li")
    _secret, codes = _turn_on(li)
    visitor = _anonymous(app)
    visitor.login("li")
    assert _code(visitor, codes[3].upper().replace("-", " ")).status_code == 303  # as typed off paper
    assert "9 recovery codes left." in visitor.get("/profile/two-factor").text
    again = _anonymous(app)
    again.login("li")
    assert _code(again, codes[3]).status_code == 400


def test_wrong_codes_count_towards_the_sign_in_pause(web):
    _site, app, browser = web(demo=False, users=USERS, settings={"core.login_max_failures_account": 2})
    secret, _codes = _turn_on(browser("li"))
    visitor = _anonymous(app)
    visitor.login("li")
    assert _code(visitor, "111111").status_code == 400
    assert _code(visitor, "222222").status_code == 400
    assert _code(visitor, _step_code(secret, 1)).status_code == 429


def test_no_code_page_without_the_password_or_after_it_changed(web):
    site, app, browser = web(demo=False, users=USERS)
    secret, _codes = _turn_on(browser("li"))
    visitor = _anonymous(app)
    assert visitor.get("/login/code").headers["location"] == "/login"
    for forged in ("1.9999999999.forged", "99999999999.9999999999.x", "x.y.z", "1.2"):
        visitor.cookies.set("fuwu_2fa", forged)
        assert visitor.get("/login/code").headers["location"] == "/login"
    visitor = _anonymous(app)
    visitor.login("li")
    boss = browser("boss")
    li_id = site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == "li")))
    boss.submit(f"/staff/{li_id}/password", {"password": "another secret 99", "password_again": "another secret 99"})
    assert visitor.get("/login/code").headers["location"] == "/login"  # the password it vouched for changed
    r = visitor.post("/login/code", data={"code": _step_code(secret, 1), "csrf_token": visitor.csrf("/login")})
    assert r.headers["location"] == "/login" and visitor.get("/profile").status_code in (302, 303)


def test_turning_it_off_needs_the_password_or_a_role_manager(web):
    site, app, browser = web(demo=False, users=USERS)
    li = browser("li")
    _turn_on(li)
    wrong = li.post("/profile/two-factor/off", data={"password": "nope", "csrf_token": li.csrf("/profile")})
    assert wrong.status_code == 422
    assert li.post("/profile/two-factor/off", data={"password": PASSWORD,
                                                    "csrf_token": li.csrf("/profile")}).status_code == 303
    assert _anonymous(app).login("li").headers["location"] == "/"  # the password alone again

    _turn_on(li)
    li_id = site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == "li")))
    assert li.submit(f"/staff/{li_id}/two-factor/off").status_code == 403
    boss = browser("boss")
    assert 'id="two-factor-off-form"' in boss.get(f"/staff/{li_id}").text
    assert boss.submit(f"/staff/{li_id}/two-factor/off", page=f"/staff/{li_id}").status_code == 303
    assert 'id="two-factor-off-form"' not in boss.get(f"/staff/{li_id}").text
    assert _anonymous(app).login("li").headers["location"] == "/"
    history = boss.get(f"/audit?table=staff&row={li_id}").text
    assert "Two-step sign-in" in history


def test_a_wrong_code_after_the_right_password_warns_the_owner_once(web):
    from fuwu.notifications import Notification, OutboxMail

    site, app, browser = web(demo=False, users=USERS)
    li = browser("li")
    _turn_on(li)
    visitor = _anonymous(app)
    visitor.login("li")  # someone who knows li's password
    for code in ("111111", "222222"):
        assert _code(visitor, code).status_code == 400
    notes = site.db.run(lambda s: s.scalars(select(Notification)).all())
    mails = site.db.run(lambda s: s.scalars(select(OutboxMail).where(OutboxMail.to_addr == "li@example.com")).all())
    assert len(notes) == 1 and len(mails) == 1 and "testclient" in mails[0].body
    assert "Someone typed your password correctly but not the two-step code" in li.get("/notifications").text
    assert "Right password, wrong code" in li.get("/profile").text
    history = browser("boss").get("/audit/sign-ins", params={"result": "wrong_code"}).text
    assert history.count("Right password, wrong code") >= 2 and "Signed in</span>" not in history


def test_where_the_site_requires_it_the_password_leads_to_setting_it_up(web):
    _site, app, _browser = web(demo=False, users=USERS, settings={"core.two_factor_for_managers": True})
    assert _anonymous(app).login("li").headers["location"] == "/"  # an engineer manages nobody's access
    visitor = _anonymous(app)
    r = visitor.login("boss")
    assert r.headers["location"].startswith("/login/setup")
    assert visitor.get("/profile").status_code in (302, 303)  # no session before it is set up
    page = visitor.get("/login/setup?next=/staff").text
    assert "<svg" in page and "requires two-step sign-in" in page
    secret = _hidden(page, "secret")
    data = {"secret": secret, "signature": _hidden(page, "signature"), "next": "/staff"}
    wrong = visitor.post("/login/setup", data={**data, "code": "000000", "csrf_token": visitor.csrf("/login/setup")})
    assert wrong.status_code == 422 and secret in wrong.text  # the same key: the app has it already
    done = visitor.post("/login/setup", data={**data, "code": pyotp.TOTP(secret).now(),
                                              "csrf_token": visitor.csrf("/login/setup")})
    assert done.status_code == 200 and len(re.findall(r"<li><code>", done.text)) == 10 and 'href="/staff"' in done.text
    assert visitor.get("/staff").status_code == 200  # signed in now
    again = _anonymous(app)
    assert again.login("boss").headers["location"].startswith("/login/code")  # from now on, the code
    assert again.get("/login/setup").headers["location"] == "/login"  # set up already


def test_required_of_everyone(web):
    _site, app, _browser = web(demo=False, users=USERS, settings={"core.two_factor_for_everyone": True})
    assert _anonymous(app).login("li").headers["location"].startswith("/login/setup")
