"""Signed one-time links: issue, use once, and refuse tampered, expired, used and withdrawn links."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fuwu import links
from fuwu.db import utcnow
from fuwu.links import LinkGone, LinkInvalid, LinkPurpose, SignedLink
from fuwu.models import Contact, Customer
from fuwu.notifications import Notification, OutboxMail
from fuwu.timeline import TimelineEntry

CUSTOMER = "杭州西湖丝绸集团"
USERS = {"boss": ["admin"], "eng": (["engineer"], "售后服务部"), "far": (["sales"], "实施部")}


def the_contact(site) -> Contact:
    return site.db.run(lambda s: s.scalar(
        select(Contact).join(Customer).where(Customer.name == CUSTOMER).options(selectinload(Contact.customer))))


def issue(browser, contact, **data):
    r = browser.submit(f"/customers/{contact.customer_id}/contacts/{contact.id}/link", data)
    assert r.status_code == 303 and r.headers["location"].startswith("/links/"), r.text[:300]
    page = browser.get(r.headers["location"])
    assert page.status_code == 200
    url = re.search(r'id="link-url"[^>]*value="([^"]+)"', page.text)
    return r.headers["location"], html.unescape(url.group(1)) if url else None


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_links_mailed_and_shown_use_the_address_people_reach_the_site_at(web):
    """Behind a proxy a request's own host is an internal one; ``[site] public_url`` is what
    a customer can open."""
    site, app, browser = web(users=USERS)
    site.config.public_url = "https://fuwu.example.com/service/"
    contact = the_contact(site)
    _detail, url = issue(browser("boss"), contact, send_email="on")
    assert url.startswith("https://fuwu.example.com/service/l/")
    assert url in site.db.run(lambda s: s.scalar(select(OutboxMail))).body
    assert browser().get(url.removeprefix("https://fuwu.example.com/service")).status_code == 200


def assert_no_data(response, contact):
    for secret in (contact.name, contact.phone, contact.email, contact.customer.name):
        assert secret not in response.text


def test_contact_confirms_through_a_link_once(web):
    site, app, browser = web(users=USERS)
    contact = the_contact(site)
    boss = browser("boss")
    detail, url = issue(boss, contact, send_email="on")
    assert url and url.startswith("http://testserver/l/")
    mail = site.db.run(lambda s: s.scalar(select(OutboxMail)))
    assert mail.to_addr == contact.email and url in mail.body

    anon = browser()
    path = path_of(url)
    page = anon.get(path)
    assert page.status_code == 200 and contact.phone in page.text and contact.email in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "boss" not in page.text  # a visitor gets no staff menu

    r = anon.submit(path, {"phone": "0571-88880000", "email": "not-an-address"}, page=path)
    assert r.status_code == 422 and "0571-88880000" in r.text
    r = anon.submit(path, {"phone": "0571-88880000", "email": "shen@silk.example"}, page=path)
    assert r.status_code == 200 and 'id="done"' in r.text
    saved = the_contact(site)
    assert (saved.phone, saved.email) == ("0571-88880000", "shen@silk.example")
    entry = site.db.run(lambda s: s.scalars(select(TimelineEntry).where(
        TimelineEntry.customer_id == contact.customer_id, TimelineEntry.kind == "contact")).all()[-1])
    assert "corrected" in entry.message and entry.params["phone"] == "0571-88880000"
    notes = site.db.run(lambda s: s.scalars(select(Notification)).all())
    assert len(notes) == 1 and notes[0].url == f"/customers/{contact.customer_id}"

    # used: gone, and nothing of the record shows; posting again changes nothing
    again = anon.get(path)
    assert again.status_code == 410 and "already been used" in again.text
    assert_no_data(again, saved)
    r = anon.submit(path, {"phone": "000-00000", "email": ""}, page=path)
    assert r.status_code == 410 and the_contact(site).phone == "0571-88880000"
    # staff see it as used, without the URL any more
    page = boss.get(detail)
    assert 'id="link-url"' not in page.text and "Used" in page.text


def test_confirming_unchanged_details_is_recorded_as_a_confirmation(web):
    site, app, browser = web(users=USERS)
    contact = the_contact(site)
    _detail, url = issue(browser("boss"), contact)
    anon = browser()
    r = anon.submit(path_of(url), {"phone": contact.phone, "email": contact.email}, page=path_of(url))
    assert r.status_code == 200
    messages = site.db.run(lambda s: s.scalars(select(TimelineEntry.message).where(
        TimelineEntry.customer_id == contact.customer_id, TimelineEntry.kind == "contact")).all())
    assert messages[-1] == "Contact %(name)s confirmed their phone and e-mail through a link"


def test_tampered_links_are_refused_without_data(web):
    site, app, browser = web(users=USERS)
    contact = the_contact(site)
    _detail, url = issue(browser("boss"), contact)
    link_id, nonce, signature = path_of(url).removeprefix("/l/").split(".")
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    anon = browser()
    for token in (f"{link_id}.{nonce}.{flipped}", f"{link_id}.{nonce[:-1]}x.{signature}",
                  f"{int(link_id) + 1}.{nonce}.{signature}", "garbage", "1.2", "99999999999999999999.a.b",
                  "１.２.３"):
        r = anon.get(f"/l/{token}")
        assert r.status_code == 403, token
        assert "not valid" in r.text
        assert_no_data(r, contact)
    # a valid token stays valid after the refusals
    assert anon.get(path_of(url)).status_code == 200


def test_expired_and_withdrawn_links_are_gone(web):
    site, app, browser = web(users=USERS)
    contact = the_contact(site)
    secret = site.config.secret_key

    def old_link(s):
        return links.issue_for(site, s, "core.contact_confirm", s.get(Contact, contact.id),
                               now=utcnow() - timedelta(days=15))

    expired = site.db.run(old_link)  # the default 14 days have passed
    anon = browser()
    r = anon.get(f"/l/{expired}", headers={"accept-language": "en"})
    assert r.status_code == 410 and "expired" in r.text and '<html lang="en">' in r.text
    assert_no_data(r, contact)
    r = anon.get(f"/l/{expired}", headers={"accept-language": "zh-TW"})
    assert r.status_code == 410 and '<html lang="zh-Hant">' in r.text

    # a fresh link expires once `now` passes the configured number of days
    site.db.run(lambda s: site.settings.set(s, "core.link_valid_days", 2))
    fresh = site.db.run(lambda s: links.issue_for(site, s, "core.contact_confirm", s.get(Contact, contact.id)))
    site.db.run(lambda s: links.check(s, secret, fresh, purpose="core.contact_confirm",
                                      now=utcnow() + timedelta(days=1)))
    with pytest.raises(LinkGone):
        site.db.run(lambda s: links.check(s, secret, fresh, purpose="core.contact_confirm",
                                          now=utcnow() + timedelta(days=2, minutes=1)))
    with pytest.raises(LinkInvalid):
        site.db.run(lambda s: links.check(s, secret, fresh, purpose="other.purpose"))

    boss = browser("boss")
    detail, url = issue(boss, contact)
    assert anon.get(path_of(url)).status_code == 200
    r = boss.submit(detail + "/revoke")
    assert r.status_code == 303
    r = anon.get(path_of(url))
    assert r.status_code == 410 and "withdrawn" in r.text
    assert_no_data(r, contact)
    assert 'id="link-url"' not in boss.get(detail).text


def test_only_staff_who_may_edit_the_customer_manage_links(web):
    site, app, browser = web(users=USERS)
    contact = the_contact(site)
    detail, url = issue(browser("boss"), contact)
    path = f"/customers/{contact.customer_id}/contacts/{contact.id}/link"
    # an engineer sees the customer but may not edit it
    eng = browser("eng")
    assert eng.submit(path).status_code == 403
    assert eng.get(detail).status_code == 403
    assert eng.submit(detail + "/revoke").status_code == 403
    # a salesperson of another department may edit customers, but not this one
    far = browser("far")
    assert far.submit(path).status_code == 404
    assert far.get(detail).status_code == 404
    assert far.submit(detail + "/revoke").status_code == 404
    # a contact of another customer under this customer's URL is not found
    other = site.db.run(lambda s: s.scalar(select(Contact.id).where(Contact.customer_id != contact.customer_id)))
    assert browser("boss").submit(f"/customers/{contact.customer_id}/contacts/{other}/link").status_code == 404
    assert site.db.run(lambda s: s.scalar(select(SignedLink.revoked_at))) is None
    assert browser().get(path_of(url)).status_code == 200


def test_a_plugin_purpose_gets_the_visit(web):
    """The registry hands a valid link to the purpose's handler, with its record."""
    from starlette.responses import PlainTextResponse

    site, app, browser = web(users=USERS)
    seen = []

    def handler(visit):
        seen.append((visit.record.name, visit.link.purpose))
        visit.use()
        return PlainTextResponse("ok")

    links.register_purpose(site, LinkPurpose(key="test.greet", label="Greet", model=Customer, handler=handler,
                                             permission="core.customer.edit"))
    token = site.db.run(lambda s: links.issue_for(site, s, "test.greet",
                                                  s.scalar(select(Customer).where(Customer.name == CUSTOMER))))
    anon = browser()
    assert anon.get(f"/l/{token}").text == "ok"
    assert anon.get(f"/l/{token}").status_code == 410
    assert seen == [(CUSTOMER, "test.greet")]
    assert "core.contact_confirm" in links.purposes(site)
