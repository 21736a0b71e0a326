"""Demo data: a believable after-sales department for ``make run``.

Idempotent: every row is looked up by its natural key first, so loading twice
adds nothing and never touches a row a user created or edited.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import follow_ups
from .models import Contact, Contract, Customer, CustomerProduct, Department, Position, Product, Role, Staff
from .passwords import hash_password
from .seed import sync_roles

DEMO_PASSWORD = "fuwu-demo-2026"
#: (username, password, what they can do) printed by `fuwu demo load` / `make run`
DEMO_LOGINS = [
    ("admin", DEMO_PASSWORD, "administrator"),
    ("wang.fang", DEMO_PASSWORD, "service manager"),
    ("li.qiang", DEMO_PASSWORD, "service engineer"),
    ("zhao.min", DEMO_PASSWORD, "finance"),
    ("chen.jing", DEMO_PASSWORD, "quality supervisor"),
    ("liu.yang", DEMO_PASSWORD, "general manager"),
]

DEPARTMENTS = [
    ("售后服务部", "after_sales"), ("客户关系部", "customer_relations"), ("行政人事部", "administration"),
    ("财务部", "finance"), ("质量管理部", "quality"), ("总经理办公室", "gm_office"),
    ("大客户部", "key_accounts"), ("实施部", "implementation"), ("总部服务发展部", "headquarters"),
]

POSITIONS = [
    ("售后工程师", "junior"), ("售后工程师", "intermediate"), ("售后工程师", "senior"),
    ("远程维护工程师", "intermediate"), ("售前工程师", "intermediate"), ("服务经理", "manager"),
    ("组长", "manager"), ("协调员", "intermediate"), ("技术员", "junior"), ("质量主管", "manager"),
    ("培训师", "intermediate"), ("实施顾问", "intermediate"), ("项目经理", "manager"),
    ("总经理", "executive"), ("会计", "intermediate"), ("销售代表", "intermediate"),
]

# code, name, username, department, (position, grade), roles, hired, probation months
STAFF = [
    ("S001", "系统管理员", "admin", "总经理办公室", ("总经理", "executive"), ["admin"], date(2018, 3, 1), 0),
    ("S002", "刘洋", "liu.yang", "总经理办公室", ("总经理", "executive"), ["general_manager"], date(2015, 6, 1), 0),
    ("S003", "王芳", "wang.fang", "售后服务部", ("服务经理", "manager"), ["service_manager", "engineer"],
     date(2017, 2, 13), 0),
    ("S004", "李强", "li.qiang", "售后服务部", ("售后工程师", "intermediate"), ["engineer"], date(2021, 7, 5), 0),
    ("S005", "张伟", None, "售后服务部", ("售后工程师", "senior"), ["engineer", "group_lead"], date(2016, 9, 1), 0),
    ("S006", "孙丽", None, "售后服务部", ("售后工程师", "junior"), ["engineer"], date(2026, 9, 1), 3),
    ("S007", "赵敏", "zhao.min", "财务部", ("会计", "intermediate"), ["finance"], date(2019, 4, 8), 0),
    ("S008", "陈静", "chen.jing", "质量管理部", ("质量主管", "manager"), ["quality_supervisor"],
     date(2018, 11, 19), 0),
    ("S009", "周杰", None, "客户关系部", ("协调员", "intermediate"), ["coordinator"], date(2020, 5, 6), 0),
    ("S010", "吴婷", None, "售后服务部", ("培训师", "intermediate"), ["trainer"], date(2019, 8, 26), 0),
    ("S011", "郑浩", None, "大客户部", ("组长", "manager"), ["group_lead"], date(2017, 10, 9), 0),
    ("S012", "黄磊", None, "实施部", ("实施顾问", "intermediate"), ["engineer"], date(2022, 3, 14), 0),
    ("S013", "林晓", None, "行政人事部", ("会计", "intermediate"), ["administration"], date(2020, 1, 6), 0),
    ("S014", "何军", None, "客户关系部", ("销售代表", "intermediate"), ["sales"], date(2021, 2, 22), 0),
]

PRODUCTS = [
    ("ERP-STD", "企业管理软件 标准版"), ("ERP-PRO", "企业管理软件 专业版"), ("HR-PAY", "人事薪资系统"),
    ("FIN-NET", "网络财务软件"), ("POS-RT", "零售收银系统"), ("WMS", "仓储管理系统"),
]

# name, region, office, address, account type, contact, phone, products
CUSTOMERS = [
    ("上海浦江精密机械有限公司", "华东", "上海办事处", "上海市闵行区莘庄工业区春东路 508 号", "key",
     "杨建国", "021-64881234", ["ERP-PRO", "WMS"]),
    ("杭州西湖丝绸集团", "华东", "杭州办事处", "杭州市西湖区天目山路 176 号", "key", "沈美玲", "0571-87654321",
     ["ERP-PRO", "HR-PAY"]),
    ("南京金陵医药有限公司", "华东", "南京办事处", "南京市鼓楼区中山北路 88 号", "retail", "吴志刚", "025-83316677",
     ["FIN-NET"]),
    ("苏州工业园区恒通电子", "华东", "苏州办事处", "苏州工业园区星湖街 328 号", "retail", "钱晓东", "0512-62881100",
     ["ERP-STD"]),
    ("北京华夏建设工程有限公司", "华北", "北京分公司", "北京市朝阳区建国路 93 号万达广场 B 座", "key", "马国强",
     "010-85996688", ["ERP-PRO", "FIN-NET", "HR-PAY"]),
    ("天津港联物流股份公司", "华北", "天津办事处", "天津市滨海新区新港二号路 35 号", "key", "刘德明", "022-25706789",
     ["WMS", "ERP-STD"]),
    ("石家庄冀中纺织厂", "华北", "石家庄办事处", "石家庄市长安区中山东路 265 号", "retail", "赵红梅", "0311-86012345",
     ["ERP-STD"]),
    ("广州岭南百货有限公司", "华南", "广州分公司", "广州市越秀区北京路 294 号", "key", "黄伟文", "020-83338899",
     ["POS-RT", "ERP-PRO"]),
    ("深圳南山智能科技有限公司", "华南", "深圳办事处", "深圳市南山区科技园高新南一道 9 号", "retail", "陈思远",
     "0755-26701234", ["ERP-STD", "HR-PAY"]),
    ("东莞长安五金制品厂", "华南", "东莞办事处", "东莞市长安镇振安中路 18 号", "retail", "梁家辉", "0769-85331122",
     ["ERP-STD"]),
    ("成都天府餐饮管理有限公司", "西南", "成都办事处", "成都市锦江区红星路三段 1 号", "retail", "李小龙",
     "028-86661234", ["POS-RT"]),
    ("重庆山城汽车配件有限公司", "西南", "重庆办事处", "重庆市渝北区金开大道 68 号", "key", "冉文华", "023-67891234",
     ["ERP-PRO", "WMS"]),
    ("武汉江汉光电股份公司", "华中", "武汉办事处", "武汉市东湖新技术开发区光谷大道 77 号", "key", "胡建华",
     "027-87771234", ["ERP-PRO", "FIN-NET"]),
    ("长沙湘江出版印刷厂", "华中", "长沙办事处", "长沙市开福区湘江中路二段 36 号", "retail", "彭丽华",
     "0731-84561234", ["FIN-NET"]),
    ("沈阳北方重工设备公司", "东北", "沈阳办事处", "沈阳市铁西区北二东路 16 号", "key", "孙志强", "024-25881234",
     ["ERP-PRO", "HR-PAY"]),
    ("哈尔滨冰城乳业有限公司", "东北", "哈尔滨办事处", "哈尔滨市南岗区红军街 15 号", "retail", "王雪",
     "0451-53601234", ["ERP-STD", "POS-RT"]),
    ("西安古城文化旅游集团", "西北", "西安办事处", "西安市碑林区南大街 52 号", "key", "张秦生", "029-87251234",
     ["ERP-PRO", "POS-RT"]),
    ("兰州黄河水务有限公司", "西北", "兰州办事处", "兰州市城关区庆阳路 219 号", "retail", "马海燕", "0931-84681234",
     ["FIN-NET"]),
]


#: (scheduled by, for, due in days, what to do) on the first customers
FOLLOW_UPS = [
    ("S003", "S003", 0, "回电确认系统升级日期，并提醒服务合同续约"),
    ("S003", "S004", 2, "上门前电话确认机房开放时间"),
]


def _get_or_add(session: Session, model, key: dict, **values):
    row = session.scalar(select(model).filter_by(**key))
    if row is None:
        row = model(**key, **values)
        session.add(row)
        session.flush()
    return row


def load_core(site, session: Session, today: date | None = None) -> None:
    today = today or date.today()
    sync_roles(site, session)
    depts = {name: _get_or_add(session, Department, {"name": name}, kind=kind) for name, kind in DEPARTMENTS}
    positions = {p: _get_or_add(session, Position, {"name": p[0], "grade": p[1]}) for p in POSITIONS}
    roles = {r.key: r for r in session.scalars(select(Role))}
    secret = None
    staff = {}
    for code, name, username, dept, pos, role_keys, hired, probation in STAFF:
        row = session.scalar(select(Staff).where(Staff.code == code))
        if row is None:
            if username and secret is None:
                secret = hash_password(DEMO_PASSWORD)
            row = Staff(code=code, name=name, username=username, password_hash=secret if username else None,
                        department=depts[dept], position=positions[pos], hired_on=hired,
                        probation_ends_on=hired + timedelta(days=30 * probation) if probation else None,
                        roles=[roles[k] for k in role_keys], email=f"{(username or code).lower()}@fuwu.example")
            session.add(row)
            session.flush()
        staff[code] = row
    for dept_name, manager_code in [("售后服务部", "S003"), ("总经理办公室", "S002"), ("财务部", "S007"),
                                     ("质量管理部", "S008"), ("大客户部", "S011")]:
        if depts[dept_name].manager_id is None:
            depts[dept_name].manager = staff[manager_code]
    products = {code: _get_or_add(session, Product, {"code": code}, name=name) for code, name in PRODUCTS}
    after_sales = depts["售后服务部"]
    for i, (name, region, office, address, kind, contact, phone, codes) in enumerate(CUSTOMERS):
        customer = session.scalar(select(Customer).where(Customer.name == name))
        if customer is not None:
            continue
        signed = today - timedelta(days=40 + 53 * i)
        customer = Customer(name=name, region=region, office=office, address=address, account_type=kind,
                            phone=phone, department_id=after_sales.id,
                            sales_staff_id=staff["S014"].id)
        customer.contacts.append(Contact(name=contact, phone=phone, title="信息部主管", is_primary=True,
                                         email=f"it{i + 1}@customer.example"))
        customer.products = [CustomerProduct(product=products[c], purchased_on=signed) for c in codes]
        session.add(customer)
        session.flush()
        amount = Decimal(18000 + 3500 * len(codes) * (2 if kind == "key" else 1))
        session.add(Contract(number=f"XS-{signed:%Y}-{i + 1:04d}", kind="sales", customer_id=customer.id,
                             signed_on=signed, installed_on=signed + timedelta(days=14), amount=amount,
                             products=[products[c] for c in codes], signed_by_id=staff["S014"].id))
        installed = signed + timedelta(days=14) if i % 5 else None
        starts = installed or signed
        session.add(Contract(number=f"FW-{signed:%Y}-{i + 1:04d}", kind="service", customer_id=customer.id,
                             signed_on=signed, installed_on=installed, starts_on=starts,
                             ends_on=starts + timedelta(days=365) - timedelta(days=1),
                             amount=(amount * Decimal("0.12")).quantize(Decimal("0.01")),
                             service_level="gold" if kind == "key" else "standard",
                             products=[products[c] for c in codes], signed_by_id=staff["S003"].id))
        if i < len(FOLLOW_UPS):  # what waits on the service manager's and an engineer's dashboards
            by, assignee, days, note = FOLLOW_UPS[i]
            follow_ups.schedule(session, customer, staff[assignee], today + timedelta(days=days), note, by=staff[by])


def load(site, today: date | None = None) -> None:
    """Core demo data, then each enabled plugin's, in one transaction."""

    def work(session: Session) -> None:
        load_core(site, session, today)
        session.flush()
        # each plugin after the plugins it depends on (pluggy alone would call the last first)
        site.plugins.collect_by_plugin("demo_data", session=session, site=site)

    site.db.run(work, actor_id=None)
