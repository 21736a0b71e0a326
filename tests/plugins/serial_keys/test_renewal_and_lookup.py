"""SK-3 renewal through the contracts workflow, the entitlement lookup (page
and JSON API with tokens), and record rules."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from .conftest import add_key, sign

VERSION = re.compile(r'name="version" value="(\d+)"')


def _keys(site, contract_id):
    from fuwu_plugins.serial_keys.models import ProductKey

    return site.db.run(lambda s: [(k.serial_number, k.expires_on) for k in s.scalars(
        select(ProductKey).where(ProductKey.contract_id == contract_id).order_by(ProductKey.id))])


def _renew(b, contract_id, *, last_step_status=303):
    detail = f"/contracts/service/{contract_id}"
    new = b.get(f"{detail}/renewals/new").text
    fields = {n: re.search(rf'name="{n}" value="([^"]*)"', new).group(1) for n in ("starts_on", "ends_on", "amount")}
    assignee = re.search(r'<option value="(\d+)" selected', new).group(1)
    r = b.submit(f"{detail}/renewals/new", {**fields, "assignee_id": assignee, "notes": ""},
                 page=f"{detail}/renewals/new")
    assert r.status_code == 303, r.text[:1000]
    renewal = r.headers["location"].split("?")[0]
    steps = ("agree", "contact", "update", "complete")
    for step in steps:
        version = VERSION.search(b.get(renewal).text).group(1)
        r = b.submit(f"{renewal}/step", {"step": step, "comment": "", "version": version}, page=renewal)
        expected = last_step_status if step == "complete" else 303
        assert r.status_code == expected, (step, r.status_code, r.text[:500])
    return renewal, fields


def test_completing_a_renewal_renews_the_contracts_keys_with_new_serials(skweb):
    site, _app, browser = skweb
    contract_id, _cust = sign(site, ends_in=10, started_days_ago=350)
    add_key(site, contract_id, "ERP-OLD-0001", dongle="DG-100001")
    add_key(site, contract_id, "ERP-OLD-0002")
    before = _keys(site, contract_id)
    b = browser("manager")
    _renewal, fields = _renew(b, contract_id)
    after = _keys(site, contract_id)
    assert all(expiry.isoformat() == fields["ends_on"] for _s, expiry in after)
    assert all(new != old for (new, _e), (old, _o) in zip(after, before, strict=True))  # SK-3 "new" numbering
    assert all(new.startswith("SK-ERP-") for new, _e in after)
    from fuwu_plugins.serial_keys.models import KeyEvent

    events = site.db.run(lambda s: [(e.action, e.old_serial_number) for e in s.scalars(
        select(KeyEvent).where(KeyEvent.action == "renewed").order_by(KeyEvent.id))])
    assert events == [("renewed", "ERP-OLD-0001"), ("renewed", "ERP-OLD-0002")]


def test_keep_numbering_only_extends_the_expiry(web):
    from .conftest import PLUGINS, USERS

    site, _app, browser = web(plugins=PLUGINS, users=USERS, settings={"serial_keys.renewal_numbering": "keep"})
    contract_id, _cust = sign(site, ends_in=10, started_days_ago=350)
    add_key(site, contract_id, "ERP-KEEP-0001")
    _renewal, fields = _renew(browser("manager"), contract_id)
    assert _keys(site, contract_id) == [("ERP-KEEP-0001", date.fromisoformat(fields["ends_on"]))]


def test_a_failing_key_renewal_leaves_renewal_and_keys_unchanged(web):
    from .conftest import PLUGINS, USERS

    # a scheme without {random} gives both keys the same new serial: the second clashes
    site, _app, browser = web(plugins=PLUGINS, users=USERS,
                              settings={"serial_keys.serial_scheme": "{product}-{year}"})
    contract_id, _cust = sign(site, ends_in=10, started_days_ago=350)
    add_key(site, contract_id, "ERP-FAIL-0001")
    add_key(site, contract_id, "ERP-FAIL-0002")
    before = _keys(site, contract_id)
    b = browser("manager")
    renewal, _fields = _renew(b, contract_id, last_step_status=409)
    assert _keys(site, contract_id) == before
    from fuwu_plugins.contracts.models import Renewal

    assert site.db.run(lambda s: s.scalars(select(Renewal.state)).all()) == ["updated"]
    assert 'id="renewal-state"' in b.get(renewal).text


def test_a_lapsed_key_shows_as_expired_everywhere(skweb):
    site, _app, browser = skweb
    contract_id, customer_id = sign(site, ends_in=-5, started_days_ago=400)
    add_key(site, contract_id, "ERP-LAPSED-01")
    b = browser("engineer")
    assert "key-expired" in b.get("/serial_keys/", params={"q": "ERP-LAPSED"}).text
    assert "key-expired" in b.get("/serial_keys/lookup", params={"q": "erp-lapsed-01"}).text
    assert "key-expired" in b.get(f"/customers/{customer_id}").text
    assert "ERP-LAPSED-01" in b.get("/serial_keys/", params={"state": "expired"}).text
    assert "ERP-LAPSED-01" not in b.get("/serial_keys/", params={"state": "active"}).text


def test_lookup_by_each_number_shows_warranty_sla_and_free_visits(skweb):
    site, _app, browser = skweb
    contract_id, _cust = sign(site, customer="查询测试客户")
    add_key(site, contract_id, "ERP-LOOK-0001", service_code="FWM-778899", dongle="DG-555001")
    b = browser("engineer")
    for number in ("ERP-LOOK-0001", "fwm-778899", " DG-555001 ", "ｅｒｐ－ｌｏｏｋ－０００１"):  # full-width too
        r = b.get("/serial_keys/lookup", params={"q": number}, headers={"HX-Request": "true"})
        assert r.status_code == 200
        assert "<html" not in r.text  # htmx: the answer only
        assert "查询测试客户" in r.text and "warranty-in" in r.text
        assert "Within warranty" in r.text  # the SLA level of a contract in warranty (CON-3)
        assert re.search(r'class="free-visits">3<', r.text)  # CON-4: 3 free visits, none used
    r = b.get("/serial_keys/lookup", params={"q": "NOPE-0000"})
    assert 'id="not-found"' in r.text and "查询测试客户" not in r.text
    # while typing: the numbers that begin like this, each a link to its answer
    r = b.get("/serial_keys/lookup", params={"q": "dg-55"}, headers={"HX-Request": "true"})
    assert 'id="candidates"' in r.text and "?q=ERP-LOOK-0001" in r.text and "查询测试客户" in r.text


def test_lookup_respects_record_rules(skweb):
    site, _app, browser = skweb
    contract_id, _cust = sign(site, customer="别部门的客户")
    add_key(site, contract_id, "ERP-HIDDEN-01", dongle="DG-777001")
    for q in ("DG-777001", "DG-777", "ERP-HID"):
        r = browser("outsider").get("/serial_keys/lookup", params={"q": q})
        assert 'id="not-found"' in r.text and "别部门的客户" not in r.text and 'id="candidates"' not in r.text


def _issue_token(b, label="CRM"):
    r = b.submit("/serial_keys/tokens/new", {"label": label}, page="/serial_keys/tokens")
    assert r.status_code == 200, r.text[:500]
    return re.search(r'id="token-secret">([^<]+)<', r.text).group(1)


def test_api_lookup_with_a_token_and_its_revocation(skweb):
    site, _app, browser = skweb
    contract_id, _cust = sign(site, customer="接口客户")
    add_key(site, contract_id, "ERP-API-0001", service_code="FWM-API-01", dongle="DG-API-01")
    admin = browser("manager")
    token = _issue_token(admin)
    api = browser()
    auth = {"Authorization": f"Bearer {token}"}
    for number in ("ERP-API-0001", "FWM-API-01", "dg-api-01"):
        r = api.get("/serial_keys/api/lookup", params={"number": number}, headers=auth)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["customer"]["name"] == "接口客户" and body["in_warranty"] is True
        assert body["sla_level"]["code"] == "warranty" and body["free_visits_left"] == 3
        assert body["serial_number"] == "ERP-API-0001" and body["key_state"] == "active"
    r = api.get("/serial_keys/api/lookup", params={"number": "ERP-NONE-9999"}, headers=auth)
    assert r.status_code == 404 and "接口客户" not in r.text
    assert api.get("/serial_keys/api/lookup", params={"number": "ERP-API-0001"}).status_code == 401
    assert api.get("/serial_keys/api/lookup", params={"number": "ERP-API-0001"},
                   headers={"Authorization": "Bearer sk_wrong"}).status_code == 401
    # the secret is not stored
    from fuwu_plugins.serial_keys.models import ApiToken

    stored = site.db.run(lambda s: s.scalars(select(ApiToken)).one())
    assert token not in (stored.token_hash, stored.prefix)
    page = admin.get("/serial_keys/tokens").text
    revoke = re.search(r'action="(/serial_keys/tokens/\d+/revoke)"', page).group(1)
    assert admin.submit(revoke, page="/serial_keys/tokens").status_code == 303
    assert api.get("/serial_keys/api/lookup", params={"number": "ERP-API-0001"}, headers=auth).status_code == 401


def test_only_token_admins_manage_tokens(skweb):
    _site, _app, browser = skweb
    b = browser("engineer")
    assert b.get("/serial_keys/tokens").status_code == 403
    assert b.submit("/serial_keys/tokens/new", {"label": "x"}).status_code == 403


def test_every_route_declares_one_of_the_plugins_permissions(skweb):
    from fuwu.web.app import route_permissions

    site, app, _browser = skweb
    mine = [(path, perm, reason) for path, perm, reason in route_permissions(app) if path.startswith("/serial_keys")]
    assert len(mine) == 19
    public = [path for path, perm, _reason in mine if perm is None]
    # the JSON lookup authenticates with an API token instead of a session
    assert public == ["/serial_keys/api/lookup"]
    assert all(perm in site.permissions for _p, perm, _r in mine if perm is not None)


def test_the_failed_renewal_says_why_in_the_readers_language(web):
    from .conftest import PLUGINS, USERS

    site, _app, browser = web(plugins=PLUGINS, users=USERS, settings={"serial_keys.serial_scheme": "FIXED"})
    contract_id, _cust = sign(site, ends_in=10, started_days_ago=350)
    add_key(site, contract_id, "ERP-WHY-0001")
    add_key(site, contract_id, "ERP-WHY-0002")
    b = browser("manager")
    b.headers["Accept-Language"] = "zh-CN"
    renewal, _fields = _renew(b, contract_id, last_step_status=409)
    version = VERSION.search(b.get(renewal).text).group(1)
    r = b.submit(f"{renewal}/step", {"step": "complete", "comment": "", "version": version}, page=renewal)
    assert r.status_code == 409 and "未做任何更改" in r.text and "FIXED" in r.text
