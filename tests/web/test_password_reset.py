"""Setting a password through an e-mailed link: "forgot your password?" and the
link a role manager sends. Through the sign-in page, the outbox and the link."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from fuwu.links import SignedLink
from fuwu.models import Staff
from fuwu.notifications import OutboxMail
from tests.conftest import PASSWORD, Browser

USERS = {"li": (["engineer"], "客服部"), "boss": (["admin"], "总部"), "mgr": (["service_manager"], "客服部")}
NEW = "a brand new secret 2026"


def _mails(site, to: str) -> list[OutboxMail]:
    return site.db.run(lambda s: s.scalars(select(OutboxMail).where(OutboxMail.to_addr == to)
                                           .order_by(OutboxMail.id)).all())


def _link_in(mail: OutboxMail) -> str:
    return re.search(r"http://testserver(/l/\S+)", mail.body).group(1)


def _anonymous(app, **headers) -> Browser:
    return Browser(app, base_url="http://testserver", raise_server_exceptions=False, follow_redirects=False,
                   headers={"Accept-Language": "en", **headers})


def _ask(client: Browser, who: str):
    token = client.csrf("/password/forgot")
    return client.post("/password/forgot", data={"who": who, "csrf_token": token})


def _set(client: Browser, path: str, password: str, again: str | None = None):
    token = client.csrf(path)
    return client.post(path, data={"password": password, "password_again": password if again is None else again,
                                   "csrf_token": token})


def test_forgot_password_mails_a_link_that_sets_a_new_one_once(web):
    site, app, browser = web(demo=False, users=USERS)
    signed_in = browser("li")  # a session on another device, with the old password
    visitor = _anonymous(app)
    assert 'href="/password/forgot"' in visitor.get("/login").text
    r = _ask(visitor, "li")
    assert r.status_code == 200 and 'id="sent"' in r.text
    [mail] = _mails(site, "li@example.com")
    assert "li" in mail.body and "/l/" in mail.body
    link = _link_in(mail)
    page = visitor.get(link)
    assert page.status_code == 200 and 'id="password-form"' in page.text
    short = _set(visitor, link, "short")
    assert short.status_code == 422 and "At least" in short.text and "short" not in short.text.split("<main")[-1]
    assert _set(visitor, link, NEW, "something else").status_code == 422
    done = _set(visitor, link, NEW)
    assert done.status_code == 200 and 'id="done"' in done.text
    assert signed_in.get("/profile").status_code in (302, 303)  # signed out everywhere
    assert _anonymous(app).login("li", PASSWORD).status_code == 400
    assert _anonymous(app).login("li", NEW).status_code == 303
    again = visitor.get(link)
    assert again.status_code == 410 and "already been used" in again.text


def test_the_answer_is_the_same_for_unknown_names_and_no_mail_goes_out(web):
    site, app, browser = web(demo=False, users=USERS)
    visitor = _anonymous(app)
    known = _ask(visitor, "li")
    unknown = _ask(visitor, "nobody@example.com")
    strip = lambda text: re.sub(r'name="csrf[^"]*" content="[^"]*"|value="[^"]{20,}"', "", text)  # noqa: E731
    assert unknown.status_code == known.status_code == 200
    assert strip(unknown.text) == strip(known.text)
    assert site.db.run(lambda s: len(s.scalars(select(OutboxMail)).all())) == 1
    assert _ask(visitor, "").status_code == 422


def test_an_e_mail_address_finds_the_account_and_a_new_link_withdraws_the_old(web):
    site, app, _browser = web(demo=False, users=USERS)
    visitor = _anonymous(app)
    _ask(visitor, "LI@Example.com")
    _ask(visitor, "li")
    first, second = _mails(site, "li@example.com")
    assert visitor.get(_link_in(first)).status_code == 410  # withdrawn by the second
    assert visitor.get(_link_in(second)).status_code == 200


def test_an_account_gets_at_most_the_hourly_number_of_mails(web):
    site, app, _browser = web(demo=False, users=USERS, settings={"core.password_reset_per_hour": 2})
    visitor = _anonymous(app)
    for _ in range(4):
        assert _ask(visitor, "li").status_code == 200
    assert len(_mails(site, "li@example.com")) == 2


def test_a_link_lives_the_set_minutes_and_a_deactivated_accounts_sets_nothing(web):
    site, app, browser = web(demo=False, users=USERS, settings={"core.password_reset_minutes": 30})
    visitor = _anonymous(app)
    r = _ask(visitor, "li")
    assert "for 30 minutes" in r.text
    lifetime = site.db.run(lambda s: [link.expires_at - link.created_at for link in s.scalars(select(SignedLink))])
    assert [round(d.total_seconds() / 60) for d in lifetime] == [30]
    link = _link_in(_mails(site, "li@example.com")[0])
    site.db.run(lambda s: s.execute(update(Staff).where(Staff.username == "li").values(active=False)))
    assert _ask(visitor, "li").status_code == 200 and len(_mails(site, "li@example.com")) == 1  # none for him now
    refused = _set(visitor, link, NEW)
    assert refused.status_code == 410 and "deactivated" in refused.text


def test_setting_the_password_lifts_a_sign_in_pause(web):
    site, app, _browser = web(demo=False, users=USERS, settings={"core.login_max_failures_account": 2})
    guesser = _anonymous(app)
    for _ in range(2):
        guesser.login("li", "wrong guess")
    assert _anonymous(app).login("li", PASSWORD).status_code == 429
    visitor = _anonymous(app)
    _ask(visitor, "li")
    assert _set(visitor, _link_in(_mails(site, "li@example.com")[0]), NEW).status_code == 200
    assert _anonymous(app).login("li", NEW).status_code == 303


def test_a_role_manager_sends_a_colleague_a_link_in_their_language(web):
    site, app, browser = web(demo=False, users=USERS)
    site.db.run(lambda s: s.execute(update(Staff).where(Staff.username == "li").values(language="zh_Hans")))
    li_id = site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == "li")))
    boss = browser("boss")
    assert 'id="password-link-form"' in boss.get(f"/staff/{li_id}").text
    r = boss.submit(f"/staff/{li_id}/password-link", page=f"/staff/{li_id}")
    assert r.status_code == 303 and r.headers["location"].startswith("/links/")
    detail = boss.get(r.headers["location"]).text
    assert "li@example.com" in detail and "/l/" in detail
    [mail] = _mails(site, "li@example.com")
    assert "设置" in mail.subject and "li" in mail.body  # li reads Chinese
    page = _anonymous(app, **{"Accept-Language": "zh-CN"}).get(_link_in(mail))
    assert page.status_code == 200 and "设置密码" in page.text
    # an engineer may not; a service manager sees the staff page but not this
    assert browser("li").submit(f"/staff/{li_id}/password-link").status_code == 403
    assert browser("mgr").submit(f"/staff/{li_id}/password-link").status_code == 403
    assert len(_mails(site, "li@example.com")) == 1


def test_no_link_for_someone_without_a_username(web):
    site, _app, browser = web(demo=False, users=USERS)
    new_id = site.db.run(lambda s: (s.add(x := Staff(code="N1", name="新同事", email="new@example.com")),
                                    s.flush(), x.id)[-1])
    boss = browser("boss")
    assert 'id="password-link-form"' not in boss.get(f"/staff/{new_id}").text
    r = boss.submit(f"/staff/{new_id}/password-link", page=f"/staff/{new_id}")
    assert r.status_code == 303 and "username first" in boss.get(r.headers["location"]).text
    assert _mails(site, "new@example.com") == []
