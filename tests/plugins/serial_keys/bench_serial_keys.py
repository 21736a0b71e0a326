"""Figures of the serial_keys issue (not collected by pytest; run by hand):

    .venv/bin/python -m tests.plugins.serial_keys.bench_serial_keys [--keys 100000] [--rows 10000] [--db URL]

- entitlement lookup on N keys: the JSON API request (median of many) and its
  ratio to a bare indexed ``SELECT id ... WHERE dongle_number = ?``;
- import of an XLSX sheet of M rows: dry run and import, through HTTP.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert, select, text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--db", default="")
    args = parser.parse_args()

    from fuwu import migrate
    from fuwu.config import Config
    from fuwu.demo import load_core
    from fuwu.models import Contract, Customer, Product, Role, Staff
    from fuwu.passwords import hash_password
    from fuwu.seed import sync_roles
    from fuwu.site import Site
    from fuwu.web.app import create_app
    from fuwu_plugins.serial_keys import services
    from fuwu_plugins.serial_keys.models import ProductKey
    from starlette.testclient import TestClient

    home = Path(tempfile.mkdtemp(prefix="sk_bench_"))
    url = args.db or f"sqlite:///{home / 'bench.sqlite3'}"
    site = Site(Config(home=home, database_url=url, plugins=["contracts", "serial_keys"], secret_key="bench"))
    migrate.upgrade(site)

    def setup(s):
        sync_roles(site, s)
        load_core(site, s)
        role = s.scalar(select(Role).where(Role.key == "service_manager"))
        s.add(Staff(code="BENCH", name="bench", username="bench", password_hash=hash_password("pw-bench-123"),
                    roles=[role], email="bench@example.com"))

    site.db.run(setup)
    customers = site.db.run(lambda s: [c.id for c in s.scalars(select(Customer))])
    products = site.db.run(lambda s: [p.id for p in s.scalars(select(Product))])
    contracts = site.db.run(lambda s: {c.customer_id: c.id for c in s.scalars(select(Contract)
                                                                             .where(Contract.kind == "service"))})
    now = datetime.now(UTC)
    started = time.perf_counter()
    batch = []
    with site.db.engine.begin() as conn:
        for i in range(args.keys):
            cust = customers[i % len(customers)]
            batch.append({"customer_id": cust, "product_id": products[i % len(products)],
                          "contract_id": contracts.get(cust), "serial_number": f"BENCH-SN-{i:07d}",
                          "service_code": f"BENCH-SC-{i:07d}", "dongle_number": f"BENCH-DG-{i:07d}",
                          "installed_on": date(2025, 1, 1), "expires_on": date(2027, 1, 1), "revoked": False,
                          "notes": "", "created_at": now, "updated_at": now, "version": 1})
            if len(batch) == 5000:
                conn.execute(insert(ProductKey), batch)
                batch = []
        if batch:
            conn.execute(insert(ProductKey), batch)
        if url.startswith("postgresql"):
            conn.execute(text("ANALYZE serial_keys_key"))
        else:
            conn.execute(text("ANALYZE"))
    print(f"database: {url.split('@')[-1]}; {args.keys} keys inserted in {time.perf_counter() - started:.1f}s")

    app = create_app(site)
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    token = client.get("/login").text.split('name="csrf-token" content="')[1].split('"')[0]
    client.post("/login", data={"username": "bench", "password": "pw-bench-123", "csrf_token": token})
    _row, secret = site.db.run(lambda s: services.issue_token(s, "bench", s.scalar(select(Staff).where(
        Staff.username == "bench"))))
    auth = {"Authorization": f"Bearer {secret}"}
    numbers = [f"BENCH-DG-{random.randrange(args.keys):07d}" for _ in range(args.lookups)]

    def timed(fn):
        times = []
        for n in numbers:
            t0 = time.perf_counter()
            fn(n)
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1000, sorted(times)[int(len(times) * 0.95)] * 1000

    for n in numbers[:20]:  # warm up
        client.get("/serial_keys/api/lookup", params={"number": n}, headers=auth)

    def api(n):
        r = client.get("/serial_keys/api/lookup", params={"number": n}, headers=auth)
        assert r.status_code == 200, r.text

    def page(n):
        r = client.get("/serial_keys/lookup", params={"q": n}, headers={"HX-Request": "true"})
        assert r.status_code == 200 and "entitlement" in r.text

    def service(n):
        site.db.run(lambda s: services.entitlement(site, s, services.find_key(s, n), date.today()), write=False)

    def bare(n):
        with site.db.engine.connect() as conn:
            conn.execute(select(ProductKey.id).where(ProductKey.dongle_number == n)).scalar()

    results = {"bare indexed SELECT (own connection)": timed(bare), "lookup service (one transaction)": timed(service),
               "JSON API request": timed(api), "htmx lookup fragment request": timed(page)}
    base = results["bare indexed SELECT (own connection)"][0]
    print(f"lookup by dongle number on {args.keys} keys, {args.lookups} lookups each:")
    for name, (median, p95) in results.items():
        print(f"  {name:40s} median {median:7.2f} ms  p95 {p95:7.2f} ms  ratio {median / base:6.1f}x")

    # --- import ------------------------------------------------------------------------
    from openpyxl import Workbook

    names = site.db.run(lambda s: [c.name for c in s.scalars(select(Customer))])
    codes = site.db.run(lambda s: [p.code for p in s.scalars(select(Product))])
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["客户名称", "产品编码", "序列号", "服务码", "加密锁号", "安装日期", "合同编号"])
    for i in range(args.rows):
        sheet.append([names[i % len(names)], codes[i % len(codes)], f"IMP-SN-{i:06d}", f"IMP-SC-{i:06d}",
                      f"IMP-DG-{i:06d}" if i % 2 else None, date(2025, 3, 1), None])
    buf = io.BytesIO()
    book.save(buf)
    content = buf.getvalue()
    csrf = client.get("/serial_keys/import").text.split('name="csrf-token" content="')[1].split('"')[0]
    t0 = time.perf_counter()
    r = client.post("/serial_keys/import", data={"csrf_token": csrf},
                    files={"file": ("base.xlsx", content)})
    dry = time.perf_counter() - t0
    assert r.status_code == 200, r.text[-2000:]
    action = r.text.split('action="/serial_keys/import/')[1].split('"')[0]
    t0 = time.perf_counter()
    r = client.post(f"/serial_keys/import/{action}", data={"csrf_token": csrf})
    done = time.perf_counter() - t0
    assert r.status_code == 303, r.text[-2000:]
    print(f"import of {args.rows} XLSX rows ({len(content) // 1024} KB): dry run {dry:.1f}s, import {done:.1f}s "
          f"(on top of {args.keys} keys)")
    site.close()


if __name__ == "__main__":
    main()
