"""A web site with field_service, a cast of users and a small listener plugin
that records ``incentive_due`` and answers the complaints hook (as the
incentives and complaints plugins would)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

DEPT = "售后服务部"
USERS = {
    "coord": (["coordinator"], DEPT),
    "tech1": (["engineer"], DEPT),
    "tech2": (["engineer"], DEPT),
    "tech3": (["engineer"], DEPT),
    "tech4": (["engineer"], DEPT),
    "lead": (["group_lead"], DEPT),
    "manager": (["service_manager"], DEPT),
    "far": (["engineer"], "西北办事处"),
    "boss": ["admin"],
}

LEDGER = '''
CALLS = []
COMPLAINTS = {}

@hookimpl
def incentive_due(session, staff, amount, reason, rule_id, source):
    CALLS.append((staff.username, amount, reason, rule_id, source))

@hookimpl
def field_service_complaints(session, staff_ids, month_start, month_end):
    return {sid: n for sid, n in COMPLAINTS.items() if sid in staff_ids}
'''


@pytest.fixture
def fs(web, make_plugin):
    make_plugin("fsledger", depends=("field_service",), plugin=LEDGER)
    site, app, browser = web(plugins=["field_service", "fsledger"], users=USERS)
    import fuwu_test_fsledger.plugin as ledger

    ledger.CALLS.clear()
    ledger.COMPLAINTS.clear()
    return site, app, browser, ledger


def staff_id(site, username: str) -> int:
    from fuwu.models import Staff

    return site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == username)))


def customer_id(site, n: int = 0) -> int:
    from fuwu.models import Customer, Department

    return site.db.run(lambda s: s.scalars(select(Customer.id).join(Department, Department.id == Customer.department_id)
                                           .where(Department.name == DEPT).order_by(Customer.id)).all()[n])


def make_job(site, tech: str, *, finished_at: datetime | None = None, answer: str | None = None, kind: str = "repair",
             assigned_ago: timedelta = timedelta(minutes=1)) -> int:
    """A job dispatched through the services (finished on ``finished_at`` when given)."""
    from fuwu.models import Staff
    from fuwu_plugins.field_service import services

    cid = customer_id(site)

    def work(s):
        technician = s.scalar(select(Staff).where(Staff.username == tech))
        coord = s.scalar(select(Staff).where(Staff.username == "coord"))
        start = (finished_at - timedelta(hours=3)) if finished_at else datetime.now(UTC) - assigned_ago
        job = services.dispatch(s, customer_id=cid, technician=technician, coordinator=coord, problem="无法开票",
                                kind=kind, now=start)
        if finished_at:
            services.depart(s, job, start + timedelta(minutes=5))
            services.arrive(s, job, start + timedelta(minutes=40))
            services.finish(s, job, finished_at, "已修复")
            if answer:
                services.record_visit(s, job, coord, finished_at + timedelta(days=1), answer=answer, comment="",
                                      failed=False)
        return job.id

    return site.db.run(work)
