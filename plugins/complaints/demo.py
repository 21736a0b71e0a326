"""Demo data for ``fuwu demo load``: complaints at every step, so each page has
something to show. Idempotent: nothing is added when demo complaints exist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from fuwu.models import Customer, Department, Staff

from . import services
from .models import Complaint, Promise

STORIES = [
    # days ago, category, what happened, how far it goes
    (20, "attitude", "工程师上门时态度生硬，不耐烦回答问题", "archive"),
    (12, "response", "报修后两天无人联系", "follow_up"),
    (6, "charges", "客户认为升级补丁不应收费，但合同未承诺免费升级", "invalid"),
    (3, "technical", "月结后报表数据仍不一致，问题反复出现", "reply"),
    (0, "other", "客户要求更换服务工程师", "received"),
]


def load(site, session) -> None:
    if session.scalar(select(Complaint.id).where(Complaint.description == STORIES[0][2]).limit(1)):
        return
    staff = {s.code: s for s in session.scalars(select(Staff))}
    admin = staff.get("S001")
    customers = list(session.scalars(select(Customer).order_by(Customer.id).limit(len(STORIES))))
    dept = session.scalar(select(Department).order_by(Department.id).limit(1))
    if admin is None or not customers or dept is None:
        return
    engineer = staff.get("S004") or admin
    now = datetime.now(UTC)
    for (days, category, text, until), customer in zip(STORIES, customers, strict=False):
        at = now - timedelta(days=days, hours=2)
        c = services.receive(site, session, admin, customer_id=customer.id, description=text, category=category,
                             contact_name="王经理", contact_phone="010-88886666",
                             concerned_staff_id=engineer.id if category == "attitude" else None,
                             concerned_department_id=dept.id, received_at=at)
        if until == "received":
            continue
        if until == "invalid":
            services.review(site, session, c, admin, valid=False, at=at + timedelta(hours=1),
                            explanation="服务协议未承诺免费升级，已向客户解释收费标准")
            continue
        services.review(site, session, c, admin, valid=True, department_id=dept.id, at=at + timedelta(minutes=30))
        services.reply(site, session, c, admin, cause="未按服务规范沟通", cause_category="communication",
                       responsible_staff_id=engineer.id, measures="部门经理约谈，重新上门", reply_kind="serve_again",
                       reply_text="已致歉并安排次日重新上门", at=at + timedelta(hours=2))
        session.add(Promise(complaint_id=c.id, kind="time_limit", text="次日上午上门处理", made_by_id=admin.id,
                            due_on=(at + timedelta(days=1)).date(), status="kept" if days > 5 else "open"))
        if until == "reply":
            continue
        services.handled(site, session, c, admin, result="已重新上门处理，客户确认问题解决", at=at + timedelta(days=1))
        if until == "follow_up":
            continue
        services.follow_up(site, session, c, admin, resolved=True, opinion="客户表示满意", at=at + timedelta(days=2))
        services.archive(site, session, c, admin, corrective="对当事工程师进行服务规范培训",
                         preventive="每月抽查服务回访录音", at=at + timedelta(days=3))
    session.flush()
