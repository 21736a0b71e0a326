"""Core models, unit of work, audit, timeline and events, through the session API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fuwu import timeline
from fuwu.audit import AuditEntry
from fuwu.db import check_version
from fuwu.errors import StaleEdit
from fuwu.models import Contract, Customer, Staff


def add_customer(site, name="上海测试有限公司", **kw):
    def work(s):
        c = Customer(name=name, region="华东", **kw)
        s.add(c)
        s.flush()
        return c.id

    return site.db.run(work, actor_id=None)


def test_money_round_trips_exactly_and_sums_in_sql(site):
    cid = add_customer(site)

    def work(s):
        for i, amount in enumerate(["0.10", "0.20", "1234567890.99"]):
            s.add(Contract(number=f"C{i}", customer_id=cid, signed_on=date(2026, 1, 1), amount=Decimal(amount)))

    site.db.run(work)
    with site.db.session(write=False) as s:
        total = s.scalar(select(func.sum(Contract.amount)))
        amounts = s.scalars(select(Contract.amount).order_by(Contract.number)).all()
    assert total == Decimal("1234567891.29")
    assert amounts[0] == Decimal("0.10") and isinstance(amounts[0], Decimal)


def test_float_money_is_refused(site):
    cid = add_customer(site)
    with pytest.raises(Exception, match="Decimal"):
        site.db.run(lambda s: s.add(Contract(number="F", customer_id=cid, signed_on=date(2026, 1, 1), amount=0.1)))


def test_times_are_stored_aware(site):
    cid = add_customer(site)
    with site.db.session(write=False) as s:
        created = s.get(Customer, cid).created_at
    assert created.tzinfo is not None and created.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("bad", [
    dict(amount=Decimal("-1")),
    dict(starts_on=date(2026, 5, 1), ends_on=date(2026, 4, 1)),
    dict(kind="lease"),
])
def test_contract_constraints(site, bad):
    cid = add_customer(site)
    values = dict(number="X1", customer_id=cid, signed_on=date(2026, 1, 1)) | bad
    with pytest.raises(IntegrityError):
        site.db.run(lambda s: s.add(Contract(**values)))


def test_customer_names_are_unique(site):
    add_customer(site, "同名公司")
    with pytest.raises(IntegrityError):
        add_customer(site, "同名公司")


def test_second_save_of_same_version_is_refused(site):
    cid = add_customer(site)
    with site.db.session(write=False) as s:
        seen_version = s.get(Customer, cid).version

    def save(address):
        def work(s):
            c = s.get(Customer, cid)
            check_version(c, seen_version)
            c.address = address

        site.db.run(work)

    save("first person's address")
    with pytest.raises(StaleEdit):
        save("second person's address")
    with site.db.session(write=False) as s:
        assert s.get(Customer, cid).address == "first person's address"


def test_concurrent_flush_with_stale_row_raises_stale_edit(site):
    cid = add_customer(site)
    with pytest.raises(StaleEdit):
        with site.db.session() as s1:
            c1 = s1.get(Customer, cid)
            # another writer bumps the row in between (outside this transaction on PG;
            # on SQLite the write lock is ours, so simulate it in the same connection)
            s1.execute(Customer.__table__.update().where(Customer.id == cid).values(version=Customer.version + 1))
            c1.address = "lost?"
            s1.flush()


def test_audit_rows_record_who_what_old_new(site):
    staff_id = site.db.run(lambda s: (s.add(st := Staff(code="E1", name="审计员")), s.flush(), st.id)[2])
    cid = add_customer(site)

    def edit(s):
        s.get(Customer, cid).address = "北京市"

    site.db.run(edit, actor_id=staff_id)
    with site.db.session(write=False) as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.table_name == "customer")
                         .order_by(AuditEntry.id)).all()
    assert [r.action for r in rows] == ["create", "update"]
    assert (rows[1].field, rows[1].old, rows[1].new, rows[1].actor_id) == ("address", "", "北京市", staff_id)


def test_a_deleted_record_is_audited_with_its_name(site):
    cid = add_customer(site)
    site.db.run(lambda s: s.delete(s.get(Customer, cid)))
    with site.db.session(write=False) as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.table_name == "customer", AuditEntry.row_id == cid)
                         .order_by(AuditEntry.id)).all()
    name = rows[0].new
    assert [r.action for r in rows] == ["create", "delete"] and name and rows[1].old == name


def test_listener_failure_rolls_back_change_audit_and_timeline(make_plugin, make_site):
    make_plugin("strict", plugin="""
        from fuwu import timeline
        @hookimpl
        def customer_created(session, customer):
            timeline.append(session, customer.id, "checked")
            if customer.name.startswith("坏"):
                raise ValueError("refused by listener")
    """)
    site = make_site(["strict"])
    with pytest.raises(ValueError, match="refused by listener"):
        add_customer(site, "坏客户")
    add_customer(site, "好客户")
    with site.db.session(write=False) as s:
        assert s.scalars(select(Customer.name)).all() == ["好客户"]
        assert s.scalar(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.table_name == "customer")) == 1
        assert s.scalar(select(func.count()).select_from(timeline.TimelineEntry)) == 1


def test_changed_event_carries_old_and_new(make_plugin, make_site):
    make_plugin("watcher", plugin="""
        SEEN = []
        @hookimpl
        def customer_changed(session, customer, changes):
            SEEN.append(changes)
    """)
    site = make_site(["watcher"])
    cid = add_customer(site)

    def edit(s):
        s.get(Customer, cid).region = "华北"

    site.db.run(edit)
    import fuwu_test_watcher.plugin as watcher

    assert watcher.SEEN == [{"region": ("华东", "华北")}]


def test_timeline_is_translated_for_each_reader(site):
    cid = add_customer(site)
    site.db.run(lambda s: timeline.append(s, cid, "Contract %(number)s signed", number="FW-1",
                                          at=datetime(2026, 3, 1, tzinfo=UTC)))
    with site.db.session(write=False) as s:
        entry = timeline.history(s, cid)[0]
    assert entry.text(lambda m: m) == "Contract FW-1 signed"
    assert entry.text(lambda m: {"Contract %(number)s signed": "合同 %(number)s 已签订"}.get(m, m)) == "合同 FW-1 已签订"


def test_listener_reaches_the_site_through_its_session(make_plugin, make_site):
    make_plugin("reader", plugin="""
        from fuwu.site import site_of
        READ = []
        @hookimpl
        def customer_created(session, customer):
            READ.append(site_of(session).settings.get("core.page_size", session))
    """)
    site = make_site(["reader"], settings={"core.page_size": 7})
    add_customer(site)
    import fuwu_test_reader.plugin as reader

    assert reader.READ == [7]
