"""A complaint from intake to archive through HTTP, as the people of the
regulation do it (CMP-1..5), with the deadlines on the page."""

from __future__ import annotations

from sqlalchemy import select

from fuwu.notifications import Notification

from tests.conftest import customer_name

from .conftest import customer, dept_id, staff_id, step


def test_phone_complaint_from_intake_to_archive(cweb):
    site, _app, browser = cweb
    quality = browser("quality")
    cust = customer(site, key=True)
    page = quality.get("/complaints/new")
    assert page.status_code == 200
    r = quality.submit("/complaints/new", {
        "customer_id": customer_name(site, cust), "contact_name": "李主任", "contact_phone": "010-12345678", "source": "direct",
        "channel": "phone", "received_at": "2026-11-20T10:00", "category": "response",
        "description": "报修后一天无人回电", "concerned_department_id": dept_id(site)}, page="/complaints/new")
    assert r.status_code == 303, r.text[:3000]
    url = r.headers["location"]
    cid = int(url.rstrip("/").rsplit("/", 1)[1])
    detail = quality.get(url)
    assert "报修后一天无人回电" in detail.text and 'data-deadline="reply"' in detail.text

    step(quality, cid, "review", {"valid": "yes", "department_id": dept_id(site)})
    manager = browser("manager")
    step(manager, cid, "reply", {"cause": "值班安排不当", "cause_category": "capacity",
                                 "responsible_staff_id": staff_id(site, "engineer"), "measures": "调整值班表",
                                 "reply_kind": "apologise", "reply_text": "已致歉并当日上门"})
    step(manager, cid, "handled", {"result": "已上门解决"})
    page = manager.get(url)
    assert 'data-deadline="follow_up"' in page.text
    step(browser("lead"), cid, "follow_up", {"resolved": "yes", "opinion": "满意"})
    step(quality, cid, "archive", {"corrective": "值班表每周复核", "preventive": "增加备岗"})
    page = quality.get(url)
    assert 'id="complaint-state">Archived<' in page.text
    # the general manager was asked to call the key account personally (CMP-3)
    notes = site.db.run(lambda s: list(s.scalars(select(Notification.message).where(
        Notification.staff_id == staff_id(site, "boss")))))
    assert any("call the customer personally" in n for n in notes)
