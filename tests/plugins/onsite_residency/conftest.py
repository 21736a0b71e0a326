"""Fixtures of the resident-service tests: a site with the plugin, a cast
(resident engineer, group lead, manager, GM office, administration) and a
listener standing in for the incentives ledger."""

from __future__ import annotations

import re
import sys
from datetime import date

import pytest
from sqlalchemy import select

from fuwu.models import Customer, Staff

USERS = {
    "eng": (["engineer"], "售后服务部"),
    "eng2": (["engineer"], "售后服务部"),
    "lead": (["group_lead"], "售后服务部"),
    "lead2": (["group_lead"], "售后服务部"),
    "manager": (["service_manager"], "售后服务部"),
    "gm": (["general_manager"], "总经理办公室"),
    "admin_dept": (["administration"], "行政部"),
}

LISTENER = """
CAUGHT = []

@hookimpl
def incentive_due(session, staff, amount, reason, rule_id, source):
    CAUGHT.append((staff.username, amount, reason, rule_id, source))
"""

LINK = re.compile(r'<code class="rating-link">[^<]*?(/l/[^<]+)</code>')


@pytest.fixture
def rweb(web, make_plugin):
    """(site, browser factory, caught incentive events)."""
    make_plugin("resledger", plugin=LISTENER)
    site, app, browser = web(plugins=["onsite_residency", "resledger"], users=USERS)
    return site, browser, sys.modules["fuwu_test_resledger.plugin"].CAUGHT


def ids(site, *usernames):
    def work(s):
        return [s.scalar(select(Staff.id).where(Staff.username == u)) for u in usernames]
    return site.db.run(work)


def residency(site, engineer="eng", lead="lead", customer_index=0, starts_on=date(2025, 1, 1)):
    from fuwu_plugins.onsite_residency.models import Residency

    def work(s):
        eng_id, lead_id = (s.scalar(select(Staff.id).where(Staff.username == u)) for u in (engineer, lead))
        cust = s.scalars(select(Customer).order_by(Customer.id)).all()[customer_index]
        r = Residency(engineer_id=eng_id, lead_id=lead_id, customer_id=cust.id, site_name="机房",
                      starts_on=starts_on)
        s.add(r)
        s.flush()
        return r.id
    return site.db.run(work)
