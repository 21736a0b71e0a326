"""A trip from application to settlement over HTTP, with each approver's
view of why every amount is what it is (TRV-1..6)."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from fuwu_plugins.travel_expense.models import Advance, Claim, Trip

from .conftest import STANDARD_LINES, approved_trip, created_id, step


def test_trip_advance_claim_and_settlement(tweb):
    site, _app, browser = tweb
    eng, manager, boss, finance, office = (browser(u) for u in ("eng", "manager", "boss", "finance", "office"))
    trip = approved_trip(site, browser)
    # administration archives the application; it is then read-only
    assert step(office, "trip", trip, "approve", "已归档").status_code == 303
    assert site.db.run(lambda s: s.get(Trip, trip).state) == "archived"

    # TRV-5: payment request, approved by the general manager, paid by finance
    r = eng.submit(f"/travel_expense/trip/{trip}/advance", {"amount": "800", "purpose": "差旅借款", "method": "cheque"},
                   page=f"/travel_expense/trip/{trip}/advance")
    advance = created_id(r)
    assert step(boss, "advance", advance, "approve", "同意").status_code == 303
    r = finance.submit(f"/travel_expense/advance/{advance}/pay", {"paid_on": "2026-03-01", "reference": "CHQ-001"},
                       page=f"/travel_expense/advance/{advance}")
    assert r.status_code == 303
    assert site.db.run(lambda s: s.get(Advance, advance).state) == "paid"
    assert "800.00" in finance.get("/travel_expense/ledger").text

    # TRV-6: the claim, computed from the general-staff standard
    data = {"departed_at": "2026-03-02T09:00", "returned_at": "2026-03-04T10:30", **STANDARD_LINES}
    claim = created_id(eng.submit(f"/travel_expense/trip/{trip}/claim", data, page=f"/travel_expense/trip/{trip}"))
    page = eng.get(f"/travel_expense/claim/{claim}").text
    assert "Meals: 2.5 days x 30.00 = 75.00" in page
    assert "lodging 2 nights: actual 260.00, cap 240.00, paid 240.00, employee bears 20.00" in page
    assert "Total payable: 530.50" in page
    assert "Advance 800.00 - payable 530.50 = 269.50 returned by the employee" in page
    assert step(eng, "claim", claim, "submit").status_code == 303
    # the service manager sees the same explanation, in Chinese too
    zh = manager.get(f"/travel_expense/claim/{claim}", headers={"Accept-Language": "zh-CN"}).text
    assert "2.5 天 × 30.00 = 75.00" in zh
    assert step(manager, "claim", claim, "approve", "符合标准").status_code == 303

    # finance settles: the employee returns 269.50, the advance is cleared
    page = finance.get(f"/travel_expense/claim/{claim}").text
    assert "The employee returns the difference: <strong>CN¥269.50</strong>" in page
    version = re.search(r'id="settle-form">.*?name="version" value="(\d+)"', page, re.S).group(1)
    r = finance.submit(f"/travel_expense/claim/{claim}/settle", {"reference": "收据-9", "version": version},
                       page=f"/travel_expense/claim/{claim}")
    assert r.status_code == 303, r.text[:800]

    def check(s):
        c, a = s.get(Claim, claim), s.get(Advance, advance)
        return c.state, c.settlement_kind, c.settlement_amount, a.state

    assert site.db.run(check) == ("settled", "refund", Decimal("269.50"), "cleared")
    ledger = finance.get("/travel_expense/ledger").text
    assert "<td>eng</td><td class=\"num\">CN¥800.00</td><td class=\"num\">CN¥800.00</td><td class=\"num\">CN¥0.00</td>" in ledger
    # the paper form carries the signature lines
    assert 'class="signature"' in eng.get(f"/travel_expense/claim/{claim}").text
    # and a new advance is possible again
    assert eng.get(f"/travel_expense/trip/{trip}/advance").status_code == 200


def test_demo_data_loads_twice_without_duplicates(make_site):
    from fuwu.demo import load_core

    site = make_site(["travel_expense"])

    def load(s):
        load_core(site, s)
        site.plugins.hook.demo_data(session=s, site=site)

    site.db.run(load)
    site.db.run(load)
    assert site.db.run(lambda s: len(s.scalars(select(Trip)).all())) == 1
