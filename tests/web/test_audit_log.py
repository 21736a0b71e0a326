"""The audit log page: who changed what, filtered to a record from its page,
for the holders of ``core.audit.view`` only, exported, at a cost that does
not grow with its rows."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from fuwu.audit import AuditEntry
from fuwu.models import Contact, Customer, Department, Role, Staff
from tests.conftest import PASSWORD
from tests.web.test_contracts import field_value, selected, version_of
from tests.web.test_performance import counting

ROW = re.compile(r"<tr>\s*<td class=\"date\">")


def _customer(site, name: str) -> int:
    def work(s):
        customer = Customer(name=name, region="华东", address="杭州市文三路 1 号")
        s.add(customer)
        s.flush()
        return customer.id

    return site.db.run(work)


def _edit_address(browser, customer_id: int, address: str, **more):
    page = browser.get(f"/customers/{customer_id}/edit").text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    return browser.submit(f"/customers/{customer_id}/edit", {
        "name": re.search(r'name="name"[^>]*value="([^"]*)"', page).group(1), "account_type": "retail",
        "region": "华东", "address": address, "version": version, **more}, page=f"/customers/{customer_id}/edit")


def test_a_record_page_links_to_its_history_showing_who_changed_what(web):
    site, app, browser = web(demo=False, users={"boss": ["admin"], "gm": ["general_manager"]})
    customer_id = _customer(site, "杭州恒通电子科技有限公司")
    other_id = _customer(site, "苏州新元机械有限公司")
    department_id = site.db.run(lambda s: (s.add(d := Department(name="华东服务组")), s.flush(), d.id)[-1])
    boss = browser("boss")
    assert _edit_address(boss, customer_id, "杭州市西湖区文三路 90 号", account_type="key",
                         department_id=str(department_id)).status_code == 303

    gm = browser("gm")
    detail = gm.get(f"/customers/{customer_id}").text
    link = f'href="/audit?table=customer&amp;row={customer_id}"'
    assert link in detail and "Change history" in detail
    history = gm.get(f"/audit?table=customer&row={customer_id}")
    assert history.status_code == 200
    text = history.text
    # the change, with both values, who made it and a link back to the record
    assert "杭州市文三路 1 号" in text and "杭州市西湖区文三路 90 号" in text
    assert "<td>Address</td>" in text and "<td>boss</td>" in text and '">Field changed</span>' in text
    assert f'<a href="/customers/{customer_id}">Customer #{customer_id}</a>' in text
    # a choice by its label, another record by its name, not as stored
    assert "<td>Retail (pays on the spot)</td>" in text and "<td>Key account (monthly settlement)</td>" in text
    assert "<td>Responsible department</td>" in text and "<td>华东服务组</td>" in text
    # its creation (by no one signed in: the setup above) is there too, other records are not
    assert '">Record created</span>' in text and "<td>System</td>" in text
    assert f"Customer #{other_id}" not in text
    # the whole log has both; filtered by person, only what boss did
    assert f"Customer #{other_id}" in gm.get("/audit").text
    boss_id = site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == "boss")))
    by_boss = gm.get("/audit", params={"actor": str(boss_id)}).text
    assert "杭州市西湖区文三路 90 号" in by_boss and '">Record created</span>' not in by_boss
    # and the menu has it under system administration
    assert '<a href="/audit"' in gm.get("/").text


def test_the_log_is_for_those_granted_it(web):
    site, app, browser = web(demo=False, users={"mgr": ["service_manager"]})
    customer_id = _customer(site, "杭州恒通电子科技有限公司")
    mgr = browser("mgr")
    assert mgr.get("/audit").status_code == 403
    assert mgr.get(f"/audit?table=customer&row={customer_id}").status_code == 403
    detail = mgr.get(f"/customers/{customer_id}").text
    assert "/audit" not in detail and "Change history" not in detail


def test_the_log_reads_in_chinese_hides_digests_and_takes_odd_filters(web):
    site, app, browser = web(demo=False, users={"boss": ["admin"]})
    customer_id = _customer(site, "杭州恒通电子科技有限公司")
    site.db.run(lambda s: s.add(AuditEntry(table_name="serial_keys_api_token", row_id=7, action="update",
                                           field="token_hash", old="a" * 64, new="b" * 64)))
    site.db.run(lambda s: s.add_all([
        AuditEntry(table_name="staff", row_id=1, action="update", field="hired_on", old="2026-01-05", new="2026-02-01"),
        AuditEntry(table_name="staff", row_id=1, action="update", field="active", old="True", new="False")]))
    boss = browser("boss")
    page = boss.get("/audit", headers={"Accept-Language": "zh-CN"}).text
    # days and yes/no as the reader writes them, under the columns' labels
    assert "<td>入职日期</td>" in page and "<td>2026年1月5日</td>" in page and "<td>2026年2月1日</td>" in page
    assert "<td>是</td>" in page and "<td>否</td>" in page
    assert "审计日志" in page and f"客户 #{customer_id}" in page and '">新建记录</span>' in page
    assert "a" * 64 not in page and "b" * 64 not in page and "（已隐藏）" in page
    for odd in ({"row": "abc"}, {"actor": "-1"}, {"since": "2026-13-45"}, {"until": "x"}, {"action": "drop"},
                {"table": "x" * 500}, {"after": "garbage"}):
        assert boss.get("/audit", params=odd).status_code == 200, odd
    # a day range in the site's time zone: everything was written today
    assert f"Customer #{customer_id}" not in boss.get("/audit", params={"until": "2020-01-01"}).text
    assert f"Customer #{customer_id}" in boss.get("/audit", params={"since": "2020-01-01"}).text


def test_the_log_exports_what_it_lists(web):
    site, app, browser = web(demo=False, users={"boss": ["admin"]})
    customer_id = _customer(site, "杭州恒通电子科技有限公司")
    boss = browser("boss")
    assert _edit_address(boss, customer_id, "杭州市西湖区文三路 90 号").status_code == 303
    exported = boss.get("/audit", params={"table": "customer", "row": str(customer_id), "format": "csv"})
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Time", "By", "Action"]
    assert ["boss", "Field changed", "Customer", str(customer_id), "Address", "杭州市文三路 1 号", "杭州市西湖区文三路 90 号"] \
        in [r[1:] for r in rows[1:]]


def test_the_log_costs_the_same_for_10_and_200_rows(web):
    site, app, browser = web(demo=False, users={"boss": ["admin"]})
    boss = browser("boss")
    assert boss.submit("/settings/core.page_size", {"value": "200"}).status_code == 303

    def add(first: int, count: int) -> None:
        site.db.run(lambda s: s.add_all([Customer(name=f"审计客户{i:04d}") for i in range(first, first + count)]))

    add(0, 9)
    boss.get("/audit")
    with counting(site.db.engine) as few:
        page = boss.get("/audit", params={"table": "customer"})
    assert len(ROW.findall(page.text)) == 9
    add(9, 191)
    with counting(site.db.engine) as many:
        page = boss.get("/audit", params={"table": "customer"})
    assert len(ROW.findall(page.text)) == 200
    assert len(many) == len(few)


def test_a_third_party_plugins_records_are_named_by_their_workflow(web, thirdparty_path):
    site, app, browser = web(["hotline"], demo=False, users={"boss": ["admin"]})
    customer_id = _customer(site, "杭州恒通电子科技有限公司")
    from fuwu_hotline.models import HotlineCall

    def add_call(s):
        call = HotlineCall(customer_id=customer_id, summary="打印模块打不开")
        s.add(call)
        s.flush()
        return call.id

    call_id = site.db.run(add_call)
    page = browser("boss").get("/audit", params={"table": "hotline_call"}).text
    assert f"Hotline call #{call_id}" in page and "<code>hotline_call</code>" not in page
    assert "Hotline call" in re.search(r'<select id="table".*?</select>', page, re.S).group(0)


def test_a_customers_history_lists_its_contacts_and_a_roles_its_grants(web):
    site, app, browser = web(demo=False, users={"boss": ["admin"]})
    customer_id = _customer(site, "杭州恒通电子科技有限公司")
    boss = browser("boss")
    page = f"/customers/{customer_id}"
    assert boss.submit(f"{page}/contacts", {"name": "杨建国", "phone": "021-64881234"}, page=page).status_code == 303
    contact_id = site.db.run(lambda s: s.scalar(select(Contact.id).where(Contact.customer_id == customer_id)))
    assert boss.submit(f"{page}/contacts/{contact_id}/delete", {}, page=page).status_code == 303
    history = boss.get("/audit", params={"table": "customer", "row": str(customer_id)}).text
    created, deleted = (re.search(rf'">{action}</span></td>\s*<td>Contact #{contact_id}.*?</tr>', history, re.S)
                        for action in ("Record created", "Record deleted"))
    assert created and "杨建国" in created.group(0) and deleted and "杨建国" in deleted.group(0)

    def revoke(s):
        role = s.scalar(select(Role).where(Role.key == "engineer"))
        grant = next(p for p in role.permissions if p.permission == "core.customer.view")
        grant.revoked = True
        return role.id, grant.id

    role_id, grant_id = site.db.run(revoke)
    history = boss.get("/audit", params={"table": "role", "row": str(role_id)}).text
    assert f"Permission #{grant_id}" in history and "<td>Revoked</td>" in history
    assert "<td>No</td>" in history and "<td>Yes</td>" in history


def test_a_plugin_records_parts_show_in_its_history(web):
    site, app, browser = web(["training"], demo=False, users={"boss": ["admin"]})
    from fuwu_plugins.training.models import Course, Material

    def add(s):
        course = Course(code="ERP-101", title="企业管理软件入门")
        s.add(course)
        s.flush()
        s.add(Material(course_id=course.id, filename="操作手册.pdf", content_type="application/pdf", size=3,
                       data=b"pdf"))
        return course.id

    course_id = site.db.run(add)
    page = browser("boss").get("/audit", params={"table": "training_course", "row": str(course_id)},
                               headers={"Accept-Language": "zh-CN"}).text
    assert f"课程 #{course_id}" in page and "企业管理软件入门" in page
    material = re.search(r"<td>课程资料 #\d+.*?</tr>", page, re.S)
    assert material and "操作手册.pdf" in material.group(0)


def test_a_persons_roles_given_and_taken_show_in_their_history(web):
    site, app, browser = web(demo=False, users={"boss": ["admin"], "li": ["engineer"]})
    li = site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == "li")))
    role = site.db.run(lambda s: {r.key: r.id for r in s.scalars(select(Role))})
    boss = browser("boss")

    def save_roles(*keys: str):
        page = boss.get(f"/staff/{li}/edit").text
        data = {name: field_value(page, name) for name in ("code", "name", "email", "phone")}
        data.update(department_id=(selected(page, "department_id") or [""])[0], active="on",
                    version=version_of(page), roles=[str(role[k]) for k in keys])
        return boss.submit(f"/staff/{li}/edit", data, page=f"/staff/{li}/edit")

    assert save_roles("engineer", "service_manager").status_code == 303
    assert save_roles("service_manager").status_code == 303
    history = boss.get("/audit", params={"table": "staff", "row": str(li)},
                       headers={"Accept-Language": "zh-CN"}).text
    changes = [re.sub(r"\s+", " ", row) for row in re.findall(r"<td>角色</td>.*?</tr>", history, re.S)]
    # newest first, each list by the roles' names in the reader's language; the first is li's hiring
    assert changes == ["<td>角色</td> <td>服务工程师和服务经理</td> <td>服务经理</td> </tr>",
                       "<td>角色</td> <td>服务工程师</td> <td>服务工程师和服务经理</td> </tr>",
                       "<td>角色</td> <td></td> <td>服务工程师</td> </tr>"]

    # a record with the list set from the start has its first members in its history too
    def hire(s):
        new = Staff(code="S900", name="欧阳娜", roles=[s.get(Role, role["finance"])])
        s.add(new)
        s.flush()
        return new.id

    new_id = site.db.run(hire)
    page = boss.get("/audit", params={"table": "staff", "row": str(new_id)}).text
    assert re.search(r"<td>Roles</td>\s*<td></td>\s*<td>Finance</td>", page), page


def test_a_password_change_is_logged_without_its_hash(web):
    site, app, browser = web(demo=False, users={"boss": ["admin"], "li": ["engineer"]})
    li_id = site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == "li")))
    new = "a-new-password-2026"
    assert browser("li").submit("/profile/password", {"current": PASSWORD, "new": new, "repeat": new},
                                page="/profile").status_code == 303
    boss = browser("boss")
    assert boss.submit(f"/staff/{li_id}/password", {"password": new + "!", "password_again": new + "!"},
                       page=f"/staff/{li_id}").status_code == 303
    history = boss.get("/audit", params={"table": "staff", "row": str(li_id)}).text
    rows = [[re.sub(r"<[^>]+>", "", cell).split("\n")[0].strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>\s*<td class=\"date\">.*?</tr>", history, re.S)]
    # newest first (time left out): boss set it, li changed it; both hidden, and no digest kept anywhere in the log
    assert [r[1:] for r in rows if "Password" in r] == [
        ["boss", "Field changed", f"Staff member #{li_id}", "Password", "(hidden)", "(hidden)"],
        ["li", "Field changed", f"Staff member #{li_id}", "Password", "(hidden)", "(hidden)"]], rows
    stored = site.db.run(lambda s: s.execute(select(AuditEntry.old, AuditEntry.new)
                                             .where(AuditEntry.field == "password_hash")).all())
    assert len(stored) == 2 and all(old is None and new is None for old, new in stored)
