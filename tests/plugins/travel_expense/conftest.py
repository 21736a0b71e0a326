"""Fixtures of the travel_expense tests: a site with the plugin, the cast of
a trip (traveller, service manager, general manager, finance,
administration) and helpers that walk the forms over HTTP."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from fuwu.models import Customer

DEPT = "售后服务部"
USERS = {
    "eng": (["engineer"], DEPT),
    "eng2": (["engineer"], DEPT),
    "manager": (["service_manager"], DEPT),
    "boss": (["general_manager"], "总经理办公室"),
    "finance": (["finance"], "财务部"),
    "office": (["administration"], "行政部"),
}


@pytest.fixture
def tweb(web):
    site, app, browser = web(plugins=["travel_expense"], users=USERS)
    return site, app, browser


def created_id(response) -> int:
    assert response.status_code == 303, response.text[:2000]
    return int(re.search(r"/(\d+)$", response.headers["location"]).group(1))


def customer_names(site, n=2) -> list[str]:
    """What the trip form's customer boxes take: names, as typed."""
    return site.db.run(lambda s: list(s.scalars(select(Customer.name).order_by(Customer.id).limit(n))))


def file_trip(site, b, **changes) -> int:
    data = {"destinations": "苏州", "region": "华东", "depart_on": "2026-03-02", "return_on": "2026-03-04",
            "purpose": "系统升级", "itinerary": "上海-苏州-上海", "transport_class": "train_hard_sleeper",
            "est_transport": "180", "est_lodging": "240", "est_meals": "90", "est_other": "0",
            "customer_ids": customer_names(site)}
    data.update(changes)
    return created_id(b.submit("/travel_expense/new", data))


def step(b, kind: str, record_id: int, name: str, comment: str = "", version=None):
    page = f"/travel_expense/{kind}/{record_id}"
    if version is None:
        found = re.search(r'name="version" value="(\d+)"', b.get(page).text)
        version = found.group(1) if found else ""
    return b.submit(f"{page}/step/{name}", {"comment": comment, "version": version}, page=page)


def approved_trip(site, browser, traveller="eng", **changes) -> int:
    """A trip filed by ``traveller`` and approved by the service manager."""
    trip = file_trip(site, browser(traveller), **changes)
    assert step(browser(traveller), "trip", trip, "submit").status_code == 303
    assert step(browser("manager"), "trip", trip, "approve", "同意").status_code == 303
    return trip


def claim_lines(*lines) -> dict:
    data = {}
    for i, (kind, description, amount, nights, invoice, klass) in enumerate(lines):
        data.update({f"line-{i}-kind": kind, f"line-{i}-description": description, f"line-{i}-amount": amount,
                     f"line-{i}-nights": nights, f"line-{i}-class": klass})
        if invoice:
            data[f"line-{i}-invoice"] = "on"
    data["line_count"] = str(len(lines))
    return data


STANDARD_LINES = claim_lines(("transport", "上海-苏州往返", "180.00", "", False, "train_hard_seat"),
                             ("lodging", "汉庭酒店", "260.00", "2", True, ""),
                             ("local", "出租车", "35.50", "", False, ""))
