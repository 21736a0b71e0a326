"""Customer import through HTTP: dry run then confirm, GBK and XLSX files, the
form's checks per row and column, all or nothing, permission and record rule."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from fuwu.models import Customer, Department, Role, RolePermission, Staff

HEADER = "公司名称,客户类型,区域,办事处,地址,电话,负责部门,业务员,备注\n"
USERS = {"coord": (["coordinator"], "客服部"), "mgr": (["service_manager"], "客服部"),
         "sales1": (["sales"], "销售部"), "eng": (["engineer"], "客服部")}


def _count(site) -> int:
    return site.db.run(lambda s: s.scalar(select(func.count()).select_from(Customer)))


def _upload(b, name, content, **kw):
    token = b.csrf("/customers/import")
    return b.post("/customers/import", data={"csrf_token": token}, files={"file": (name, content)}, **kw)


def _confirm(b, page, **kw):
    action = re.search(r'action="(/customers/import/\d+)"', page).group(1)
    return b.post(action, data={"csrf_token": b.csrf("/customers/import")}, **kw)


def _customer(site, name) -> Customer:
    return site.db.run(lambda s: s.scalar(select(Customer).where(Customer.name == name)))


def test_a_gbk_csv_is_checked_then_imported_with_its_defaults(web):
    site, _app, browser = web(demo=False, users=USERS)
    csv = (HEADER + "杭州新元软件有限公司,大客户（月结）,华东,杭州办事处,杭州市滨江区长江路 1 号,0571-88886666,,sales1,老客户\n"
           "苏州零散机械厂,,华东,,,,销售部,,\n").encode("gbk")  # as Excel saves CSV on Chinese Windows
    b = browser("coord")
    r = _upload(b, "客户.csv", csv)
    assert r.status_code == 200 and 'id="import-preview"' in r.text
    assert "杭州新元软件有限公司" in r.text and "Import 2 customers" in r.text
    assert _count(site) == 0  # a dry run writes nothing

    dry = r.text
    r = _confirm(b, dry)
    assert r.status_code == 303 and r.headers["location"] == "/customers"
    listing = b.get("/customers").text
    assert "2 customers imported from 客户.csv." in listing and "苏州零散机械厂" in listing
    key = _customer(site, "杭州新元软件有限公司")
    retail = _customer(site, "苏州零散机械厂")
    names = site.db.run(lambda s: {d.id: d.name for d in s.scalars(select(Department))}
                        | {("staff", p.id): p.username for p in s.scalars(select(Staff))})
    assert (key.account_type, key.phone, key.office, key.notes) == ("key", "0571-88886666", "杭州办事处", "老客户")
    assert names[key.department_id] == "客服部"  # no department given: the importer's own
    assert names[("staff", key.sales_staff_id)] == "sales1"
    assert retail.account_type == "retail" and names[retail.department_id] == "销售部"
    detail = b.get(f"/customers/{key.id}").text
    assert "Customer record imported by coord from 客户.csv" in detail
    # the same dry run cannot be confirmed twice
    assert _confirm(b, dry).status_code == 404 and _count(site) == 2


def test_one_bad_row_imports_nothing_and_each_problem_names_row_and_column(web):
    site, _app, browser = web(demo=False, users=USERS)
    site.db.run(lambda s: s.add(Customer(name="已有客户有限公司")))
    site.db.run(lambda s: s.add_all([Staff(code="w1", name="王伟", active=True), Staff(code="w2", name="王伟")]))
    csv = (HEADER + "好客户有限公司,零散客户,华东,,,0571-1234,,,\n"
           "已有客户有限公司,,,,,,,,\n"
           "重复客户,,,,,,,,\n"
           "重复客户,大客户,,,,call me,,,\n"
           "第五行客户,VIP,,,,,不存在部,王伟,\n"
           "第六行客户,,,,,,,nobody,\n"
           ",,华东,,,,,,\n").encode("utf-8-sig")
    b = browser("coord")
    r = _upload(b, "bad.csv", csv)
    assert r.status_code == 422 and 'id="import-errors"' in r.text and 'id="import-confirm"' not in r.text
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", r.text)
    assert ("3", "Company name", "A customer with this name already exists.") in rows
    assert ("5", "Company name", "重复客户 is also on row 4 of this file.") in rows
    assert ("5", "Phone", "Enter a phone number (digits, spaces, + - and brackets).") in rows
    assert any(row[:2] == ("6", "Account type") and "VIP" in row[2] for row in rows)
    assert ("6", "Responsible department", "No department named 不存在部.") in rows
    assert ("6", "Salesperson", "Several staff members are called 王伟: give the username.") in rows
    assert ("7", "Salesperson", "No active staff member named nobody.") in rows
    assert ("8", "Company name", "This field is required.") in rows
    assert not any(row[0] == "2" for row in rows)  # the good row has no problem
    assert _count(site) == 1  # nothing imported, the good row neither
    zh = _upload(b, "bad.csv", csv, headers={"Accept-Language": "zh-CN"})
    assert "没有导入任何数据" in zh.text or "未导入" in zh.text
    assert "<td>6</td><td>负责部门</td>" in zh.text


def test_the_file_itself_is_refused_with_a_reason(web):
    site, _app, browser = web(demo=False, users=USERS, settings={"core.import_max_kb": 16})
    b = browser("coord")
    assert "Upload a CSV (UTF-8 or GBK) or XLSX file." in _upload(b, "list.pdf", b"%PDF-1.4").text
    big = _upload(b, "big.csv", (HEADER + "x" * 20_000 + "\n").encode())
    assert big.status_code == 422 and "the limit is 16 KB" in big.text
    header = _upload(b, "h.csv", "公司,颜色\nA,红\n".encode())
    assert "missing: Company name" not in header.text and "not recognised: 颜色" in header.text
    no_name = _upload(b, "n.csv", "地址,电话\n杭州,0571-1\n".encode())
    assert "missing: Company name" in no_name.text
    assert _upload(b, "empty.csv", b"").status_code == 422
    assert b.post("/customers/import", data={"csrf_token": b.csrf("/customers/import")}).status_code == 422
    assert _count(site) == 0


def test_the_xlsx_template_comes_back_filled_in(web):
    from openpyxl import Workbook, load_workbook

    site, _app, browser = web(demo=False, users=USERS)
    b = browser("coord")
    template = b.get("/customers/import/template?format=xlsx", headers={"Accept-Language": "zh-CN"})
    assert template.status_code == 200
    header = [c.value for c in next(load_workbook(io.BytesIO(template.content)).active.iter_rows())]
    assert header[:3] == ["公司名称", "客户类型", "区域"] and "业务员" in header
    book = Workbook()
    book.active.append(header)
    book.active.append(["厦门海纳贸易有限公司", "零散客户", "华东", None, None, 5922345678, None, None, None])
    out = io.BytesIO()
    book.save(out)
    r = _upload(b, "客户.xlsx", out.getvalue(), headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200 and "导入 1 个客户" in r.text
    assert _confirm(b, r.text).status_code == 303
    assert _customer(site, "厦门海纳贸易有限公司").phone == "5922345678"  # a number cell, not "5922345678.0"


def test_a_name_taken_between_dry_run_and_confirm_imports_nothing(web):
    site, _app, browser = web(demo=False, users=USERS)
    b = browser("coord")
    dry = _upload(b, "a.csv", (HEADER + "甲公司,,,,,,,,\n乙公司,,,,,,,,\n").encode()).text
    site.db.run(lambda s: s.add(Customer(name="乙公司")))  # a colleague was quicker
    r = _confirm(b, dry)
    assert r.status_code == 422 and "A customer with this name already exists." in r.text
    assert _customer(site, "甲公司") is None and _count(site) == 1


def test_import_needs_its_permission_and_a_file_is_its_uploaders(web):
    site, _app, browser = web(demo=False, users=USERS)
    eng = browser("eng")
    assert eng.get("/customers/import").status_code == 403
    assert eng.get("/customers/import/template").status_code == 403
    assert 'href="/customers/import"' not in eng.get("/customers").text
    assert 'href="/customers/import"' in browser("mgr").get("/customers").text
    dry = _upload(browser("coord"), "a.csv", (HEADER + "甲公司,,,,,,,,\n").encode()).text
    mgr = browser("mgr")  # may import too, but not a colleague's upload
    assert _confirm(mgr, dry).status_code == 404
    assert _confirm(eng, dry).status_code == 403
    assert _count(site) == 0


def test_someone_seeing_only_their_department_imports_only_customers_they_will_see(web):
    site, _app, browser = web(demo=False, users={**USERS, "clerk": ([], "客服部")})

    def grant(s):
        role = Role(key="importer", name="Importer", permissions=[
            RolePermission(permission=p) for p in ("core.customer.view", "core.customer.edit",
                                                   "core.customer.import")])
        clerk = s.scalar(select(Staff).where(Staff.username == "clerk"))
        clerk.roles.append(role)

    site.db.run(grant)
    b = browser("clerk")
    csv = (HEADER + "本部客户,,,,,,,,\n别部客户,,,,,,销售部,,\n自己卖的客户,,,,,,销售部,clerk,\n").encode()
    r = _upload(b, "a.csv", csv)
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", r.text)
    assert [row[:2] for row in rows] == [("3", "Responsible department")] and "客服部" in rows[0][2]
    ok = _upload(b, "b.csv", (HEADER + "本部客户,,,,,,,,\n自己卖的客户,,,,,,销售部,clerk,\n").encode())
    assert _confirm(b, ok.text).status_code == 303
    listing = b.get("/customers").text
    assert "本部客户" in listing and "自己卖的客户" in listing


def test_an_updated_list_updates_the_customers_it_names_and_adds_the_others(web):
    site, _app, browser = web(demo=False, users=USERS)
    b = browser("coord")
    first = (HEADER + "杭州新元软件有限公司,大客户,华东,杭州办事处,杭州市滨江区长江路 1 号,0571-88886666,,sales1,老客户\n").encode()
    assert _confirm(b, _upload(b, "客户.csv", first).text).status_code == 303
    site.db.run(lambda s: s.add(Customer(name="销售部的客户", department_id=s.scalar(
        select(Department.id).where(Department.name == "销售部")))))

    # the same name without the option: refused, as before
    again = (HEADER + "杭州新元软件有限公司,,,,,0571-99990000,,,\n"
             "宁波新客户有限公司,,华东,,,,,,\n").encode()
    refused = _upload(b, "客户.csv", again)
    assert refused.status_code == 422 and "A customer with this name already exists." in refused.text

    token = b.csrf("/customers/import")
    dry = b.post("/customers/import", data={"csrf_token": token, "update_existing": "on"},
                 files={"file": ("客户.csv", again)})
    assert dry.status_code == 200 and "Import or update 2 customers" in dry.text
    assert re.search(r"Update</span></td><td>杭州新元软件有限公司</td>", dry.text)
    assert re.search(r"New</span></td><td>宁波新客户有限公司</td>", dry.text)
    assert 'name="update_existing" value="on"' in dry.text  # the confirmation keeps the choice
    action = re.search(r'action="(/customers/import/\d+)"', dry.text).group(1)
    done = b.post(action, data={"csrf_token": b.csrf("/customers/import"), "update_existing": "on"})
    assert done.status_code == 303
    assert "1 customers imported and 1 updated from 客户.csv." in b.get("/customers").text
    updated = _customer(site, "杭州新元软件有限公司")
    # the cell filled in is written; the empty ones keep what was there
    assert (updated.phone, updated.account_type, updated.office, updated.notes) == (
        "0571-99990000", "key", "杭州办事处", "老客户")
    assert _customer(site, "宁波新客户有限公司") is not None
    assert "Customer record updated by coord from 客户.csv" in b.get(f"/customers/{updated.id}").text

    # a customer the importer may not see is not updated through a file either
    def grant(s):
        seller = s.scalar(select(Staff).where(Staff.username == "sales1"))
        seller.roles.append(Role(key="importer", name="Importer",
                                 permissions=[RolePermission(permission="core.customer.import")]))

    site.db.run(grant)
    sales = browser("sales1")
    token = sales.csrf("/customers/import")
    hidden = sales.post("/customers/import", data={"csrf_token": token, "update_existing": "on"},
                        files={"file": ("x.csv", (HEADER + "宁波新客户有限公司,,,,,021-1,销售部,,\n").encode())})
    assert hidden.status_code == 422 and "not among those you may see" in hidden.text
    assert _customer(site, "宁波新客户有限公司").phone == ""
