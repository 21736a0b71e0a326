"""The periodic jobs: overdue deadlines (issue §5), consequences (CMP-7) and
the monthly report (CMP-5), each run twice to prove they act once."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from fuwu import jobs
from fuwu.models import Department, Role, Staff
from fuwu.notifications import Notification, OutboxMail
from fuwu_plugins.complaints import services
from fuwu_plugins.complaints.models import Complaint, MonthlyReport, ReviewFlag
from tests.conftest import zh

LISTENER = """
CAUGHT = []
REASONS = []

@hookimpl
def incentive_due(session, staff, amount, reason, rule_id, source):
    CAUGHT.append((staff.code, amount, rule_id, source))
    REASONS.append(reason)
"""


@pytest.fixture
def ledger_site(make_site, make_plugin):
    make_plugin("ledger", plugin=LISTENER)
    site = make_site(["complaints", "ledger"])

    def setup(s):
        dept = Department(name="售后服务部")
        s.add(dept)
        s.flush()
        role = s.scalar(select(Role).where(Role.key == "service_manager"))
        boss = Staff(code="M1", name="经理", department_id=dept.id, roles=[role], email="m1@example.com")
        s.add(boss)
        s.flush()
        dept.manager_id = boss.id
        for code in ("E1", "E2", "E3"):
            s.add(Staff(code=code, name=code, department_id=dept.id))
        gm = Staff(code="GM", name="总经理", roles=[s.scalar(select(Role).where(Role.key == "general_manager"))],
                   email="gm@example.com")
        s.add(gm)
        from fuwu.models import Customer
        s.add(Customer(name="某客户", region="华北", department_id=dept.id))
    site.db.run(setup)
    return site, sys.modules["fuwu_test_ledger.plugin"].CAUGHT


def confirmed(site, code, *, category="attitude", at=None):
    def work(s):
        from fuwu.models import Customer
        actor = s.scalar(select(Staff).where(Staff.code == "M1"))
        staff = s.scalar(select(Staff).where(Staff.code == code))
        cust = s.scalar(select(Customer).limit(1))
        c = services.receive(site, s, actor, customer_id=cust.id, description="x", category=category,
                             concerned_staff_id=staff.id, received_at=at or datetime.now(UTC))
        services.review(site, s, c, actor, valid=True, department_id=staff.department_id)
        return c.id
    return site.db.run(work)


def test_an_attitude_fine_is_emitted_once_even_when_the_job_runs_twice(ledger_site):
    site, caught = ledger_site
    cid = confirmed(site, "E1")
    assert caught == [("E1", Decimal("-200.00"), "CMP-7", ("complaints.complaint", cid))]
    # a complaint confirmed before the plugin's listener existed: the job books it, once
    site.db.run(lambda s: setattr(s.get(Complaint, cid), "fine_emitted", False))
    caught.clear()
    for _ in range(2):
        assert jobs.run_due(site, only="complaints.consequences", force=True) == [("complaints.consequences", "done")]
    assert caught == [("E1", Decimal("-200.00"), "CMP-7", ("complaints.complaint", cid))]
    # another category is not fined
    confirmed(site, "E2", category="technical")
    assert len(caught) == 1


def test_the_ledger_gets_the_reason_in_the_sites_language(ledger_site):
    site, _caught = ledger_site
    cid = confirmed(site, "E1")
    number = site.db.run(lambda s: s.get(Complaint, cid).number)
    reasons = sys.modules["fuwu_test_ledger.plugin"].REASONS
    assert reasons == [zh(site, "Confirmed service-attitude complaint %(number)s", number=number)]


def test_the_fine_is_a_setting(ledger_site):
    site, caught = ledger_site
    site.db.run(lambda s: site.settings.set(s, "complaints.attitude_fine", "150.00"))
    confirmed(site, "E1")
    assert caught[0][1] == Decimal("-150.00")


def test_repetition_flags_a_dismissal_review_and_three_in_half_a_year_the_manager(ledger_site):
    site, _caught = ledger_site
    confirmed(site, "E1")
    flags = lambda: site.db.run(lambda s: sorted((f.staff.code, f.kind) for f in s.scalars(select(ReviewFlag))))  # noqa: E731
    assert flags() == []
    confirmed(site, "E1")
    assert flags() == [("E1", "dismissal")]
    # an old complaint falls outside the six-month window
    confirmed(site, "E2", category="technical", at=datetime.now(UTC) - timedelta(days=200))
    confirmed(site, "E3")
    assert ("M1", "manager_review") in flags()


def test_an_overdue_deadline_notifies_the_person_and_their_manager_once(ledger_site):
    site, _caught = ledger_site
    cid = confirmed(site, "E1", category="technical", at=datetime(2026, 9, 14, 2, tzinfo=UTC))  # Mon 10:00 Beijing
    now = datetime(2026, 9, 15, 2, tzinfo=UTC)
    for _ in range(2):
        jobs.run_due(site, only="complaints.deadlines", force=True, now=now)
    rows = site.db.run(lambda s: [(n.staff_id, n.params.get("number")) for n in s.scalars(
        select(Notification).where(Notification.message == "Complaint %(number)s: %(deadline)s is overdue"))])
    manager = site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.code == "M1")))
    number = site.db.run(lambda s: s.get(Complaint, cid).number)
    assert rows == [(manager, number)]


def test_the_month_end_job_sends_the_report_to_the_managers_and_the_general_manager_on_time(ledger_site):
    site, _caught = ledger_site
    confirmed(site, "E1", at=datetime(2026, 9, 10, 2, tzinfo=UTC))
    confirmed(site, "E1", category="response", at=datetime(2026, 9, 11, 2, tzinfo=UTC))
    confirmed(site, "E2", category="charges", at=datetime(2026, 10, 11, 2, tzinfo=UTC))  # next month
    now = datetime(2026, 10, 8, 1, tzinfo=UTC)  # the first working day after National Day
    for _ in range(2):
        jobs.run_due(site, only="complaints.monthly_report", force=True, now=now)

    def check(s):
        reports = list(s.scalars(select(MonthlyReport)))
        assert [(r.month, r.due_on) for r in reports] == [(date(2026, 9, 1), date(2026, 10, 10))]
        report = reports[0]
        assert services.sent_on_time(site, report) is True
        assert report.data["total"] == 2 and report.data["valid"] == 2
        assert dict(report.data["by_staff"]) == {"E1": 2}
        assert report.data["repeats"] == [["某客户", 2]] or report.data["repeats"] == [("某客户", 2)]
        mails = sorted(m.to_addr for m in s.scalars(select(OutboxMail)) if "2026年9月" in m.subject)
        assert mails == ["gm@example.com", "m1@example.com"]
    site.db.run(check)
