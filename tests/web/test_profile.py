"""The profile page: language, password change, sign-in sessions."""

from __future__ import annotations

import re

from sqlalchemy import select

from fuwu.models import Staff
from fuwu.web.sessions import WebSession

from ..conftest import PASSWORD

NEW_PASSWORD = "a much longer passphrase 2026"


def live_sessions(site, username):
    return site.db.run(lambda s: s.scalars(select(WebSession.id).join(Staff).where(
        Staff.username == username, WebSession.revoked_at.is_(None)).order_by(WebSession.id)).all())


def test_language_choice_is_saved_and_used(web):
    site, app, browser = web(users={"boss": ["admin"]}, demo=False)
    boss = browser("boss")
    page = boss.get("/profile", headers={"accept-language": "zh-CN"})
    assert page.status_code == 200 and '<html lang="zh-Hans">' in page.text
    r = boss.submit("/profile/language", {"language": "en"})
    assert r.status_code == 303 and r.headers["location"] == "/profile"
    page = boss.get("/profile")
    assert '<html lang="en">' in page.text
    assert re.search(r'<option value="en"\s+selected', page.text)
    assert site.db.run(lambda s: s.scalar(select(Staff.language).where(Staff.username == "boss"))) == "en"
    # the choice follows the user to another browser, whatever that browser asks for
    other = browser("boss")
    assert '<html lang="en">' in other.get("/", headers={"accept-language": "zh-CN"}).text
    # an unknown language changes nothing
    boss.submit("/profile/language", {"language": "xx"})
    assert site.db.run(lambda s: s.scalar(select(Staff.language).where(Staff.username == "boss"))) == "en"


def test_password_change(web):
    site, app, browser = web(users={"boss": ["admin"]}, demo=False)
    boss = browser("boss")
    other = browser("boss")
    cases = [
        ({"current": "wrong password", "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}, "not your current password"),
        ({"current": PASSWORD, "new": "short", "repeat": "short"}, "At least 8 characters"),
        ({"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD + "!"}, "two new passwords differ"),
    ]
    for data, message in cases:
        r = boss.submit("/profile/password", data)
        assert r.status_code == 422 and message in r.text
        assert NEW_PASSWORD not in r.text  # typed passwords are never sent back
    assert browser().login("boss", PASSWORD).status_code == 303

    r = boss.submit("/profile/password", {"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert r.status_code == 303
    assert boss.get("/profile").status_code == 200  # this session stays signed in
    assert other.get("/profile").status_code == 303  # every other one is signed out
    assert browser().login("boss", PASSWORD).status_code == 400
    assert browser().login("boss", NEW_PASSWORD).status_code == 303


def test_sessions_list_and_sign_out(web):
    site, app, browser = web(users={"boss": ["admin"], "other": ["engineer"]}, demo=False)
    first = browser("boss")
    second = browser("boss")
    third = browser("boss")
    theirs = browser("other")
    page = first.get("/profile", headers={"user-agent": "TestBrowser/1.0"})
    ids = live_sessions(site, "boss")
    assert len(ids) == 3
    assert page.text.count('class="current"') == 1 and page.text.count("/sign-out\"") == 3
    # the button that ends them all comes before the list, however long it is
    assert page.text.index("/profile/sessions/sign-out-others") < page.text.index('class="current"')

    # one session signed out by id; another user's session id is not mine to end
    other_id = live_sessions(site, "other")[0]
    assert first.submit(f"/profile/sessions/{other_id}/sign-out").status_code == 404
    assert theirs.get("/profile").status_code == 200
    r = first.submit(f"/profile/sessions/{ids[2]}/sign-out")
    assert r.status_code == 303
    r = third.get("/profile")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")

    r = first.submit("/profile/sessions/sign-out-others")
    assert r.status_code == 303
    r = second.get("/customers")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert first.get("/profile").status_code == 200
    assert live_sessions(site, "boss") == [ids[0]]
    assert theirs.get("/profile").status_code == 200

    # signing out the current session is signing out
    r = first.submit(f"/profile/sessions/{ids[0]}/sign-out")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert first.get("/profile").status_code == 303


def test_one_app_serves_each_reader_the_page_in_their_language(web):
    """Templates translate their constant strings when compiled, once per
    language: one app, interleaved readers, each page (full, htmx fragment,
    error) wholly in its reader's language."""
    site, app, browser = web(users={"hans": ["admin"], "hant": ["admin"], "en": ["admin"]}, demo=False)
    expected = {
        "zh_Hans": ("退出登录", "公司名称", "没有符合条件的客户。"),
        "zh_Hant": ("登出", "公司名稱", "沒有符合條件的客戶。"),
        "en": ("Sign out", "Company name", "No customers match."),
    }
    readers = {}
    for username, language in (("hans", "zh_Hans"), ("hant", "zh_Hant"), ("en", "en")):
        readers[language] = browser(username)
        assert readers[language].submit("/profile/language", {"language": language}).status_code == 303
    for _round in range(2):
        for language, (sign_out, column, empty) in expected.items():
            reader = readers[language]
            others = [text for other, texts in expected.items() if other != language for text in texts]
            page = reader.get("/customers?q=nobody")
            assert sign_out in page.text and column in page.text and empty in page.text, language
            fragment = reader.get("/customers?q=nobody", headers={"HX-Request": "true"})
            assert column in fragment.text and empty in fragment.text and "<html" not in fragment.text
            for text in (page.text, fragment.text):
                assert not [o for o in others if o in text], language
            missing = reader.get("/customers/999999")
            assert missing.status_code == 404 and sign_out in missing.text, language


def _version(page: str) -> str:
    form = page.split('id="contact-form"', 1)[1]
    return re.search(r'name="version" value="(\d+)"', form).group(1)


def test_own_phone_and_email_the_email_only_with_the_password_and_the_old_address_told(web):
    from fuwu.notifications import OutboxMail

    site, app, browser = web(users={"eng": (["engineer"], "售后服务部")}, demo=False)
    eng = browser("eng")
    page = eng.get("/profile", headers={"accept-language": "en"}).text
    assert 'value="eng@example.com"' in page
    r = eng.submit("/profile/contact", {"phone": "１３９-0000-1111", "email": "eng@example.com",
                                        "version": _version(page)})
    assert r.status_code == 303
    staff = lambda: site.db.run(lambda s: s.scalar(select(Staff).where(Staff.username == "eng")))  # noqa: E731
    assert staff().phone == "139-0000-1111"

    page = eng.get("/profile", headers={"accept-language": "en"}).text
    for password in ("", "wrong password"):
        r = eng.submit("/profile/contact", {"phone": "139-0000-1111", "email": "thief@example.org",
                                            "current": password, "version": _version(page)},
                       headers={"accept-language": "en"})
        assert r.status_code == 422 and "Type your current password" in r.text
        assert 'value="thief@example.org"' in r.text  # kept to correct
    bad = eng.submit("/profile/contact", {"email": "not an address", "version": _version(page)})
    assert bad.status_code == 422
    assert staff().email == "eng@example.com"

    r = eng.submit("/profile/contact", {"phone": "139-0000-1111", "email": "new.eng@example.com",
                                        "current": PASSWORD, "version": _version(page)})
    assert r.status_code == 303 and staff().email == "new.eng@example.com"
    mails = site.db.run(lambda s: s.scalars(select(OutboxMail).where(OutboxMail.to_addr == "eng@example.com")).all())
    assert len(mails) == 1 and "new.eng@example.com" in mails[0].body


def test_contact_details_saved_by_hr_meanwhile_are_not_overwritten(web):
    site, app, browser = web(users={"eng": (["engineer"], "售后服务部"), "hr": ["administration"]}, demo=False)
    eng = browser("eng")
    page = eng.get("/profile").text
    site.db.run(lambda s: setattr(s.scalar(select(Staff).where(Staff.username == "eng")), "phone", "021-1111"))
    r = eng.submit("/profile/contact", {"phone": "021-2222", "email": "eng@example.com", "version": _version(page)})
    assert r.status_code == 409 and 'value="021-2222"' in r.text
    assert site.db.run(lambda s: s.scalar(select(Staff.phone).where(Staff.username == "eng"))) == "021-1111"
    assert eng.submit("/profile/contact", {"phone": "021-2222", "email": "eng@example.com",
                                           "version": _version(r.text)}).status_code == 303
