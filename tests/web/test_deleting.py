"""Deleting a department, a position or a role made by mistake: allowed
while nothing uses it, refused with 409 naming what does (a plugin's rows
included), never for a built-in role, only for those who may edit them."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from fuwu.audit import AuditEntry
from fuwu.models import Department, Position, Role, RolePermission, Staff

from .test_contracts import english

USERS = {"boss": ["admin"], "hr": (["administration"], "行政人事部"), "eng": (["engineer"], "售后服务部")}


def _id(site, model, **where):
    return site.db.run(lambda s: s.scalar(select(model.id).filter_by(**where)))


def _exists(site, model, record_id) -> bool:
    return site.db.run(lambda s: s.get(model, record_id)) is not None


def test_a_department_is_deleted_only_while_nothing_belongs_to_it(web):
    site, app, browser = web(["incentives"], users=USERS)
    hr = english(browser("hr"))
    created = hr.submit("/departments/new", {"name": "临时项目组", "kind": "other"})
    spare = int(created.headers["location"].rsplit("/", 1)[1])
    assert f'action="/departments/{spare}/delete"' in hr.get(f"/departments/{spare}").text

    finance = _id(site, Department, name="财务部")  # 赵敏 works there
    refused = hr.submit(f"/departments/{finance}/delete")
    assert refused.status_code == 409
    assert "财务部 cannot be deleted while it is in use" in refused.text and "Staff member (1)" in refused.text
    assert _exists(site, Department, finance)

    # a plugin's record pointing at it counts, without the plugin doing anything
    def book(s):
        s.add(Staff(code="T1", name="临时工", department_id=spare))
        s.flush()
        person = s.scalar(select(Staff.id).where(Staff.code == "T1"))
        s.add_all([
            Department(name="临时项目组二队", parent_id=spare),
            *[_entry(person, spare, n) for n in range(2)],
        ])

    site.db.run(book)
    refused = hr.submit(f"/departments/{spare}/delete")
    assert refused.status_code == 409
    for use in ("Staff member (1)", "Department (1)", "Reward or fine (2)"):
        assert use in refused.text, use

    def clear(s):
        from fuwu_plugins.incentives.models import Entry

        for model, column in ((Entry, Entry.department_id), (Department, Department.parent_id),
                              (Staff, Staff.department_id)):
            for row in s.scalars(select(model).where(column == spare)):
                s.delete(row)

    site.db.run(clear)
    deleted = hr.submit(f"/departments/{spare}/delete")
    assert deleted.status_code == 303 and deleted.headers["location"] == "/departments"
    assert "Department 临时项目组 deleted." in hr.get("/departments").text
    assert not _exists(site, Department, spare)
    with site.db.session(write=False) as s:  # the deletion is in the change history, with who did it
        assert s.scalar(select(AuditEntry.action).where(AuditEntry.table_name == "department",
                                                        AuditEntry.row_id == spare).order_by(AuditEntry.id.desc())
                        ) == "delete"


def _entry(staff_id: int, department_id: int, n: int):
    from fuwu_plugins.incentives.models import Entry

    return Entry(staff_id=staff_id, department_id=department_id, amount=Decimal("50.00"), rule_id="TEST-1",
                 reason="测试", source_kind="manual", key=f"test-{n}", month="2026-11")


def test_a_position_no_one_holds_is_deleted(web):
    site, app, browser = web(users=USERS)
    hr = english(browser("hr"))
    trainer = _id(site, Position, name="培训师")
    refused = hr.submit(f"/positions/{trainer}/delete")
    assert refused.status_code == 409 and "Staff member (" in refused.text
    hr.submit("/positions/new", {"name": "实习生", "grade": "junior"})
    spare = _id(site, Position, name="实习生")
    assert f'action="/positions/{spare}/delete"' in hr.get(f"/positions/{spare}/edit").text
    deleted = hr.submit(f"/positions/{spare}/delete")
    assert deleted.status_code == 303 and not _exists(site, Position, spare)
    assert hr.submit(f"/positions/{spare}/delete").status_code == 404


def test_a_role_no_one_holds_is_deleted_with_its_grants_and_a_built_in_role_never(web):
    site, app, browser = web(users=USERS)
    boss = english(browser("boss"))
    engineer = _id(site, Role, key="engineer")
    assert 'action="/roles/%d/delete"' % engineer not in boss.get(f"/roles/{engineer}").text
    refused = boss.submit(f"/roles/{engineer}/delete")
    assert refused.status_code == 409 and "A built-in role cannot be deleted." in refused.text
    assert _exists(site, Role, engineer)

    role = int(boss.submit("/roles/new", {"key": "night_shift", "name": "夜班"}).headers["location"].rsplit("/", 1)[1])
    page = boss.get(f"/roles/{role}").text
    version = __import__("re").search(r'name="version" value="(\d+)"', page).group(1)
    boss.submit(f"/roles/{role}/permissions", {"permission": ["core.customer.view"], "version": version})
    eng_id = _id(site, Staff, username="eng")
    boss.submit(f"/roles/{role}/members", {"staff_id": str(eng_id)})
    refused = boss.submit(f"/roles/{role}/delete")
    assert refused.status_code == 409 and "Staff member (1)" in refused.text

    boss.submit(f"/roles/{role}/members/{eng_id}/remove")
    deleted = boss.submit(f"/roles/{role}/delete")
    assert deleted.status_code == 303 and deleted.headers["location"] == "/roles"
    assert not _exists(site, Role, role)
    assert site.db.run(lambda s: s.scalar(select(RolePermission.id).where(RolePermission.role_id == role))) is None


def test_only_those_who_may_edit_may_delete(web):
    site, app, browser = web(users=USERS)
    eng, hr = browser("eng"), browser("hr")
    finance = _id(site, Department, name="财务部")
    trainer = _id(site, Position, name="培训师")
    engineer = _id(site, Role, key="engineer")
    assert "/delete" not in eng.get(f"/departments/{finance}").text
    for path in (f"/departments/{finance}/delete", f"/positions/{trainer}/delete"):
        assert eng.submit(path).status_code == 403, path
    assert hr.submit(f"/roles/{engineer}/delete").status_code == 403  # staff editors do not manage roles
    assert eng.submit("/departments/999999/delete").status_code in (403, 404)
    assert _exists(site, Department, finance) and _exists(site, Position, trainer)
