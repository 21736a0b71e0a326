"""Demo data: two courses with question banks, a session for a demo customer,
an agreed plan and one staff assessment. Looked up by natural keys, so loading
twice adds nothing."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from fuwu.models import Customer, Role, Staff

from .models import Assessment, Course, Plan, Question, TrainingSession


def load(site, session) -> None:
    if session.scalar(select(Course.id).where(Course.code == "TRN-OP-01")):
        return
    trainer = session.scalar(select(Staff).join(Staff.roles).where(Role.key == "trainer").limit(1)) or \
        session.scalar(select(Staff).order_by(Staff.id).limit(1))
    op = Course(code="TRN-OP-01", title="财务软件日常操作", category="operation", hours=6,
                goals="学员能独立完成凭证录入、审核、记账和月末结账。",
                outline="1. 系统登录与账套\n2. 凭证录入与审核\n3. 记账与结账\n4. 常用报表",
                trainer_id=trainer.id if trainer else None)
    internal = Course(code="TRN-IN-01", title="售后服务规范与服务意识", category="internal", hours=3,
                      goals="熟悉售后服务流程、服务承诺与礼仪。", outline="服务理念、首问负责、投诉处理",
                      trainer_id=trainer.id if trainer else None)
    session.add_all([op, internal])
    session.flush()
    session.add_all([
        Question(course_id=op.id, kind="single", text="月末结账前必须先完成哪一步？",
                 options=["所有凭证已审核记账", "打印报表", "备份账套"], answer="0", points=4),
        Question(course_id=op.id, kind="multiple", text="哪些人可以审核凭证？（多选）",
                 options=["主管会计", "出纳", "制单人本人", "财务经理"], answer="0,3", points=4),
        Question(course_id=op.id, kind="truefalse", text="制单人可以审核自己录入的凭证。", answer="false", points=2),
        Question(course_id=op.id, kind="short", text="简述反结账的步骤。", answer="取消记账、取消审核、反结账", points=10),
    ])
    customer = session.scalar(select(Customer).order_by(Customer.id).limit(1))
    if customer is not None:
        start = datetime.combine(datetime.now(UTC).date() + timedelta(days=7), time(1, 30), tzinfo=UTC)
        plan = Plan(customer_id=customer.id, course_id=op.id, title=f"{customer.name} 软件操作培训",
                    goals=op.goals, content=op.outline, place="on_site", starts_on=start.date(),
                    trainees="财务部 3 人", trainer_id=trainer.id if trainer else None)
        site.workflows.start(session, plan, trainer)
        session.add(TrainingSession(course_id=op.id, customer_id=customer.id, starts_at=start, place="客户财务部会议室",
                                    trainer_id=trainer.id if trainer else None, capacity=10, plan_id=plan.id))
    if trainer is not None:
        session.add(Assessment(staff_id=trainer.id, kind="periodic", assessed_on=datetime.now(UTC).date(),
                               technical=85, attitude=90, proficiency=80, remarks="季度考核"))
