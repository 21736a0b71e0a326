"""Demo data for ``fuwu demo load``: terms, visits and renewals on core's demo
service contracts, so every page of the plugin has something to show.

Idempotent: a contract that already has terms is left alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from fuwu.models import Contract, Customer, Staff

from . import rules, services
from .models import ContractTerms, ServicePeriod, Visit

VISITS = [
    # days after the period start, staff code, summary
    (20, "S004", "安装后数据初始化，指导录入期初库存"),
    (45, "S004", "打印模板调整，培训仓库管理员"),
    (90, "S005", "月结报表数据不一致，修复凭证"),
    (130, "S004", "升级补丁后登录失败，重装客户端"),
]


def load(site, session) -> None:
    staff = {s.code: s for s in session.scalars(select(Staff))}
    admin = staff.get("S001")
    if admin is None:
        return
    today = site.day_of()
    contracts = list(session.scalars(select(Contract).join(Customer, Customer.id == Contract.customer_id)
                                     .where(Contract.kind == "service", Contract.number.like("FW-%"))
                                     .order_by(Contract.id)))
    done = set(session.scalars(select(ContractTerms.contract_id)))
    story_told = False
    for i, contract in enumerate(contracts):
        if contract.id in done:
            continue
        services.ensure_first_period(session, contract)
        customer = session.get(Customer, contract.customer_id)
        terms = ContractTerms(contract_id=contract.id, notes="")
        if customer.account_type == "retail" and i % 2:
            terms.visit_policy = "days"  # CON-4 alternative policy on some retail accounts
        terms.responsible_id = staff["S011"].id if customer.account_type == "key" and "S011" in staff else None
        session.add(terms)
        session.flush()
        period = session.scalar(select(ServicePeriod).where(ServicePeriod.contract_id == contract.id)
                                .order_by(ServicePeriod.ends_on.desc()).limit(1))
        if period is None:
            continue
        if not story_told and period.starts_on <= today - timedelta(days=131) and period.ends_on >= today:
            story_told = True
            # the demo's story: three free visits, a fourth that is charged and
            # disputed, and the salesperson's decision the engineer follows
            for offset, code, summary in VISITS:
                day = period.starts_on + timedelta(days=offset)
                if day > today:
                    break
                visit = Visit(visited_on=day, engineer_id=staff[code].id, problem="software", summary=summary,
                              fee=Decimal("300.00"))
                services.record_visit(site, session, contract, visit)
            charged = session.scalar(select(Visit).where(Visit.contract_id == contract.id, Visit.free.is_(False)))
            if charged is not None and "S014" in staff:
                charged.disputed = True
                charged.dispute_note = "客户认为是升级补丁引起的问题，不应收费"
                services.decide(session, contract, charged, "charge", staff["S014"], "非补丁问题，按收费标准收取",
                                datetime.now(UTC))
        left = rules.days_left(period.ends_on, today)
        assignee = staff.get("S005")
        start, end = rules.renewal_proposal(period.ends_on, site.settings.get("contracts.renewal_months", session))
        if 0 <= left <= 30:
            services.propose(site, session, contract, admin, starts_on=start, ends_on=end, amount=period.amount,
                             assignee_id=assignee.id if assignee else None, notes="客户已口头同意续约")
        elif -60 <= left < 0:
            renewal = services.propose(site, session, contract, admin, starts_on=start, ends_on=end,
                                       amount=period.amount,
                                       assignee_id=assignee.id if assignee else None)
            services.advance(site, session, renewal, "agree", admin, "续约合同已盖章寄回")
            services.advance(site, session, renewal, "contact", admin, "已电话通知客户信息部主管")
        elif -150 <= left < -60:
            renewal = services.propose(site, session, contract, admin, starts_on=start, ends_on=end,
                                       amount=period.amount,
                                       assignee_id=assignee.id if assignee else None)
            for step, comment in (("agree", "续约款已到账"), ("contact", "已通知客户"), ("update", "已更新软件及序列号"),
                                  ("complete", "")):
                services.advance(site, session, renewal, step, admin, comment)
