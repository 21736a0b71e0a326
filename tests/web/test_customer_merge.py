"""Merging a customer entered twice: everything of the duplicate, a
plugin's records included, moves to the kept customer, then it goes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from fuwu.audit import AuditEntry
from fuwu.models import Contact, Contract, Customer, CustomerProduct, Department, Product

from .test_contracts import english

USERS = {"coord": (["coordinator"], "客服部"), "eng": (["engineer"], "客服部")}


def _setup(site):
    def work(s):
        from fuwu_plugins.serial_keys.models import ProductKey

        dept = s.scalar(select(Department).filter_by(name="客服部"))
        erp, wms = s.scalars(select(Product).order_by(Product.id)).all()[:2]
        keep = Customer(name="杭州恒通电子科技有限公司", department_id=dept.id, phone="0571-1111",
                        contacts=[Contact(name="张经理", is_primary=True)],
                        products=[CustomerProduct(product_id=erp.id)])
        dup = Customer(name="杭州恒通电子", department_id=dept.id, address="杭州市滨江区 1 号", phone="0571-2222",
                       contacts=[Contact(name="李工", is_primary=True)],
                       products=[CustomerProduct(product_id=erp.id), CustomerProduct(product_id=wms.id)])
        s.add_all([keep, dup])
        s.flush()
        s.add(Contract(number="HT-DUP-1", customer_id=dup.id, signed_on=date(2026, 1, 5)))
        s.add(ProductKey(customer_id=dup.id, product_id=wms.id, serial_number="WMS-DUP-1", service_code="SC-DUP"))
        return keep.id, dup.id, {erp.id, wms.id}

    return site.db.run(work)


def test_a_duplicate_and_all_it_holds_move_to_the_kept_customer(web):
    site, app, browser = web(["contracts", "serial_keys"], users=USERS)
    keep_id, dup_id, products = _setup(site)
    coord = english(browser("coord"))
    page = coord.get(f"/customers/{keep_id}").text
    assert f'href="/customers/{keep_id}/merge"' in page
    coord.submit(f"/customers/{dup_id}/notes", {"text": "重复录入的客户的回访记录"})

    preview = coord.submit(f"/customers/{keep_id}/merge", {"duplicate": "杭州恒通电子"})
    assert preview.status_code == 200 and 'id="merge-preview"' in preview.text
    for moved in ("Contact (1)", "Contract (1)", "Product key (1)", "Service history entry (1)"):
        assert moved in preview.text, moved
    assert site.db.run(lambda s: s.get(Customer, dup_id)) is not None  # a preview changes nothing

    version = site.db.run(lambda s: s.get(Customer, keep_id).version)
    done = coord.submit(f"/customers/{keep_id}/merge", {"duplicate": "杭州恒通电子", "confirm": "1",
                                                        "version": str(version)})
    assert done.status_code == 303 and done.headers["location"] == f"/customers/{keep_id}"

    def after(s):
        from fuwu_plugins.serial_keys.models import ProductKey

        keep = s.get(Customer, keep_id)
        return (s.get(Customer, dup_id), keep.phone, keep.address,
                {c.name: c.is_primary for c in keep.contacts}, {p.product_id for p in keep.products},
                s.scalar(select(Contract.customer_id).filter_by(number="HT-DUP-1")),
                s.scalar(select(ProductKey.customer_id).filter_by(serial_number="WMS-DUP-1")),
                s.scalar(select(AuditEntry.action).where(AuditEntry.table_name == "customer",
                                                         AuditEntry.row_id == dup_id).order_by(AuditEntry.id.desc())))

    gone, phone, address, contacts, have, contract_of, key_of, last_action = site.db.run(after)
    assert gone is None and last_action == "delete"
    assert phone == "0571-1111" and address == "杭州市滨江区 1 号"  # its own kept, an empty one filled
    assert contacts == {"张经理": True, "李工": False}  # one primary contact
    assert have == products and contract_of == keep_id and key_of == keep_id
    history = coord.get(f"/customers/{keep_id}").text
    assert "杭州恒通电子, entered twice, merged into this customer by coord" in history
    assert "重复录入的客户的回访记录" in history  # the duplicate's history came along
    assert coord.get(f"/customers/{dup_id}").status_code == 404


def test_merging_refuses_itself_a_stale_page_and_those_without_the_right(web):
    site, app, browser = web(["contracts", "serial_keys"], users=USERS)
    keep_id, dup_id, _products = _setup(site)
    coord = english(browser("coord"))
    itself = coord.submit(f"/customers/{keep_id}/merge", {"duplicate": "杭州恒通电子科技有限公司"})
    assert itself.status_code == 422 and "Choose another customer than this one." in itself.text
    stale = coord.submit(f"/customers/{keep_id}/merge", {"duplicate": "杭州恒通电子", "confirm": "1", "version": "0"})
    assert stale.status_code == 409
    assert browser("eng").submit(f"/customers/{keep_id}/merge", {"duplicate": "杭州恒通电子"}).status_code == 403
    assert site.db.run(lambda s: s.get(Customer, dup_id)) is not None


def test_a_merge_that_would_give_a_customer_two_of_a_once_per_customer_record_changes_nothing(web, make_plugin):
    make_plugin("onceper", plugin='''
        from sqlalchemy import ForeignKey, String
        from sqlalchemy.orm import Mapped, mapped_column

        from fuwu.db import Model
        from fuwu.i18n import lazy_gettext as _l

        class ServiceCharter(Model):
            """One signed service charter per customer."""
            __tablename__ = "test_onceper_charter"
            __record_label__ = _l("Service charter")
            customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), unique=True)
            title: Mapped[str] = mapped_column(String(50))
    ''')
    site, app, browser = web(["contracts", "serial_keys", "onceper"], users=USERS)
    from fuwu_test_onceper.plugin import ServiceCharter

    ServiceCharter.__table__.create(site.db.engine)  # what the plugin's migration would make
    keep_id, dup_id, _products = _setup(site)
    site.db.run(lambda s: s.add_all([ServiceCharter(customer_id=keep_id, title="2026"),
                                     ServiceCharter(customer_id=dup_id, title="2025")]))
    coord = english(browser("coord"))
    version = site.db.run(lambda s: s.get(Customer, keep_id).version)
    r = coord.submit(f"/customers/{keep_id}/merge", {"duplicate": "杭州恒通电子", "confirm": "1", "version": version})
    assert r.status_code == 409
    assert "both have a Service charter record that a customer may have only once. Nothing was changed." in r.text

    def state(s):
        return (s.get(Customer, dup_id) is not None,
                sorted(s.scalars(select(Contact.name).where(Contact.customer_id == dup_id))),
                s.scalar(select(Contract.customer_id).where(Contract.number == "HT-DUP-1")),
                sorted(s.execute(select(ServiceCharter.customer_id, ServiceCharter.title)).all()))

    assert site.db.run(state) == (True, ["李工"], dup_id, sorted([(keep_id, "2026"), (dup_id, "2025")]))
