"""Fixtures of the serial_keys tests: a web site with contracts and
serial_keys, a cast of users, and helpers that sign contracts and register
keys through the plugin's own services (as the pages do)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from fuwu.models import Contract, Customer, Department, Product, Staff
from sqlalchemy import select

DEPT = "售后服务部"
USERS = {
    "manager": (["service_manager"], DEPT),
    "engineer": (["engineer"], DEPT),
    "lead": (["group_lead"], DEPT),
    "outsider": (["engineer"], "西北办事处"),
    "outside_manager": (["group_lead"], "西北办事处"),
    "sysadmin": (["admin"], DEPT),
}
PLUGINS = ["contracts", "serial_keys"]

_numbers = itertools.count(1)


def sign(site, *, customer: str | None = None, ends_in: int = 200, started_days_ago: int = 100,
         product: str = "SK-ERP") -> tuple[int, int]:
    """A service contract on a customer of 售后服务部; returns (contract id, customer id)."""
    today = site.day_of()
    number = f"SK-T-{next(_numbers):05d}"

    def work(s):
        dept = s.scalar(select(Department).where(Department.name == DEPT))
        name = customer or f"序列号测试客户{number}"
        cust = s.scalar(select(Customer).where(Customer.name == name))
        if cust is None:
            cust = Customer(name=name, account_type="key", region="华东", department_id=dept.id)
            s.add(cust)
            s.flush()
        prod = s.scalar(select(Product).where(Product.code == product))
        if prod is None:
            prod = Product(code=product, name="服务管理软件")
            s.add(prod)
            s.flush()
        start = today - timedelta(days=started_days_ago)
        contract = Contract(number=number, kind="service", customer_id=cust.id, signed_on=start, installed_on=start,
                            starts_on=start, ends_on=today + timedelta(days=ends_in), amount=Decimal("1200.00"))
        contract.products = [prod]
        s.add(contract)
        s.flush()
        return contract.id, cust.id

    return site.db.run(work)


def add_key(site, contract_id: int, serial: str, *, service_code: str | None = None, dongle: str | None = None,
            revoked: bool = False) -> int:
    from fuwu_plugins.serial_keys.models import ProductKey
    from fuwu_plugins.serial_keys.services import issue

    def work(s):
        contract = s.get(Contract, contract_id)
        key = ProductKey(customer_id=contract.customer_id, product_id=contract.products[0].id,
                         contract_id=contract.id, serial_number=serial, service_code=service_code or f"SC{serial}",
                         dongle_number=dongle, installed_on=contract.installed_on, revoked=revoked, notes="")
        issue(s, key, s.scalar(select(Staff).where(Staff.username == "manager")))
        return key.id

    return site.db.run(work)


@pytest.fixture
def skweb(web):
    """(site, app, browser) with both plugins, core demo data and USERS (English pages)."""
    return web(plugins=PLUGINS, users=USERS)
