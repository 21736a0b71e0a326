"""Fixtures of the complaints tests: a web site with the plugin, a cast of
users (the department manager is the manager of 售后服务部), and helpers."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from fuwu.models import Customer, Department, Staff

DEPT = "售后服务部"
USERS = {
    "quality": (["quality_supervisor"], "质量部"),
    "manager": (["service_manager"], DEPT),
    "engineer": (["engineer"], DEPT),
    "lead": (["group_lead"], DEPT),
    "boss": (["general_manager"], "总经理办公室"),
    "clerk": (["coordinator"], DEPT),
    "outsider": (["engineer"], "西北办事处"),
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def staff_id(site, username: str) -> int:
    return site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == username)))


def dept_id(site, name: str = DEPT) -> int:
    return site.db.run(lambda s: s.scalar(select(Department.id).where(Department.name == name)))


def customer(site, *, key: bool = False) -> int:
    """A demo customer of 售后服务部 (a key account if asked)."""
    def work(s):
        dept = s.scalar(select(Department).where(Department.name == DEPT))
        row = s.scalar(select(Customer).where(Customer.department_id == dept.id,
                                              Customer.account_type == ("key" if key else "retail")).limit(1))
        if row is None:
            row = Customer(name=f"投诉测试客户{'key' if key else 'retail'}", account_type="key" if key else "retail",
                           region="华北", department_id=dept.id)
            s.add(row)
            s.flush()
        return row.id
    return site.db.run(work)


def receive(site, *, at: datetime | None = None, **kw) -> int:
    from fuwu_plugins.complaints import services

    cust = kw.pop("customer_id", None) or customer(site)

    def work(s):
        actor = s.scalar(select(Staff).where(Staff.username == "quality"))
        values = {"customer_id": cust, "description": "态度差",
                  "category": "technical", **kw}
        return services.receive(site, s, actor, received_at=at or datetime.now(UTC), **values).id
    return site.db.run(work)


def step(browser, cid: int, name: str, data: dict, expect: int = 303):
    page = browser.get(f"/complaints/{cid}")
    assert page.status_code == 200, page.text[:300]
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    token = CSRF.search(page.text).group(1)
    r = browser.post(f"/complaints/{cid}/step/{name}", data={**data, "version": version, "csrf_token": token})
    assert r.status_code == expect, r.text[:2000]
    return r


@pytest.fixture
def cweb(web):
    """(site, app, browser): the plugin enabled, core demo data, USERS;
    the manager manages 售后服务部."""
    site, app, browser = web(plugins=["complaints"], users=USERS)

    def setup(s):
        dept = s.scalar(select(Department).where(Department.name == DEPT))
        dept.manager_id = s.scalar(select(Staff.id).where(Staff.username == "manager"))
    site.db.run(setup)
    return site, app, browser
