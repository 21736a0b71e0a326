"""Fixtures of the incentives tests: a site with the ledger and a cast of
users, and ``emit`` that raises the core ``incentive_due`` event the way a
rule plugin does."""

from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from fuwu.models import Staff

DEPT = "售后服务部"
OTHER = "西北办事处"
USERS = {
    "manager": (["service_manager"], DEPT),
    "eng": (["engineer"], DEPT),
    "eng2": (["engineer"], DEPT),
    "outsider": (["engineer"], OTHER),
    "far_manager": (["service_manager"], OTHER),
    "finance": (["finance"], "财务部"),
    "boss": (["general_manager"], DEPT),
}

_sources = itertools.count(1)


def this_month() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


def emit(site, username: str, amount: str, *, rule: str = "SD-9", reason: str = "Service form late",
         source=None) -> tuple:
    """Raise ``incentive_due`` for ``username`` in its own unit of work; returns the source."""
    source = source or ("test.form", next(_sources))

    def work(s):
        staff = s.scalar(select(Staff).where(Staff.username == username))
        site.events.emit(s, "incentive_due", staff=staff, amount=Decimal(amount), reason=reason, rule_id=rule,
                         source=source)

    site.db.run(work)
    return source


def entries(site):
    from fuwu_plugins.incentives.models import Entry

    with site.db.session(write=False) as s:
        return [(e.id, e.staff.username, e.amount, e.rule_id, e.state, e.month)
                for e in s.scalars(select(Entry).order_by(Entry.id))]


@pytest.fixture
def ledger(web):
    """(site, browser factory) with the incentives plugin and the cast."""
    site, _app, browser = web(plugins=["incentives"], users=USERS)
    return site, browser
