"""The approval workflow engine (CORE-5) as the example plugin uses it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fuwu.errors import Forbidden, ReadOnlyRecord, ValidationError
from fuwu.models import Customer, Role, Staff
from fuwu.workflow import Workflow

PLUGINS = ("hotline",)


@pytest.fixture
def hotline(thirdparty_path, make_site):
    site = make_site(PLUGINS)

    def setup(s):
        roles = {r.key: r for r in s.scalars(select(Role))}
        eng = Staff(code="E1", name="李工", roles=[roles["engineer"]])
        mgr = Staff(code="M1", name="王经理", roles=[roles["service_manager"]])
        other = Staff(code="E2", name="孙工", roles=[roles["engineer"]])
        cust = Customer(name="客户甲")
        s.add_all([eng, mgr, other, cust])
        s.flush()
        return eng.id, mgr.id, other.id, cust.id

    ids = site.db.run(setup)
    return site, ids


def new_call(site, eng_id, cust_id):
    from fuwu_hotline.models import HotlineCall

    def work(s):
        call = HotlineCall(customer_id=cust_id, summary="打印机驱动问题")
        site.workflows.start(s, call, s.get(Staff, eng_id))
        return call.id

    return site.db.run(work, actor_id=eng_id)


def act(site, call_id, name, actor_id, comment=""):
    from fuwu_hotline.models import HotlineCall

    def work(s):
        return site.workflows.transition(s, s.get(HotlineCall, call_id), name, s.get(Staff, actor_id), comment).target

    return site.db.run(work, actor_id=actor_id)


def waiting(site, staff_id):
    with site.db.session(write=False) as s:
        return [(t.title, t.state) for t in site.workflows.waiting_on(s, s.get(Staff, staff_id))]


def test_full_chain_with_rejection_and_history(hotline):
    site, (eng, mgr, _other, cust) = hotline
    call = new_call(site, eng, cust)
    assert waiting(site, eng) == [("打印机驱动问题", "draft")]
    assert act(site, call, "submit", eng) == "review"
    assert waiting(site, eng) == [] and waiting(site, mgr) == [("打印机驱动问题", "review")]
    with pytest.raises(ValidationError) as err:
        act(site, call, "reject", mgr)
    assert "comment" in err.value.errors
    assert act(site, call, "reject", mgr, "缺少客户联系人") == "draft"
    assert act(site, call, "submit", eng) == "review"
    assert act(site, call, "approve", mgr) == "archived"
    assert waiting(site, mgr) == []
    from fuwu_hotline.models import HotlineCall

    with site.db.session(write=False) as s:
        log = site.workflows.history(s, s.get(HotlineCall, call))
    assert [(e.from_state, e.to_state, e.actor_id) for e in log] == [
        (None, "draft", eng), ("draft", "review", eng), ("review", "draft", mgr),
        ("draft", "review", eng), ("review", "archived", mgr)]
    assert log[2].comment == "缺少客户联系人"


def test_permission_and_ownership_are_enforced(hotline):
    site, (eng, mgr, other, cust) = hotline
    call = new_call(site, eng, cust)
    with pytest.raises(Forbidden):
        act(site, call, "submit", other)  # not the owner
    act(site, call, "submit", eng)
    with pytest.raises(Forbidden):
        act(site, call, "approve", eng)  # engineers cannot review
    with pytest.raises(ValidationError):
        act(site, call, "submit", eng)  # wrong state


def test_archived_record_is_read_only(hotline):
    site, (eng, mgr, _other, cust) = hotline
    call = new_call(site, eng, cust)
    act(site, call, "submit", eng)
    act(site, call, "approve", mgr)
    from fuwu_hotline.models import HotlineCall

    def edit(s):
        s.get(HotlineCall, call).summary = "改过了"

    with pytest.raises(ReadOnlyRecord):
        site.db.run(edit)
    with site.db.session(write=False) as s:
        assert s.get(HotlineCall, call).summary == "打印机驱动问题"


def test_approval_chain_builder_makes_sequential_steps():
    wf = Workflow.approval_chain(
        "x.form", "Form", object, submit_permission="x.form.submit",
        steps=[("lead", "Group lead", "x.form.lead"), ("manager", "Manager", "x.form.manager"),
               ("gm_office", "GM office", "x.form.gm")])
    assert [t.target for t in wf.transitions if t.name == "approve"] == ["manager", "gm_office", "archived"]
    assert all(t.target == "draft" and t.needs_reason for t in wf.transitions if t.name == "reject")
    assert wf.is_read_only("archived") and not wf.is_read_only("lead")


def test_whoever_takes_a_step_is_not_told_it_waits_for_them(hotline):
    """A job or a demo loader moves a record with no signed-in actor on its
    unit of work: the step's own actor still hears nothing of their own step,
    while the person it then waits for does."""
    from fuwu.notifications import Notification
    from fuwu_hotline.models import HotlineCall

    site, (eng, mgr, _other, cust) = hotline

    def work(s):  # no actor_id on the unit of work
        call = HotlineCall(customer_id=cust, summary="打印机驱动问题")
        site.workflows.start(s, call, s.get(Staff, eng))
        return call.id

    call = site.db.run(work)
    assert waiting(site, eng) == [("打印机驱动问题", "draft")]

    def told(s):
        return [(n.staff_id, n.url) for n in s.scalars(select(Notification).order_by(Notification.id))]

    assert site.db.run(told) == []
    site.db.run(lambda s: site.workflows.transition(s, s.get(HotlineCall, call), "submit", s.get(Staff, eng)))
    site.db.run(lambda s: site.workflows.transition(s, s.get(HotlineCall, call), "reject", s.get(Staff, mgr),
                                                    "缺少客户联系人"))
    assert [staff for staff, _url in site.db.run(told)] == [eng]
