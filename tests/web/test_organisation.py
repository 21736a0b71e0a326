"""Staff, departments and positions (CORE-3) through HTTP."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from fuwu.models import Department, Position, Role, Staff

from .test_contracts import english, field_error, field_value, fields, selected, version_of

USERS = {
    "boss": ["admin"],
    "hr": (["administration"], "行政人事部"),
    "eng": (["engineer"], "售后服务部"),
    "nobody": ([], "售后服务部"),
}


def _id(site, model, **where):
    return site.db.run(lambda s: s.scalar(select(model.id).filter_by(**where)))


def _staff_data(**changes):
    data = {"code": "S100", "name": "欧阳娜", "department_id": "", "position_id": "", "email": "ouyang@example.com",
            "phone": "021-5555 0100", "hired_on": "2026-03-02", "probation_ends_on": "2026-06-01", "active": "on"}
    data.update(changes)
    return data


def test_staff_list_filters_and_export(web):
    site, app, browser = web(users=USERS)
    b = browser("eng")  # core.staff.view is enough to read
    r = b.get("/staff")
    assert r.status_code == 200 and "王芳" in r.text and "李强" in r.text
    finance = _id(site, Department, name="财务部")
    r = b.get("/staff", params={"department_id": finance})
    assert "赵敏" in r.text and "王芳" not in r.text
    assert "王芳" in b.get("/staff", params={"q": "wang.fang"}).text
    fragment = b.get("/staff", params={"q": "王"}, headers={"HX-Request": "true"})  # search as you type
    assert fragment.status_code == 200 and "<html" not in fragment.text and "王芳" in fragment.text
    site.db.run(lambda s: setattr(s.scalar(select(Staff).where(Staff.code == "S006")), "active", False))
    assert "孙丽" not in b.get("/staff").text
    assert "孙丽" in b.get("/staff", params={"status": "inactive"}).text
    assert "王芳" not in b.get("/staff", params={"status": "inactive"}).text
    assert "孙丽" in b.get("/staff", params={"status": "all"}).text

    r = b.get("/staff", params={"format": "csv"})
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code["S003"][1] == "王芳" and by_code["S003"][2] == "售后服务部"
    assert "S006" not in by_code  # the export follows the filters
    r = b.get("/staff", params={"format": "xlsx", "department_id": finance})
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["赵敏"]

    r = b.get("/departments")
    assert r.status_code == 200 and "售后服务部" in r.text and "财务部" in r.text
    assert "财务部" not in b.get("/departments", params={"kind": "after_sales"}).text
    rows = list(csv.reader(io.StringIO(b.get("/departments?format=csv").content.decode("utf-8-sig"))))
    members = {row[0]: row for row in rows[1:]}
    assert members["售后服务部"][3] == "王芳" and int(members["售后服务部"][4]) >= 5
    sheet = load_workbook(io.BytesIO(b.get("/positions?format=xlsx").content)).active
    assert "售后工程师" in [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "远程维护工程师" in b.get("/positions").text


def test_staff_create_invalid_then_valid(web):
    site, app, browser = web(users=USERS)
    b = english(browser("boss"))
    form = b.get("/staff/new")
    assert form.status_code == 200 and "field-roles" in form.text
    after_sales = _id(site, Department, name="售后服务部")
    engineer = _id(site, Role, key="engineer")
    r = b.submit("/staff/new", _staff_data(code="S003", hired_on="2026-03-02", probation_ends_on="2026-02-01",
                                           department_id=str(after_sales), roles=[str(engineer)]))
    assert r.status_code == 422
    assert "has this number" in field_error(r.text, "code")
    assert "before the hiring date" in field_error(r.text, "probation_ends_on")
    assert field_error(r.text, "name") == ""
    assert field_value(r.text, "name") == "欧阳娜" and field_value(r.text, "phone") == "021-5555 0100"
    assert selected(r.text, "department_id") == [str(after_sales)]
    assert selected(r.text, "roles") == [str(engineer)]

    r = b.submit("/staff/new", _staff_data(code="S003"), headers={"HX-Request": "true"})
    assert r.status_code == 422 and "<html" not in r.text and field_error(r.text, "code")
    r = b.submit("/staff/new", _staff_data(department_id=str(after_sales), roles=[str(engineer)]))
    assert r.status_code == 303
    page = b.get(r.headers["location"])
    assert page.status_code == 200 and "欧阳娜" in page.text and "售后服务部" in page.text
    assert "data-print" in page.text and 'class="signature"' in page.text
    new = site.db.run(lambda s: s.scalar(select(Staff).where(Staff.code == "S100")))
    assert [r.key for r in new.roles] == ["engineer"] and new.active
    assert "欧阳娜" in b.get("/staff").text
    assert "欧阳娜" in b.get(f"/departments/{after_sales}").text


def test_roles_field_only_for_role_managers(web):
    site, app, browser = web(users=USERS)
    hr = browser("hr")  # core.staff.edit without core.role.manage
    form = hr.get("/staff/new")
    assert form.status_code == 200 and "field-roles" not in form.text
    admin = _id(site, Role, key="admin")
    r = hr.submit("/staff/new", _staff_data(code="S101", roles=[str(admin)]))
    assert r.status_code == 303
    assert site.db.run(lambda s: s.scalar(select(Staff).where(Staff.code == "S101")).roles) == []
    li_qiang = _id(site, Staff, code="S004")
    page = hr.get(f"/staff/{li_qiang}/edit")
    data = {name: field_value(page.text, name) for name in ("code", "name", "email", "phone", "hired_on")}
    data["department_id"] = selected(page.text, "department_id")[0]
    r = hr.submit(f"/staff/{li_qiang}/edit", {**data, "active": "on", "version": version_of(page.text),
                                              "roles": [str(admin)]})
    assert r.status_code == 303
    assert site.db.run(lambda s: [r.key for r in s.get(Staff, li_qiang).roles]) == ["engineer"]
    assert 'id="account"' not in hr.get(f"/staff/{li_qiang}").text  # no account box either


def test_staff_stale_edit(web):
    site, app, browser = web(users=USERS)
    li_qiang = _id(site, Staff, code="S004")
    ours, theirs = english(browser("hr")), browser("boss")
    our_page, their_page = ours.get(f"/staff/{li_qiang}/edit"), theirs.get(f"/staff/{li_qiang}/edit")

    def data(page, **changes):
        values = {name: field_value(page.text, name) for name in
                  ("code", "name", "email", "phone", "hired_on", "probation_ends_on")}
        values.update(department_id=selected(page.text, "department_id")[0], active="on",
                      version=version_of(page.text), **changes)
        if "field-roles" in page.text:
            values["roles"] = selected(page.text, "roles")
        return values

    assert theirs.submit(f"/staff/{li_qiang}/edit", data(their_page, phone="13800000001")).status_code == 303
    r = ours.submit(f"/staff/{li_qiang}/edit", data(our_page, phone="13900000002"))
    assert r.status_code == 409
    conflict = re.search(r'<div class="conflict".*?</div>\s*</form>|<div class="conflict".*?Save again', r.text, re.S)
    assert "13800000001" in conflict.group(0)
    assert field_value(r.text, "phone") == "13900000002"
    assert site.db.run(lambda s: s.get(Staff, li_qiang).phone) == "13800000001"


def test_admin_cannot_deactivate_self_or_drop_own_admin_role(web):
    site, app, browser = web(users=USERS)
    b = english(browser("boss"))
    me = _id(site, Staff, username="boss")
    page = b.get(f"/staff/{me}/edit")
    base = {name: field_value(page.text, name) for name in ("code", "name", "email", "phone")}
    base["version"] = version_of(page.text)
    engineer, admin = _id(site, Role, key="engineer"), _id(site, Role, key="admin")
    r = b.submit(f"/staff/{me}/edit", {**base, "roles": [str(admin)]})  # "active" left unticked
    assert r.status_code == 422 and "deactivate your own account" in field_error(r.text, "active")
    r = b.submit(f"/staff/{me}/edit", {**base, "active": "on", "roles": [str(engineer)]})
    assert r.status_code == 422 and "your own administrator role" in field_error(r.text, "roles")
    mine = site.db.run(lambda s: s.get(Staff, me))
    assert mine.active and mine.is_admin
    r = b.submit(f"/staff/{me}/edit", {**base, "active": "on", "roles": [str(admin), str(engineer)]})
    assert r.status_code == 303
    assert b.get("/roles").status_code == 200


def test_departments(web):
    site, app, browser = web(users=USERS)
    b = english(browser("hr"))
    hq = _id(site, Department, name="总部服务发展部")
    manager = _id(site, Staff, code="S005")
    r = b.submit("/departments/new", {"name": "售后服务部", "kind": "bogus", "parent_id": str(hq)})
    assert r.status_code == 422
    assert "already exists" in field_error(r.text, "name")
    assert "Choose from the list" in field_error(r.text, "kind")
    assert selected(r.text, "parent_id") == [str(hq)]
    r = b.submit("/departments/new", {"name": "华东售后服务中心", "kind": "after_sales", "parent_id": str(hq),
                                      "manager_id": str(manager)})
    assert r.status_code == 303
    page = b.get(r.headers["location"])
    assert "华东售后服务中心" in page.text and "总部服务发展部" in page.text and "张伟" in page.text
    assert "华东售后服务中心" in b.get(f"/departments/{hq}").text  # listed as a sub-department
    new_id = _id(site, Department, name="华东售后服务中心")

    # a department cannot sit below itself or its own sub-department
    edit = b.get(f"/departments/{hq}/edit")
    assert f'<option value="{new_id}"' not in fields(edit.text)["parent_id"]
    r = b.submit(f"/departments/{hq}/edit", {"name": "总部服务发展部", "kind": "headquarters",
                                             "parent_id": str(new_id), "version": version_of(edit.text)})
    assert r.status_code == 422 and field_error(r.text, "parent_id")

    # stale edit
    ours, theirs = b.get(f"/departments/{new_id}/edit"), browser("boss").get(f"/departments/{new_id}/edit")
    boss = browser("boss")
    assert boss.submit(f"/departments/{new_id}/edit", {"name": "华东服务中心", "kind": "after_sales",
                                                       "version": version_of(theirs.text)}).status_code == 303
    r = b.submit(f"/departments/{new_id}/edit", {"name": "华东售后中心", "kind": "after_sales",
                                                 "version": version_of(ours.text)})
    assert r.status_code == 409
    assert "华东服务中心" in re.search(r'<div class="conflict".*?</dl>', r.text, re.S).group(0)
    assert field_value(r.text, "name") == "华东售后中心"


def test_positions(web):
    site, app, browser = web(users=USERS)
    b = english(browser("hr"))
    r = b.submit("/positions/new", {"name": "售后工程师", "grade": "senior"})
    assert r.status_code == 422 and "already exists with this grade" in field_error(r.text, "name")
    assert field_value(r.text, "name") == "售后工程师"
    r = b.submit("/positions/new", {"name": "售后工程师", "grade": "manager"})
    assert r.status_code == 303
    assert site.db.run(lambda s: s.scalar(select(Position).filter_by(name="售后工程师", grade="manager"))) is not None
    trainer = _id(site, Position, name="培训师")
    page = b.get(f"/positions/{trainer}/edit")
    r = b.submit(f"/positions/{trainer}/edit", {"name": "高级培训师", "grade": "senior",
                                                "version": version_of(page.text)})
    assert r.status_code == 303 and "高级培训师" in b.get("/positions").text
    r = b.submit(f"/positions/{trainer}/edit", {"name": "培训讲师", "grade": "senior",
                                                "version": version_of(page.text)})
    assert r.status_code == 409 and "高级培训师" in r.text and field_value(r.text, "name") == "培训讲师"


def test_permissions(web):
    site, app, browser = web(users=USERS)
    eng, nobody = browser("eng"), browser("nobody")
    li_qiang = _id(site, Staff, code="S004")
    dept = _id(site, Department, name="财务部")
    position = _id(site, Position, name="培训师")
    for path in ("/staff", f"/staff/{li_qiang}", "/departments", f"/departments/{dept}", "/positions"):
        assert eng.get(path).status_code == 200, path
        assert nobody.get(path).status_code == 403, path
    for path in ("/staff/new", f"/staff/{li_qiang}/edit", "/departments/new", f"/departments/{dept}/edit",
                 "/positions/new", f"/positions/{position}/edit"):
        assert eng.get(path).status_code == 403, path
        assert eng.submit(path, {"name": "x", "version": "1"}).status_code == 403, path
    assert site.db.run(lambda s: s.get(Staff, li_qiang).name) == "李强"
    assert eng.get("/staff/999999").status_code == 404
    assert eng.get("/departments/999999").status_code == 404


def test_forms_name_people_and_things_apart_and_tick_a_few_choices(web):
    """A person's name is 姓名 and a department's 名称; a field of a few
    choices (a staff member's roles) is a row of checkboxes showing the ticked ones."""
    site, app, browser = web(users=USERS)
    boss = browser("boss")
    zh = {"Accept-Language": "zh-CN"}
    li_qiang = _id(site, Staff, code="S004")
    staff = boss.get(f"/staff/{li_qiang}/edit", headers=zh).text
    assert '<label for="f-name">姓名' in staff
    assert '<label for="f-name">名称' in boss.get("/departments/new", headers=zh).text
    roles = re.search(r'<fieldset class="choices" id="f-roles">(.*?)</fieldset>', staff, re.S).group(1)
    ticked = re.findall(r'checked> (\S+)</label>', roles)
    assert ticked == ["服务工程师"] and roles.count('type="checkbox"') == site.db.run(
        lambda s: len(s.scalars(select(Role)).all()))
