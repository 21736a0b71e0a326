"""Roles, the permission grid, members and user accounts (CORE-3) through HTTP."""

from __future__ import annotations

import csv
import re
from io import BytesIO, StringIO

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.support import Translations
from openpyxl import load_workbook
from sqlalchemy import select

from fuwu.models import Role, RolePermission, Staff
from fuwu.seed import sync_roles
from fuwu.web.sessions import COOKIE

from ..conftest import PASSWORD, another_process
from .test_contracts import english, field_error, field_value

USERS = {
    "boss": ["admin"],
    "mgr": (["service_manager"], "售后服务部"),
    "eng": (["engineer"], "售后服务部"),
}


def _role_id(site, key):
    return site.db.run(lambda s: s.scalar(select(Role.id).where(Role.key == key)))


def _staff_id(site, username):
    return site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == username)))


def _checked(page: str) -> set[str]:
    return set(re.findall(r'name="permission" value="([a-z_.]+)" checked', page))


def _grant_row(site, role_key, permission):
    def work(s):
        role = s.scalar(select(Role).where(Role.key == role_key))
        return s.scalar(select(RolePermission).where(RolePermission.role_id == role.id,
                                                     RolePermission.permission == permission))

    return site.db.run(work)


def _save_grid(browser, role_id, permissions, version=None):
    page = browser.get(f"/roles/{role_id}")
    version = version or re.search(r'name="version" value="(\d+)"', page.text).group(1)
    return browser.submit(f"/roles/{role_id}/permissions", {"permission": sorted(permissions), "version": version})


def _menu(page: str) -> list[tuple[str, str]]:
    """The navigation's (link, label) pairs."""
    nav = page.split('<nav class="sidebar"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<li><a href="([^"]+)"[^>]*>([^<]+)</a>', nav)


def test_the_menu_follows_a_change_of_grants_and_of_language_at_once(web):
    """The app remembers each menu per language and set of grants: a grant
    taken away, or another language chosen, shows on the very next page."""
    site, app, browser = web(users=USERS)
    boss, eng, mgr = browser("boss"), browser("eng"), browser("mgr")
    assert ("/contracts", "Contracts") in _menu(eng.get("/customers").text)
    assert ("/roles", "Roles") in _menu(boss.get("/customers").text)
    assert ("/roles", "Roles") not in _menu(eng.get("/customers").text)  # the admin's menu is not anyone's
    before = _menu(mgr.get("/customers").text)

    engineer = _role_id(site, "engineer")
    granted = _checked(boss.get(f"/roles/{engineer}").text)
    assert _save_grid(boss, engineer, granted - {"core.contract.view"}).status_code == 303
    links = [url for url, _label in _menu(eng.get("/customers").text)]
    assert "/customers" in links and "/contracts" not in links
    assert _menu(mgr.get("/customers").text) == before  # another role's menu is as it was

    assert eng.submit("/profile/language", {"language": "zh_Hant"}).status_code == 303
    assert ("/customers", "客戶") in _menu(eng.get("/customers").text)
    assert ("/customers", "Customers") in _menu(mgr.get("/customers").text)


def test_grant_and_revoke_change_what_a_user_can_open(web):
    site, app, browser = web(users=USERS)
    boss, eng = browser("boss"), browser("eng")
    engineer = _role_id(site, "engineer")
    assert eng.get("/contracts").status_code == 200
    assert eng.get("/contracts/new").status_code == 403

    granted = _checked(boss.get(f"/roles/{engineer}").text)
    assert granted == {"core.customer.view", "core.contract.view", "core.staff.view"}
    r = _save_grid(boss, engineer, granted - {"core.contract.view"} | {"core.contract.edit"})
    assert r.status_code == 303
    assert eng.get("/contracts").status_code == 403
    assert eng.get("/contracts/new").status_code == 200  # the new grant works at once
    row = _grant_row(site, "engineer", "core.contract.view")
    assert row is not None and row.revoked  # the seeded grant is kept, marked revoked

    # an upgrade re-runs the seeding: the revoked grant stays revoked
    site.db.run(lambda s: sync_roles(site, s))
    assert _grant_row(site, "engineer", "core.contract.view").revoked
    assert eng.get("/contracts").status_code == 403
    assert "core.contract.view" not in _checked(boss.get(f"/roles/{engineer}").text)

    # granting again clears the mark
    assert _save_grid(boss, engineer, granted).status_code == 303
    assert _grant_row(site, "engineer", "core.contract.view").revoked is False
    assert _grant_row(site, "engineer", "core.contract.edit").revoked  # taken away again
    assert eng.get("/contracts").status_code == 200
    assert eng.get("/contracts/new").status_code == 403


def test_stale_permission_grid(web):
    site, app, browser = web(users={**USERS, "boss2": ["admin"]})
    ours, theirs = english(browser("boss")), browser("boss2")
    engineer = _role_id(site, "engineer")
    stale = re.search(r'name="version" value="(\d+)"', ours.get(f"/roles/{engineer}").text).group(1)
    base = {"core.customer.view", "core.contract.view", "core.staff.view"}
    assert _save_grid(theirs, engineer, base | {"core.audit.view"}).status_code == 303
    r = _save_grid(ours, engineer, base | {"core.customer.edit"}, version=stale)
    assert r.status_code == 409
    assert "View the audit log" in re.search(r'<div class="conflict".*?</ul>', r.text, re.S).group(0)
    assert _checked(r.text) == base | {"core.customer.edit"}  # our choice is kept
    granted = site.db.run(lambda s: s.scalar(select(Role).where(Role.key == "engineer")).permission_names)
    assert "core.audit.view" in granted and "core.customer.edit" not in granted


def test_create_and_edit_roles(web):
    site, app, browser = web(users=USERS)
    b = english(browser("boss"))
    assert "Service engineer" in b.get("/roles").text
    r = b.submit("/roles/new", {"key": "Night Shift", "name": "夜班", "description": "夜间值班"})
    assert r.status_code == 422 and "lowercase" in field_error(r.text, "key")
    assert field_value(r.text, "name") == "夜班" and field_value(r.text, "description") == "夜间值班"
    r = b.submit("/roles/new", {"key": "engineer", "name": "夜班"})
    assert r.status_code == 422 and "has this key" in field_error(r.text, "key")
    r = b.submit("/roles/new", {"key": "night_shift_2", "name": "夜班"})
    assert r.status_code == 303
    role_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert "夜班" in b.get("/roles").text
    assert _checked(b.get(f"/roles/{role_id}").text) == set()

    first = b.get(f"/roles/{role_id}/edit")
    version = re.search(r'name="version" value="(\d+)"', first.text).group(1)
    assert b.submit(f"/roles/{role_id}/edit", {"name": "夜间值班组", "version": version}).status_code == 303
    r = b.submit(f"/roles/{role_id}/edit", {"name": "夜班小组", "version": version})
    assert r.status_code == 409 and "夜间值班组" in r.text and field_value(r.text, "name") == "夜班小组"


def test_builtin_role_names_are_shown_in_the_readers_language(web):
    site, app, browser = web(users=USERS)
    catalog = Catalog(locale="zh_Hans")
    catalog.add("Service engineer", "售后服务工程师")
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    site.catalogs._cache["zh_Hans"] = Translations(buf)  # as if the lead had translated the msgid
    b = browser("boss")
    b.cookies.set("fuwu_lang", "zh_Hans")
    engineer = _role_id(site, "engineer")
    assert "售后服务工程师" in b.get("/roles").text
    assert "售后服务工程师" in b.get(f"/roles/{engineer}").text
    assert "售后服务工程师" in b.get(f"/staff/{_staff_id(site, 'eng')}").text
    # stored untranslated, so an English reader sees English
    assert site.db.run(lambda s: s.get(Role, engineer).name) == "Service engineer"
    assert "Service engineer" in english(b).get("/roles").text


def test_the_role_list_exports_as_the_reader_sees_it(web):
    site, app, browser = web(users=USERS)
    b = browser("boss")
    b.cookies.set("fuwu_lang", "zh_Hans")
    page = b.get("/roles").text
    assert "?format=csv" in page and "?format=xlsx" in page
    rows = list(csv.reader(StringIO(b.get("/roles?format=csv").content.decode("utf-8-sig"))))
    assert rows[0] == ["名称", "标识", "说明", "成员", "权限"]
    by_key = {row[1]: row for row in rows[1:]}
    assert by_key["admin"][4] == "全部" and int(by_key["admin"][3]) >= 1
    assert int(by_key["engineer"][4]) >= 1 and by_key["engineer"][0] != "Service engineer"
    sheet = load_workbook(BytesIO(b.get("/roles?format=xlsx").content)).active
    assert sorted(row[1] for row in sheet.iter_rows(min_row=2, values_only=True)) == sorted(by_key)
    assert browser("eng").get("/roles?format=csv").status_code == 403


def test_members_and_own_admin_role(web):
    site, app, browser = web(users=USERS)
    b = english(browser("boss"))
    eng = browser("eng")
    sales, admin = _role_id(site, "sales"), _role_id(site, "admin")
    eng_id, me = _staff_id(site, "eng"), _staff_id(site, "boss")
    assert eng.get("/contracts/new").status_code == 403
    assert b.submit(f"/roles/{sales}/members", {"staff_id": str(eng_id)}).status_code == 303
    assert eng.get("/contracts/new").status_code == 200
    assert ">eng</a>" in b.get(f"/roles/{sales}").text
    assert b.submit(f"/roles/{sales}/members/{eng_id}/remove").status_code == 303
    assert eng.get("/contracts/new").status_code == 403
    r = b.submit(f"/roles/{admin}/members", {"staff_id": "nonsense"})
    assert r.status_code == 422

    r = b.submit(f"/roles/{admin}/members/{me}/remove")
    assert r.status_code == 422 and "your own administrator role" in r.text
    assert site.db.run(lambda s: s.get(Staff, me).is_admin)
    # another administrator may take it away
    assert b.submit(f"/roles/{admin}/members", {"staff_id": str(eng_id)}).status_code == 303
    assert eng.get("/roles").status_code == 200
    assert b.submit(f"/roles/{admin}/members/{eng_id}/remove").status_code == 303
    assert eng.get("/roles").status_code == 403


def test_accounts(web):
    site, app, browser = web(users=USERS)
    b = english(browser("boss"))
    eng = browser("eng")
    eng_id, me = _staff_id(site, "eng"), _staff_id(site, "boss")
    page = b.get(f"/staff/{eng_id}")
    assert 'id="account"' in page.text and field_value(page.text, "username") == "eng"

    r = b.submit(f"/staff/{eng_id}/account", {"username": "MGR"})
    assert r.status_code == 422 and "has this username" in field_error(r.text, "username")
    r = b.submit(f"/staff/{eng_id}/account", {"username": "li si"})
    assert r.status_code == 422 and field_error(r.text, "username") and field_value(r.text, "username") == "li si"
    assert b.submit(f"/staff/{eng_id}/account", {"username": "li.si"}).status_code == 303

    r = b.submit(f"/staff/{eng_id}/password", {"password": "short", "password_again": "short"})
    assert r.status_code == 422 and "At least 8" in field_error(r.text, "password")
    assert 'value="short"' not in r.text  # a password is never sent back
    r = b.submit(f"/staff/{eng_id}/password", {"password": "a new secret 1", "password_again": "a new secret 2"})
    assert r.status_code == 422 and field_error(r.text, "password_again")
    assert eng.get("/contracts").status_code == 200  # still signed in
    r = b.submit(f"/staff/{eng_id}/password", {"password": "a new secret 1", "password_again": "a new secret 1"})
    assert r.status_code == 303
    assert eng.get("/contracts").status_code == 303  # setting a password signed them out
    assert browser().login("li.si", PASSWORD).status_code == 400
    again = browser()
    assert again.login("li.si", "a new secret 1").status_code == 303

    assert again.get("/contracts").status_code == 200
    assert b.submit(f"/staff/{eng_id}/sessions/revoke").status_code == 303
    assert again.get("/contracts").status_code == 303

    again = browser()
    assert again.login("li.si", "a new secret 1").status_code == 303
    assert b.submit(f"/staff/{eng_id}/activation", {"active": "0"}).status_code == 303
    assert again.get("/contracts").status_code == 303
    assert browser().login("li.si", "a new secret 1").status_code == 400
    assert "Deactivated" in b.get(f"/staff/{eng_id}").text
    assert b.submit(f"/staff/{eng_id}/activation", {"active": "1"}).status_code == 303
    assert browser().login("li.si", "a new secret 1").status_code == 303
    assert again.get("/contracts").status_code == 303  # reactivation does not revive old sessions

    r = b.submit(f"/staff/{me}/activation", {"active": "0"})
    assert r.status_code == 422 and "deactivate your own account" in r.text
    assert site.db.run(lambda s: s.get(Staff, me).active)
    # your own sessions: the others go, the one in use stays
    other = browser("boss")
    assert b.submit(f"/staff/{me}/sessions/revoke").status_code == 303
    assert other.get("/roles").status_code == 303 and b.get("/roles").status_code == 200


def test_role_pages_need_role_manage(web):
    site, app, browser = web(users=USERS)
    mgr = browser("mgr")
    engineer, eng_id = _role_id(site, "engineer"), _staff_id(site, "eng")
    for path in ("/roles", f"/roles/{engineer}", "/roles/new", f"/roles/{engineer}/edit"):
        assert mgr.get(path).status_code == 403, path
    for path, data in [(f"/roles/{engineer}/permissions", {"permission": ["core.role.manage"], "version": "1"}),
                       ("/roles/new", {"key": "x", "name": "x"}),
                       (f"/roles/{engineer}/members", {"staff_id": str(_staff_id(site, "mgr"))}),
                       (f"/staff/{eng_id}/password", {"password": "12345678x", "password_again": "12345678x"}),
                       (f"/staff/{eng_id}/account", {"username": "hijack"}),
                       (f"/staff/{eng_id}/activation", {"active": "0"}),
                       (f"/staff/{eng_id}/sessions/revoke", {})]:
        assert mgr.submit(path, data).status_code == 403, path
    assert "core.role.manage" not in site.db.run(
        lambda s: s.scalar(select(Role).where(Role.key == "engineer")).permission_names)
    staff_page = mgr.get(f"/staff/{eng_id}")
    assert staff_page.status_code == 200 and 'id="account"' not in staff_page.text
    assert browser("eng").get("/contracts").status_code == 200


def test_a_revoked_grant_applies_at_once_in_another_app_process(web):
    site, app, browser = web(users=USERS)
    boss, eng = browser("boss"), browser("eng")
    with another_process(site, eng.cookies[COOKIE]) as other:
        assert other.get("/contracts").status_code == 200
        assert other.get("/contracts").status_code == 200  # the sign-in is now cached over there
        engineer = _role_id(site, "engineer")
        granted = _checked(boss.get(f"/roles/{engineer}").text)
        assert _save_grid(boss, engineer, granted - {"core.contract.view"}).status_code == 303
        assert other.get("/contracts").status_code == 403
        assert _save_grid(boss, engineer, granted).status_code == 303
        assert other.get("/contracts").status_code == 200
