"""The benchmark's site: a migrated SQLite database with many customers.

Customers go in with one Core executemany per chunk (the ORM would take
minutes for 100,000 rows). Names are believable Chinese company names —
city + trade name + industry + legal form — drawn without repetition from
their combinations by a seeded generator, so every run builds the same data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from fuwu import migrate
from fuwu.config import Config
from fuwu.db import utcnow
from fuwu.models import Customer, Department, Role, Staff
from fuwu.seed import sync_roles
from fuwu.site import Site
from fuwu.web import sessions
from fuwu.web.endpoint import SESSION_LIFETIME

PAGE_SIZE = 50
SEED = 20240601

# city, region, telephone area code
CITIES = [
    ("上海", "华东", "021"), ("杭州", "华东", "0571"), ("南京", "华东", "025"), ("苏州", "华东", "0512"),
    ("宁波", "华东", "0574"), ("无锡", "华东", "0510"), ("合肥", "华东", "0551"), ("福州", "华东", "0591"),
    ("厦门", "华东", "0592"), ("济南", "华东", "0531"), ("青岛", "华东", "0532"), ("南昌", "华东", "0791"),
    ("北京", "华北", "010"), ("天津", "华北", "022"), ("石家庄", "华北", "0311"), ("太原", "华北", "0351"),
    ("呼和浩特", "华北", "0471"), ("唐山", "华北", "0315"),
    ("广州", "华南", "020"), ("深圳", "华南", "0755"), ("东莞", "华南", "0769"), ("佛山", "华南", "0757"),
    ("南宁", "华南", "0771"), ("海口", "华南", "0898"), ("珠海", "华南", "0756"),
    ("武汉", "华中", "027"), ("长沙", "华中", "0731"), ("郑州", "华中", "0371"), ("洛阳", "华中", "0379"),
    ("宜昌", "华中", "0717"),
    ("成都", "西南", "028"), ("重庆", "西南", "023"), ("昆明", "西南", "0871"), ("贵阳", "西南", "0851"),
    ("西安", "西北", "029"), ("兰州", "西北", "0931"), ("银川", "西北", "0951"), ("西宁", "西北", "0971"),
    ("乌鲁木齐", "西北", "0991"),
    ("沈阳", "东北", "024"), ("大连", "东北", "0411"), ("长春", "东北", "0431"), ("哈尔滨", "东北", "0451"),
]
BRANDS = (
    "恒通 华信 新元 金鼎 宏达 瑞丰 鑫源 中天 永安 德隆 嘉禾 广利 东方 长城 天成 九州 海纳 博远 锦程 星辰 "
    "汇通 盛世 富安 泰和 同创 中科 安达 万隆 利民 康泰 佳美 联创 正大 三友 明德 远航 腾飞 卓越 昌盛 和信 "
    "宝丰 益民 誉达 凯旋 鸿运 伟业 华美 金桥 银河 天润 润泽 冠华 精诚 立信 聚源 振华 飞跃 龙腾 凤凰 百合 "
    "青松 红星 启明 晨光 朝阳 宇通 海天 山河 众邦 合力 顺达 信达 广源 惠民 福瑞 祥和 吉安 永兴 兴旺 茂源 "
    "丰泽 华瑞 金盛 亿达 博创 鼎新 汇丰 新锐"
).split()
INDUSTRIES = (
    "电子科技 机械制造 精密仪器 物流 医药 食品 纺织 建材 化工 贸易 餐饮管理 软件 信息技术 汽车配件 五金制品 "
    "印刷 家具 服饰 电器 环保科技 农业科技 包装材料 塑胶制品 光电 建设工程 文化传媒 酒店管理 商贸 新能源 生物科技"
).split()
LEGAL_FORMS = ["有限公司", "股份有限公司", "集团有限公司", "实业有限公司"]
DISTRICTS = ["高新区", "经济技术开发区", "工业园区", "新区", "城关区", "开发区", "滨江区", "中心区"]
ROADS = ["人民路", "建设路", "解放路", "中山路", "长江路", "黄河路", "科技路", "工业大道", "滨江大道", "和平路",
         "新华路", "光明路", "文化路", "胜利路"]


def customer_rows(count: int, *, department_id: int | None, seed: int = SEED) -> list[dict]:
    """``count`` distinct customers as Core parameter dicts."""
    shape = (len(CITIES), len(BRANDS), len(INDUSTRIES), len(LEGAL_FORMS))
    combinations = shape[0] * shape[1] * shape[2] * shape[3]
    if count > combinations:
        raise ValueError(f"at most {combinations} distinct customer names")
    rng = random.Random(seed)
    now = utcnow()
    rows = []
    for n, index in enumerate(rng.sample(range(combinations), count)):
        index, form = divmod(index, shape[3])
        index, industry = divmod(index, shape[2])
        city_i, brand = divmod(index, shape[1])
        city, region, area = CITIES[city_i]
        created = now - timedelta(minutes=count - n)
        rows.append({
            "name": f"{city}{BRANDS[brand]}{INDUSTRIES[industry]}{LEGAL_FORMS[form]}",
            "address": f"{city}市{rng.choice(DISTRICTS)}{rng.choice(ROADS)} {rng.randint(1, 999)} 号",
            "region": region,
            "office": f"{city}{'分公司' if area.startswith('0') and len(area) == 3 else '办事处'}",
            "account_type": "key" if rng.random() < 0.2 else "retail",
            "phone": f"{area}-{rng.randint(2, 8)}{rng.randint(0, 9999999):07d}",
            "notes": "",
            "sales_staff_id": None,
            "department_id": department_id,
            "created_at": created,
            "updated_at": created,
            "version": 1,
        })
    return rows


@dataclass
class BenchSite:
    site: Site
    home: Path
    admin_id: int
    #: the signed-in admin's session cookie value
    session_token: str
    customers: int

    @property
    def database_path(self) -> Path:
        return Path(self.site.db.engine.url.database)

    def close(self) -> None:
        self.site.close()


def build(home: Path, customers: int, *, chunk: int = 10_000) -> BenchSite:
    """Migrate a new SQLite site in ``home``, add an admin with a live
    session and ``customers`` customers."""
    home.mkdir(parents=True, exist_ok=True)
    config = Config(home=home, database_url=f"sqlite:///{(home / 'fuwu.sqlite3').resolve()}",
                    plugins=[], secret_key="bench-secret", settings={"core.page_size": PAGE_SIZE})
    site = Site(config)
    migrate.upgrade(site)
    site.db.run(lambda s: sync_roles(site, s))

    with site.db.session() as db:
        department = Department(name="售后服务部", kind="after_sales")
        admin = Staff(code="B001", name="系统管理员", username="admin", department=department,
                      roles=list(db.scalars(select(Role).where(Role.key == "admin"))),
                      email="admin@fuwu.example")
        db.add(admin)
        db.flush()
        token = sessions.start(db, admin, ip="127.0.0.1", user_agent="fuwu-bench", lifetime=SESSION_LIFETIME)
        admin_id, department_id = admin.id, department.id

    rows = customer_rows(customers, department_id=department_id)
    with site.db.engine.begin() as conn:
        for start in range(0, len(rows), chunk):
            conn.execute(insert(Customer.__table__), rows[start:start + chunk])
    with site.db.session(write=False) as db:
        stored = db.scalar(select(func.count()).select_from(Customer))
    if stored != customers:
        raise RuntimeError(f"expected {customers} customers, found {stored}")
    return BenchSite(site, home, admin_id, token, customers)
