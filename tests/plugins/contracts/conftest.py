"""Fixtures of the contracts plugin's tests: a web site with the plugin and a
cast of users, and a helper that signs contracts through core's model (so
core's ``contract_signed`` event runs, as it does for the web form)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from fuwu.models import Contract, Customer, Department, Product, Staff

DEPT = "售后服务部"
#: username -> roles (and department); the demo customers belong to 售后服务部
USERS = {
    "manager": (["service_manager"], DEPT),
    "engineer": (["engineer"], DEPT),
    "sales": (["sales"], DEPT),
    "lead": (["group_lead"], DEPT),
    "boss": (["general_manager"], DEPT),
    "trainer": (["trainer"], DEPT),
    "outsider": (["engineer"], "西北办事处"),
    "far_sales": (["sales"], "西北办事处"),
}

_numbers = itertools.count(1)


def day(value) -> str:
    """A day as the pages and the history write it in zh_Hans (2026年8月9日)."""
    from babel.dates import format_date

    return format_date(value, "medium", locale="zh_Hans")


def t(site, message: str, **params) -> str:
    """``message`` as the pages show it: in the site's language (zh_Hans), HTML-escaped."""
    from markupsafe import escape

    text = site.catalogs.get("zh_Hans").gettext(message)
    return str(escape(text % params if params else text))


def sign(site, *, ends_in: int | None = 200, started_days_ago: int = 100, installed: bool = True,
         customer: str | None = None, account_type: str = "key", region: str = "华东", amount="1200.00",
         number: str | None = None, products: tuple[str, ...] = ()) -> int:
    """Sign a service contract; returns its id. Dates are relative to today."""
    today = site.day_of()
    number = number or f"T-{next(_numbers):05d}"

    def work(s):
        dept = s.scalar(select(Department).where(Department.name == DEPT))
        if dept is None:
            dept = Department(name=DEPT)
            s.add(dept)
            s.flush()
        name = customer or f"测试客户{number}"
        cust = s.scalar(select(Customer).where(Customer.name == name))
        if cust is None:
            cust = Customer(name=name, account_type=account_type, region=region, department_id=dept.id)
            s.add(cust)
            s.flush()
        start = today - timedelta(days=started_days_ago)
        if ends_in is not None and start > today + timedelta(days=ends_in):
            start = today + timedelta(days=ends_in - 364)  # a long-ended contract ran for a year
        contract = Contract(number=number, kind="service", customer_id=cust.id, signed_on=start - timedelta(days=10),
                            installed_on=start if installed else None,
                            starts_on=start, ends_on=today + timedelta(days=ends_in) if ends_in is not None else None,
                            amount=Decimal(amount),
                            signed_by_id=s.scalar(select(Staff.id).where(Staff.username == "manager")))
        if products:
            contract.products = list(s.scalars(select(Product).where(Product.code.in_(products))))
        s.add(contract)
        s.flush()
        return contract.id

    return site.db.run(work)


@pytest.fixture
def cweb(web):
    """(site, app, browser): the contracts plugin enabled, demo core data, USERS.

    The browsers ask for Chinese, the language the department works in, so the
    assertions (through ``t``) also prove the pages are translated."""
    site, app, browser = web(plugins=["contracts"], users=USERS)

    def chinese(username=None):
        client = browser(username)
        client.headers["Accept-Language"] = "zh-CN,zh;q=0.9"
        return client

    return site, app, chinese
