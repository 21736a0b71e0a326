"""The plugin through core's doors: events, its own hooks, the migration, the daily job."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from fuwu import jobs, migrate
from fuwu.errors import ValidationError
from fuwu.models import Contract, Customer, Staff
from fuwu.notifications import Notification
from fuwu.seed import sync_roles
from fuwu.timeline import TimelineEntry
from fuwu_plugins.contracts import services
from fuwu_plugins.contracts.models import Renewal, ServicePeriod, SlaLevel

from .conftest import sign

SH = ZoneInfo("Asia/Shanghai")


def periods(site, contract_id):
    return site.db.run(lambda s: [(p.starts_on, p.ends_on, p.source) for p in s.scalars(
        select(ServicePeriod).where(ServicePeriod.contract_id == contract_id).order_by(ServicePeriod.starts_on))])


def test_signing_a_service_contract_opens_its_first_period(make_site):
    site = make_site(["contracts"])
    today = site.day_of()
    installed = sign(site, started_days_ago=30, ends_in=300)
    not_installed = sign(site, started_days_ago=30, ends_in=300, installed=False)
    no_end = sign(site, ends_in=None)
    # CON-1: from the installation date, else the signing date; CON-2: to the contract's end
    assert periods(site, installed) == [(today - timedelta(days=30), today + timedelta(days=300), "signing")]
    assert periods(site, not_installed) == [(today - timedelta(days=40), today + timedelta(days=300), "signing")]
    assert periods(site, no_end) == []


def test_period_follows_later_edits_of_the_contract(make_site):
    site = make_site(["contracts"])
    today = site.day_of()
    cid = sign(site, installed=False, started_days_ago=30, ends_in=300)
    no_end = sign(site, ends_in=None)

    def edit(s):
        contract = s.get(Contract, cid)
        contract.installed_on = today - timedelta(days=20)   # the installation date becomes known
        contract.ends_on = today + timedelta(days=330)        # the validity is extended
        s.get(Contract, no_end).ends_on = today + timedelta(days=100)

    site.db.run(edit)
    assert periods(site, cid) == [(today - timedelta(days=20), today + timedelta(days=330), "signing")]
    assert periods(site, no_end)[0][1] == today + timedelta(days=100)


def test_sales_contracts_get_no_period(make_site):
    site = make_site(["contracts"])

    def work(s):
        customer = Customer(name="只买软件的客户")
        s.add(customer)
        s.flush()
        s.add(Contract(number="XS-1", kind="sales", customer_id=customer.id, signed_on=date(2026, 1, 1),
                       ends_on=date(2026, 12, 31)))

    site.db.run(work)
    assert site.db.run(lambda s: s.scalar(select(func.count()).select_from(ServicePeriod))) == 0


def test_covering_lookup_for_customer_and_product(make_site):
    site = make_site(["contracts"])
    today = site.day_of()
    cid = sign(site, customer="覆盖测试客户", started_days_ago=30, ends_in=30)

    def ask(s):
        customer_id = s.get(Contract, cid).customer_id
        now = datetime.now(SH)
        found = services.covering(s, customer_id, now)
        return (found.contract_id if found else None, services.covering(s, customer_id, today + timedelta(days=31)),
                services.covering(s, customer_id, today - timedelta(days=31)))

    assert site.db.run(ask) == (cid, None, None)


def sla(site, cid, started, level=None):
    def work(s):
        answer = site.plugins.hook.sla_deadlines(site=site, session=s, contract=s.get(Contract, cid),
                                                 started_at=started, level=level)
        return answer.level.code, answer.in_warranty, {d.key: d.due for d in answer.deadlines}

    return site.db.run(work)


def test_sla_deadlines_hook_uses_levels_settings_and_the_site_calendar(make_site):
    site = make_site(["contracts"])
    today = site.day_of()
    # periods around the eve of the 2026 National Day holiday, whatever today is
    covered = sign(site, started_days_ago=(today - date(2026, 9, 1)).days, ends_in=(date(2027, 8, 31) - today).days)
    lapsed = sign(site, started_days_ago=(today - date(2025, 7, 1)).days, ends_in=(date(2026, 6, 30) - today).days)
    eve = datetime(2026, 9, 30, 17, tzinfo=SH)
    code, in_warranty, due = sla(site, covered, eve)
    assert (code, in_warranty) == ("warranty", True)
    assert due == {"respond": datetime(2026, 10, 8, 10, tzinfo=SH), "dispatch": datetime(2026, 10, 8, 17, 30, tzinfo=SH),
                   "on_site": datetime(2026, 10, 12, 9, 30, tzinfo=SH), "resolved": datetime(2026, 10, 15, 11, tzinfo=SH)}
    # no period covers the day: the out-of-warranty level, on a 7x24 clock
    code, in_warranty, due = sla(site, lapsed, eve)
    assert (code, in_warranty, due["respond"]) == ("out_of_warranty", False, datetime(2026, 9, 30, 19, tzinfo=SH))
    # a level asked for by code (return-to-factory repair, working days)
    code, _w, due = sla(site, covered, eve, "factory_repair")
    assert due == {"proposal": datetime(2026, 10, 9, 17, tzinfo=SH), "repaired": datetime(2026, 10, 13, 17, tzinfo=SH)}

    # CON-3 numbers are settings; the site's working hours come from core's calendar
    def change(s):
        site.settings.set(s, "contracts.sla_respond_hours", "4")
        site.settings.set(s, "core.working_hours", "08:30-12:00,13:00-17:30")

    site.db.run(change)
    _c, _w, due = sla(site, covered, eve)
    assert due["respond"] == datetime(2026, 10, 8, 12, tzinfo=SH)  # 17:00-17:30, then 08:30 + 3.5 h

    # a level's own number wins over the setting
    def own_number(s):
        level = s.scalar(select(SlaLevel).where(SlaLevel.code == "warranty"))
        next(m for m in level.milestones if m.key == "respond").amount = 1

    site.db.run(own_number)
    assert sla(site, covered, eve)[2]["respond"] == datetime(2026, 10, 8, 9, tzinfo=SH)  # 30 min + 30 min


def _renewal(site, cid, actor="admin"):
    def work(s):
        contract = s.get(Contract, cid)
        staff = s.scalar(select(Staff).where(Staff.username == actor))
        last = max(p.ends_on for p in s.scalars(select(ServicePeriod).where(ServicePeriod.contract_id == cid)))
        start, end = services.rules.renewal_proposal(last, 12)
        return services.propose(site, s, contract, staff, starts_on=start, ends_on=end, amount=Decimal("900.00"),
                                assignee_id=staff.id).id

    return site.db.run(work)


def _step(site, renewal_id, name, actor="admin", comment=""):
    def work(s):
        staff = s.scalar(select(Staff).where(Staff.username == actor))
        services.advance(site, s, s.get(Renewal, renewal_id), name, staff, comment)

    site.db.run(work)


@pytest.fixture
def listener_site(make_plugin, make_site):
    """A site with a second plugin that listens to service_period_renewed."""
    make_plugin("keys", depends=("contracts>=0.1",), plugin="""
        from fuwu import timeline

        @hookimpl
        def service_period_renewed(session, contract, period, renewal):
            if contract.notes == "explode":
                raise RuntimeError("key server unreachable")
            timeline.append(session, contract.customer_id, "keys renewed until %(end)s", source="keys",
                            end=period.ends_on.isoformat(), renewal=renewal.id)
    """)
    site = make_site(["contracts", "keys"])

    def admin(s):
        from fuwu.models import Role

        s.add(Staff(code="A", name="管理员", username="admin", roles=[s.scalar(select(Role).where(Role.key == "admin"))]))

    site.db.run(admin)
    return site


def test_completing_a_renewal_emits_service_period_renewed_in_the_same_transaction(listener_site):
    site = listener_site
    today = site.day_of()
    cid = sign(site, started_days_ago=340, ends_in=25)
    rid = _renewal(site, cid)
    _step(site, rid, "agree")
    # the agreement opens the new period and extends the contract (CON-5, CON-2)
    assert periods(site, cid)[-1] == (today + timedelta(days=26), services.rules.period_end(
        today + timedelta(days=26), 12), "renewal")
    assert site.db.run(lambda s: s.get(Contract, cid).ends_on) == periods(site, cid)[-1][1]
    for step in ("contact", "update", "complete"):
        _step(site, rid, step)
    entries = site.db.run(lambda s: [e.message for e in s.scalars(select(TimelineEntry).where(
        TimelineEntry.source == "keys"))])
    assert entries == ["keys renewed until %(end)s"]

    # a listener that fails rolls the completion back: the renewal stays "updated"
    other = sign(site, started_days_ago=340, ends_in=25)
    site.db.run(lambda s: setattr(s.get(Contract, other), "notes", "explode"))
    rid2 = _renewal(site, other)
    for step in ("agree", "contact", "update"):
        _step(site, rid2, step)
    with pytest.raises(RuntimeError, match="key server"):
        _step(site, rid2, "complete")
    assert site.db.run(lambda s: s.get(Renewal, rid2).state) == "updated"


def test_renewal_rules_refuse_overlaps_and_a_second_open_renewal(listener_site):
    site = listener_site
    cid = sign(site, started_days_ago=340, ends_in=25)

    def overlapping(s):
        contract = s.get(Contract, cid)
        admin = s.scalar(select(Staff).where(Staff.username == "admin"))
        services.propose(site, s, contract, admin, starts_on=site.day_of(), ends_on=site.day_of() + timedelta(
            days=100), amount=Decimal("1"), assignee_id=None)

    with pytest.raises(ValidationError) as exc:
        site.db.run(overlapping)
    assert "starts_on" in exc.value.errors
    _renewal(site, cid)
    with pytest.raises(ValidationError):
        _renewal(site, cid)


def test_migration_gives_existing_service_contracts_their_first_period(make_site):
    site = make_site(["contracts"], migrated=False)
    migrate.upgrade(site, ["core@head"])
    site.db.run(lambda s: sync_roles(site, s))
    with site.db.engine.begin() as conn:
        conn.execute(text("INSERT INTO customer (name, address, region, office, account_type, phone, notes, "
                          "created_at, updated_at, version) VALUES ('老客户', '', '', '', 'key', '', '', "
                          "'2026-01-01 00:00:00', '2026-01-01 00:00:00', 1)"))
        customer = conn.execute(text("SELECT id FROM customer")).scalar()
        rows = [("FW-OLD-1", "service", "2025-01-05", "2025-01-20", "2026-01-19"),
                ("FW-OLD-2", "service", "2025-03-01", None, "2026-02-28"),
                ("FW-OLD-3", "service", "2025-03-01", None, None),
                ("XS-OLD-1", "sales", "2025-03-01", "2025-03-05", "2026-02-28")]
        for number, kind, signed, installed, ends in rows:
            conn.execute(text("INSERT INTO contract (number, kind, customer_id, signed_on, installed_on, ends_on, "
                              "amount, service_level, notes, created_at, updated_at, version) VALUES (:n, :k, :c, "
                              ":s, :i, :e, 0, '', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1)"),
                         {"n": number, "k": kind, "c": customer, "s": signed, "i": installed, "e": ends})
    migrate.upgrade(site)
    assert migrate.current(site)["contracts"] == "0001_contracts"

    def read(s):
        return sorted((s.get(Contract, p.contract_id).number, p.starts_on, p.ends_on, p.source)
                      for p in s.scalars(select(ServicePeriod)))

    assert site.db.run(read) == [("FW-OLD-1", date(2025, 1, 20), date(2026, 1, 19), "migration"),
                                 ("FW-OLD-2", date(2025, 3, 1), date(2026, 2, 28), "migration")]
    codes = site.db.run(lambda s: [lv.code for lv in services.levels(s)])
    assert codes == ["warranty", "out_of_warranty", "factory_repair"]


def test_daily_job_reminds_the_responsible_person_once_per_stage(make_site):
    site = make_site(["contracts"])

    def people(s):
        from fuwu.models import Role

        roles = {r.key: r for r in s.scalars(select(Role))}
        s.add(Staff(code="M", name="王经理", username="manager", roles=[roles["service_manager"]]))
        s.add(Staff(code="L", name="郑组长", username="lead", roles=[roles["group_lead"]]))

    site.db.run(people)
    window = sign(site, ends_in=50)     # inside the 60-day window
    urgent = sign(site, ends_in=10)     # red
    ended = sign(site, ends_in=-3)      # ended unrenewed
    sign(site, ends_in=200)             # far away: nothing
    sign(site, ends_in=-100)            # ended long ago: not nagged any more

    def run(now):
        return jobs.run_due(site, only="contracts.expiry_reminders", force=True, now=now)

    assert run(datetime.now(SH)) == [("contracts.expiry_reminders", "done")]

    stage_of = {message: stage for stage, message in services.REMINDERS.items()}

    def notes(s):
        manager = s.scalar(select(Staff).where(Staff.username == "manager"))
        return sorted((n.params["number"], stage_of[n.message]) for n in s.scalars(
            select(Notification).where(Notification.staff_id == manager.id)) if n.message in stage_of)

    numbers = site.db.run(lambda s: {cid: s.get(Contract, cid).number for cid in (window, urgent, ended)})
    first = site.db.run(notes)
    assert first == sorted([(numbers[window], "window"), (numbers[urgent], "urgent"), (numbers[ended], "expired")])
    # the group lead heard about this month's plan (CON-6)
    lead_notes = site.db.run(lambda s: [n.message for n in s.scalars(select(Notification).join(
        Staff, Staff.id == Notification.staff_id).where(Staff.username == "lead"))])
    assert lead_notes == ["Service-contract plan for %(month)s: %(n)s service periods end this month"]
    # the next day nothing new; 40 days later the first one turns urgent
    run(datetime.now(SH) + timedelta(days=1))
    assert site.db.run(notes) == first
    run(datetime.now(SH) + timedelta(days=40))
    assert sorted(set(site.db.run(notes)) - set(first)) == sorted([(numbers[window], "urgent"),
                                                                   (numbers[urgent], "expired")])


def test_demo_data_tells_the_story_and_loads_twice_without_duplicates(make_site):
    from fuwu import demo
    from fuwu_plugins.contracts.models import ContractTerms, Visit

    site = make_site(["contracts"])
    demo.load(site)

    def counts(s):
        return [s.scalar(select(func.count()).select_from(model))
                for model in (ServicePeriod, ContractTerms, Visit, Renewal)]

    first = site.db.run(counts)
    demo.load(site)
    assert site.db.run(counts) == first
    visits = site.db.run(lambda s: [(v.ordinal, v.free, v.decision) for v in s.scalars(
        select(Visit).order_by(Visit.visited_on))])
    assert visits == [(1, True, None), (2, True, None), (3, True, None), (4, False, "charge")]
    states = site.db.run(lambda s: sorted(r.state for r in s.scalars(select(Renewal))))
    assert {"proposed", "contacted", "done"} <= set(states)
    service = site.db.run(lambda s: s.scalar(select(func.count()).select_from(Contract).where(
        Contract.kind == "service")))
    assert first[1] == service  # every demo service contract has its terms
