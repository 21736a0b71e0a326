"""Staff import through HTTP: dry run then confirm, roles and usernames only from
a role manager, numbers and usernames new, links to set the password by e-mail."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from fuwu.models import Position, Staff
from fuwu.notifications import OutboxMail

HEADER = "工号,姓名,部门,岗位,邮箱,电话,入职日期,用户名,角色\n"
USERS = {"boss": (["admin"], "总部"), "hr": (["administration"], "行政部"), "eng": (["engineer"], "客服部")}


def _count(site) -> int:
    return site.db.run(lambda s: s.scalar(select(func.count()).select_from(Staff)))


def _upload(b, name, content, **kw):
    token = b.csrf("/staff/import")
    return b.post("/staff/import", data={"csrf_token": token}, files={"file": (name, content)}, **kw)


def _confirm(b, page, **data):
    action = re.search(r'action="(/staff/import/\d+)"', page).group(1)
    return b.post(action, data={"csrf_token": b.csrf("/staff/import"), **data})


def _person(site, code) -> Staff | None:
    return site.db.run(lambda s: s.scalar(select(Staff).where(Staff.code == code)))


def test_a_role_manager_imports_staff_with_accounts_and_mails_them_links(web):
    site, _app, browser = web(demo=False, users=USERS)
    site.db.run(lambda s: s.add(Position(name="售后工程师", grade="mid")))
    csv = (HEADER + "S101,张伟,客服部,售后工程师,zhang.wei@example.com,138 0000 0001,2026-03-02,zhang.wei,服务工程师\n"
           "S102,赵敏,客服部,,,,2026/3/9,zhao.min,\"服务工程师、培训讲师\"\n"
           "S103,钱多多,行政部,,qian@example.com,,,,\n").encode("utf-8-sig")
    b = browser("boss")
    r = _upload(b, "员工.csv", csv, headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200 and 'id="import-preview"' in r.text and "导入 3 名员工" in r.text
    assert "培训讲师和服务工程师" in r.text or "服务工程师和培训讲师" in r.text
    assert _count(site) == 3  # the three signed-in users only: a dry run writes nothing
    assert _confirm(b, r.text, send_links="on").status_code == 303
    listing = b.get("/staff").text
    assert "3 staff imported from 员工.csv." in listing and "1 of them were e-mailed" in listing
    zhang = _person(site, "S101")
    roles = site.db.run(lambda s: sorted(r.key for r in s.scalar(select(Staff).where(Staff.code == "S102")).roles))
    assert (zhang.username, zhang.phone, str(zhang.hired_on)) == ("zhang.wei", "138 0000 0001", "2026-03-02")
    assert roles == ["engineer", "trainer"]
    assert _person(site, "S103").username is None
    mails = site.db.run(lambda s: [m.to_addr for m in s.scalars(select(OutboxMail))])
    assert mails == ["zhang.wei@example.com"]  # 赵敏 has no address, 钱多多 no username


def test_problems_name_row_and_column_and_nothing_is_imported(web):
    site, _app, browser = web(demo=False, users=USERS)
    csv = (HEADER + "S201,好人,,,,,,,\n"
           "boss,重号,,,,,,,\n"
           "S203,,客服部,不存在岗位,not-an-address,,2026-02-30,boss,\n"
           "S204,同名账号,,,,,,BOSS,不存在角色\n"
           "S201,又一个,,,,,,bad name!,\n").encode()
    r = _upload(browser("boss"), "bad.csv", csv)
    assert r.status_code == 422 and 'id="import-confirm"' not in r.text
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", r.text)
    columns = {(row, column) for row, column, _message in rows}
    assert ("3", "Staff number") in columns  # "boss" is the admin's staff number
    assert {("4", "Full name"), ("4", "Position"), ("4", "E-mail"), ("4", "Hired on"), ("4", "Username")} <= columns
    assert {("5", "Username"), ("5", "Roles")} <= columns
    assert ("6", "Staff number", "S201 is also on row 2 of this file.") in rows
    assert ("6", "Username") in columns
    assert not any(row == "2" for row, _c, _m in rows)
    assert _count(site) == 3


def test_without_account_rights_usernames_and_roles_are_refused(web):
    site, _app, browser = web(demo=False, users=USERS)
    hr = browser("hr")
    assert 'href="/staff/import"' in hr.get("/staff").text
    r = _upload(hr, "a.csv", (HEADER + "S301,孙丽,行政部,,,,,sun.li,财务\n").encode())
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", r.text)
    assert [(row, column) for row, column, _m in rows] == [("2", "Username"), ("2", "Roles")]
    ok = _upload(hr, "b.csv", (HEADER + "S301,孙丽,行政部,,,,,,\n").encode())
    assert 'name="send_links"' not in ok.text
    assert _confirm(hr, ok.text, send_links="on").status_code == 303
    assert _person(site, "S301").username is None
    assert site.db.run(lambda s: s.scalar(select(func.count()).select_from(OutboxMail))) == 0


def test_staff_import_needs_its_permission_and_the_template_reads_back(web):
    from openpyxl import Workbook, load_workbook

    site, _app, browser = web(demo=False, users=USERS)
    eng = browser("eng")
    assert eng.get("/staff/import").status_code == 403
    assert 'href="/staff/import"' not in eng.get("/staff").text
    b = browser("boss")
    template = b.get("/staff/import/template?format=xlsx", headers={"Accept-Language": "zh-TW"})
    header = [c.value for c in next(load_workbook(io.BytesIO(template.content)).active.iter_rows())]
    assert header[:2] == ["員工編號", "姓名"]
    book = Workbook()
    book.active.append(header)
    book.active.append(["S401", "周杰", None, None, None, 13800000002, None, None, None])
    out = io.BytesIO()
    book.save(out)
    r = _upload(b, "staff.xlsx", out.getvalue())
    assert r.status_code == 200
    assert _confirm(eng, r.text).status_code == 403
    assert _confirm(b, r.text).status_code == 303
    assert _person(site, "S401").phone == "13800000002"


def test_asked_to_update_a_known_staff_number_updates_that_person_with_the_cells_it_fills(web):
    site, _app, browser = web(demo=False, users=USERS)
    site.db.run(lambda s: s.add(Staff(code="S200", name="孙丽", email="sun.li@example.com", phone="010-1111",
                                      username="sun.li")))
    b = browser("boss")
    csv = (HEADER + "S200,孙丽,客服部,,,139 0000 0200,,,服务工程师\n"
           "S201,周杰,客服部,,,,,,\n").encode("utf-8-sig")
    # without the box ticked a known number is refused, as before
    plain = _upload(b, "员工.csv", csv)
    assert "Another member of staff has this number." in plain.text and 'id="import-preview"' not in plain.text
    token = b.csrf("/staff/import")
    r = b.post("/staff/import", data={"csrf_token": token, "update_existing": "on"},
               files={"file": ("员工.csv", csv)})
    assert r.status_code == 200 and 'id="import-preview"' in r.text
    assert r.text.count('<span class="tag warn">Update</span>') == 1 and "Import or update 2 staff" in r.text
    assert _confirm(b, r.text, update_existing="on").status_code == 303
    assert "1 staff imported and 1 updated from 员工.csv." in b.get("/staff").text
    sun = _person(site, "S200")
    department = site.db.run(lambda s: s.scalar(select(Staff).where(Staff.code == "S200")).department.name)
    roles = site.db.run(lambda s: [r.key for r in s.scalar(select(Staff).where(Staff.code == "S200")).roles])
    # the cells filled are written; the empty ones (e-mail, username) keep what was there
    assert (sun.phone, sun.email, sun.username, department, roles) == (
        "139 0000 0200", "sun.li@example.com", "sun.li", "客服部", ["engineer"])
    assert _person(site, "S201") is not None

    # an update may not take another person's username, nor give roles without the right to
    clash = (HEADER + "S201,周杰,,,,,,sun.li,\n").encode("utf-8-sig")
    r = b.post("/staff/import", data={"csrf_token": b.csrf("/staff/import"), "update_existing": "on"},
               files={"file": ("改名.csv", clash)})
    assert "Another account has this username." in r.text
    hr = browser("hr")
    r = hr.post("/staff/import", data={"csrf_token": hr.csrf("/staff/import"), "update_existing": "on"},
                files={"file": ("角色.csv", (HEADER + "S200,孙丽,,,,,,,管理员\n").encode("utf-8-sig"))})
    assert "Only someone who manages user accounts may give usernames and roles." in r.text
