"""The baseline: what the bare stack does for the same pages.

A Starlette app with no middleware, no sign-in and no ORM: SQLAlchemy Core
queries on the same database file and a Jinja2 template rendering the same
customer list (same columns, same 50 rows ordered by name, the total and
the region filter options). Handlers are plain ``def`` functions like fuwu's,
so both run in Starlette's thread pool.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

PAGE_SIZE = 50
ACCOUNT_TYPES = {"key": "大客户（月结）", "retail": "零售客户（现结）"}

metadata = MetaData()
customer = Table(
    "customer", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String), Column("address", String), Column("region", String), Column("office", String),
    Column("account_type", String), Column("phone", String),
    Column("version", Integer), Column("updated_at", DateTime),
    # added by ``floor_engine`` only: who saved, for its trigger
    Column("bench_actor_id", Integer),
)
audit = Table(
    "core_audit", metadata,
    Column("id", Integer, primary_key=True), Column("at", DateTime), Column("actor_id", Integer),
    Column("table_name", String), Column("row_id", Integer), Column("action", String), Column("field", String),
    Column("old", String), Column("new", String),
)
timeline = Table(
    "core_timeline", metadata,
    Column("id", Integer, primary_key=True), Column("customer_id", Integer), Column("at", DateTime),
    Column("actor_id", Integer), Column("source", String), Column("kind", String), Column("message", String),
    Column("params", JSON),
)


def bare_engine(path: Path) -> Engine:
    """A plain engine on the same file, with fuwu's durability settings
    (WAL, synchronous=NORMAL) so a commit costs the same on both sides."""
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def _cursor(name: str, row_id: int) -> str:
    raw = json.dumps([name, row_id], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def create_app(engine: Engine) -> Starlette:
    env = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
                      autoescape=select_autoescape(default=True), auto_reload=False)
    template = env.get_template("customers.html")
    results_block = template.blocks["results"]
    columns = [customer.c.id, customer.c.name, customer.c.account_type, customer.c.region, customer.c.office,
               customer.c.phone]
    page_query = select(*columns).order_by(customer.c.name, customer.c.id).limit(PAGE_SIZE + 1)
    count_query = select(func.count()).select_from(customer)
    # The region options by a loose index scan (one seek per region), as
    # fuwu's page gets them; SELECT DISTINCT would read the whole index.
    step = select(func.min(customer.c.region).label("region")).where(customer.c.region > "").cte(
        "regions", recursive=True)
    following = select(func.min(customer.c.region)).where(customer.c.region > step.c.region).scalar_subquery()
    step = step.union_all(select(following).where(step.c.region.is_not(None)))
    regions_query = select(step.c.region).where(step.c.region.is_not(None))

    def customers(request: Request) -> Response:
        # For htmx, as fuwu's page: only the results (no region options to read).
        fragment = "hx-request" in request.headers
        with engine.connect() as conn:
            rows = conn.execute(page_query).all()
            total = conn.execute(count_query).scalar_one()
            regions = [] if fragment else conn.scalars(regions_query).all()
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        values = dict(rows=rows, total=total, regions=regions, account_types=ACCOUNT_TYPES,
                      q=request.query_params.get("q", ""), region=request.query_params.get("region"),
                      next_key=_cursor(rows[-1].name, rows[-1].id) if more else None)
        if fragment:
            return HTMLResponse("".join(results_block(template.new_context(values))))
        return HTMLResponse(template.render(values))

    def hello(request: Request) -> Response:
        return Response(b"ok", media_type="text/plain")

    return Starlette(routes=[Route("/customers", customers), Route("/hello", hello)])


def core_save(engine: Engine, customer_id: int, address: str) -> None:
    """The baseline of a save: one UPDATE of the column, committed."""
    with engine.begin() as conn:
        conn.execute(update(customer).where(customer.c.id == customer_id).values(address=address))


def core_save_same_writes(engine: Engine, customer_id: int, address: str, actor_id: int) -> None:
    """For reference: fuwu's four statements written by hand in Core (read
    the old value, versioned UPDATE, audit row, timeline entry)."""
    now = datetime.now(UTC).replace(tzinfo=None)  # SQLite keeps naive UTC, as fuwu stores it
    with engine.begin() as conn:
        old, version = conn.execute(select(customer.c.address, customer.c.version)
                                    .where(customer.c.id == customer_id)).one()
        changed = conn.execute(update(customer).where(customer.c.id == customer_id, customer.c.version == version)
                               .values(address=address, version=version + 1, updated_at=now)).rowcount
        if changed != 1:
            raise RuntimeError("concurrent change")
        conn.execute(insert(audit).values(at=now, actor_id=actor_id, table_name="customer", row_id=customer_id,
                                          action="update", field="address", old=old, new=address))
        conn.execute(insert(timeline).values(customer_id=customer_id, at=now, actor_id=actor_id, source="core",
                                             kind="note", message="Address changed to %(address)s",
                                             params={"address": address}))


#: The audit row and the timeline entry of an address change, written by
#: SQLite itself. TEMP: it exists on the floor engine's connections only, so
#: no other side's UPDATE fires it.
FLOOR_TRIGGER = """
CREATE TEMP TRIGGER IF NOT EXISTS bench_floor AFTER UPDATE OF address ON main.customer
FOR EACH ROW WHEN OLD.address IS NOT NEW.address BEGIN
  INSERT INTO core_audit (at, actor_id, table_name, row_id, action, field, old, new)
    VALUES (NEW.updated_at, NEW.bench_actor_id, 'customer', NEW.id, 'update', 'address', OLD.address, NEW.address);
  INSERT INTO core_timeline (customer_id, at, actor_id, source, kind, message, params)
    VALUES (NEW.id, NEW.updated_at, NEW.bench_actor_id, 'core', 'note', 'Address changed to %(address)s',
            json_object('address', NEW.address));
END"""


def floor_engine(path: Path) -> Engine:
    """For reference: the least any design can send for a versioned save
    with audit and timeline, one UPDATE (the version from the form, so no
    read first), with the two other rows written by a trigger. It adds a
    ``bench_actor_id`` column to the customer table of the bench site."""
    engine = bare_engine(path)
    with engine.begin() as conn:
        if "bench_actor_id" not in {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(customer)")}:
            conn.exec_driver_sql("ALTER TABLE customer ADD COLUMN bench_actor_id INTEGER")
    engine.dispose()  # connections made before the column was added

    @event.listens_for(engine, "connect")
    def _trigger(dbapi_connection, _record):
        dbapi_connection.execute(FLOOR_TRIGGER)

    return engine


def floor_save(engine: Engine, customer_id: int, version: int, address: str, actor_id: int) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        changed = conn.execute(update(customer).where(customer.c.id == customer_id, customer.c.version == version)
                               .values(address=address, version=version + 1, updated_at=now,
                                       bench_actor_id=actor_id)).rowcount
    if changed != 1:
        raise RuntimeError("concurrent change")
