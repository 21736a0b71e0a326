"""Demo data for ``fuwu demo load``: last month closed and exported, this
month with proposed, confirmed and disputed entries, so every page of the
ledger has something to show. Idempotent through the entries' keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fuwu.models import Staff

from . import rules, services
from .models import Entry

# (staff code, amount, rule, reason, source kind, days before today, state)
LAST_MONTH = [
    ("S004", "-30.00", "TRV-8", "出差记录未写入服务记录（演示）", "demo.trip", 0, "confirmed"),
    ("S005", "300.00", "RES-4", "驻场补贴（演示）", "demo.residency", 0, "confirmed"),
    ("S006", "-50.00", "SD-9", "远程服务未记录（演示）", "demo.remote", 0, "waived"),
]
THIS_MONTH = [
    ("S004", "-200.00", "CMP-7", "服务态度投诉经核实（演示）", "demo.complaint", "proposed"),
    ("S005", "-100.00", "RES-5", "客户评价“较差”，组长罚款（演示）", "demo.rating", "disputed"),
    ("S006", "-30.00", "SD-9", "服务单未在次日交回（演示）", "demo.form", "confirmed"),
    ("S005", "500.00", "RES-8", "团队服务项目奖金（演示）", "demo.team", "proposed"),
]


def load(site, session) -> None:
    staff = {s.code: s for s in session.scalars(select(Staff))}
    manager, finance = staff.get("S003"), staff.get("S007")
    if manager is None or finance is None or session.scalar(select(Entry.id).where(Entry.source_kind.like("demo.%"))):
        return
    now = datetime.now(ZoneInfo(rules.DEFAULT_TZ))
    last = now.replace(day=1) - timedelta(days=3)
    for i, (code, amount, rule, reason, kind, _days, state) in enumerate(LAST_MONTH):
        entry = services.record(session, staff=staff[code], amount=Decimal(amount), reason=reason, rule_id=rule,
                                source=(kind, i + 1), now=last)
        if entry and state != "proposed":
            services.review(session, entry, manager, "confirm" if state == "confirmed" else "waive",
                            "" if state == "confirmed" else "首次，口头警告（演示）")
    month = rules.month_of(last)
    if not services.is_closed(session, month):
        services.close(site, session, month, finance)
    for i, (code, amount, rule, reason, kind, state) in enumerate(THIS_MONTH):
        entry = services.record(session, staff=staff[code], amount=Decimal(amount), reason=reason, rule_id=rule,
                                source=(kind, 100 + i), now=now)
        if entry is None:
            continue
        if state == "confirmed":
            services.review(session, entry, manager, "confirm", "")
        elif state == "disputed":
            entry.state = "disputed"
            entry.dispute_reason = "客户评价针对的是硬件故障，不是服务（演示）"
            entry.disputed_at = now
    session.flush()
