"""Fixtures of the training plugin's tests: a web site with the plugin, a cast
of users, and a session of a demo customer with a small question bank."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from fuwu.models import Customer, Department, Staff

DEPT = "售后服务部"
USERS = {
    "trainer": (["trainer"], DEPT),
    "coordinator": (["coordinator"], DEPT),
    "manager": (["service_manager"], DEPT),
    "engineer": (["engineer"], DEPT),
    "outsider": (["trainer"], "西北办事处"),
}


def make_course(site, *, questions=True, code="C-1") -> int:
    from fuwu_plugins.training.models import Course, Question

    def work(s):
        course = Course(code=code, title="财务软件操作", category="operation", hours=4, goals="会用", outline="一二三")
        s.add(course)
        s.flush()
        if questions:
            s.add_all([
                Question(course_id=course.id, kind="single", text="单选题：结账前？", options=["审核记账", "打印"],
                         answer="0", points=4),
                Question(course_id=course.id, kind="multiple", text="多选题：谁能审核？",
                         options=["主管", "出纳", "制单人", "经理"], answer="0,3", points=4),
                Question(course_id=course.id, kind="truefalse", text="判断题：制单人可审核自己的凭证", answer="false",
                         points=2),
            ])
        return course.id

    return site.db.run(work)


def make_session(site, course_id, *, capacity=2, customer=True, minutes=30) -> int:
    from fuwu_plugins.training.models import TrainingSession

    def work(s):
        cust = None
        if customer:
            dept = s.scalar(select(Department).where(Department.name == DEPT))
            cust = s.scalar(select(Customer).where(Customer.department_id == dept.id).limit(1))
            if cust is None:
                cust = Customer(name="培训测试客户", account_type="key", region="华东", department_id=dept.id)
                s.add(cust)
                s.flush()
        trainer = s.scalar(select(Staff).where(Staff.username == "trainer"))
        ts = TrainingSession(course_id=course_id, customer_id=cust.id if cust else None,
                             starts_at=datetime.now(UTC) + timedelta(days=3), place="客户会议室",
                             trainer_id=trainer.id, capacity=capacity, exam_minutes=minutes, pass_mark=60)
        s.add(ts)
        s.flush()
        return ts.id

    return site.db.run(work)


@pytest.fixture
def tweb(web):
    site, app, browser = web(plugins=["training"], users=USERS)
    return site, app, browser
