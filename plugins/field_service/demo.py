"""Demo data: a month of mobile service and one team project (idempotent)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from fuwu.models import Customer, Staff

from . import services
from .models import MobileJob, Project, ProjectMember

DEMO_PROBLEM = "演示：打印机驱动安装"


def load(site, session) -> None:
    if session.scalar(select(MobileJob.id).where(MobileJob.problem.like("演示：%")).limit(1)):
        return
    staff = session.scalars(select(Staff).where(Staff.active.is_(True)).order_by(Staff.id).limit(6)).all()
    customers = session.scalars(select(Customer).order_by(Customer.id).limit(3)).all()
    if len(staff) < 4 or not customers:
        return
    now = datetime.now(UTC)
    answers = ["very_satisfied", "very_satisfied", "satisfied", None]
    kinds = ["install", "repair", "consult", "training"]
    for i in range(8):
        tech = staff[i % 3]
        assigned = now - timedelta(days=i + 1, hours=2)
        job = MobileJob(customer_id=customers[i % len(customers)].id, technician_id=tech.id,
                        coordinator_id=staff[3].id, problem=f"演示：{['打印机驱动安装', '财务软件报错', '数据备份', '操作培训'][i % 4]}",
                        kind=kinds[i % 4], state="finished", assigned_at=assigned,
                        departed_at=assigned + timedelta(minutes=5 + 3 * (i % 3)),
                        arrived_at=assigned + timedelta(minutes=50), finished_at=assigned + timedelta(hours=2),
                        work_done="已处理完毕，客户确认", answer=answers[i % 4])
        job.left_in_time = (job.departed_at - job.assigned_at) <= timedelta(minutes=10)
        job.finished_on = site.day_of(job.finished_at)
        job.score = services.rules.parse_score_table(
            site.settings.get("field_service.score_table", session)).get(job.kind, 0)
        session.add(job)
    if session.scalar(select(Project.id).where(Project.title == "演示：税控系统集中升级")) is None:
        today = site.day_of(now)
        project = Project(title="演示：税控系统集中升级", customer_id=customers[0].id, manager_id=staff[3].id,
                          leader_id=staff[0].id, expected_start=today, expected_finish=today + timedelta(days=3),
                          bonus=Decimal("600.00"), state="running")
        for s, task in zip(staff[:4], ("现场协调与日报", "服务器升级", "客户端升级", "数据核对"), strict=False):
            project.members.append(ProjectMember(staff_id=s.id, task=task))
        session.add(project)
        services.schedule_documents(session, project)
    session.flush()
