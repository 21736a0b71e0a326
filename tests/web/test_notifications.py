"""Notifications page (owner only) and the outbox sent by job core.send_mail over real SMTP."""

from __future__ import annotations

import re
import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from fuwu import jobs
from fuwu.db import utcnow
from fuwu.i18n import N_
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Staff
from fuwu.notifications import Notification, OutboxMail, notify, queue_mail

from tests.conftest import zh


def staff_id(site, username):
    return site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == username)))


def add_note(site, username, message, url="", **params):
    def run(s):
        note = notify(s, s.scalar(select(Staff).where(Staff.username == username)), message, url=url, **params)
        s.flush()
        return note.id

    return site.db.run(run)


def read_at(site, note_id):
    return site.db.run(lambda s: s.get(Notification, note_id).read_at)


def test_list_open_and_mark_read_only_touch_the_owners_notifications(web):
    site, app, browser = web(users={"boss": ["admin"], "other": ["engineer"]})
    old = add_note(site, "boss", "Contract %(number)s expires soon", url="/customers", number="FW-1")
    new = add_note(site, "boss", "Report ready", url="//evil.example/phish")
    theirs = add_note(site, "other", "Secret for other")
    boss = browser("boss")

    page = boss.get("/notifications")
    assert page.status_code == 200
    assert "Contract FW-1 expires soon" in page.text and "Secret for other" not in page.text
    assert page.text.index("Report ready") < page.text.index("Contract FW-1")  # newest first
    assert page.text.count('class="unread"') == 2

    # another user's notification does not exist for me, and stays unread
    assert boss.get(f"/notifications/{theirs}/open").status_code == 404
    assert read_at(site, theirs) is None

    r = boss.get(f"/notifications/{old}/open")
    assert r.status_code == 303 and r.headers["location"] == "/customers"
    assert read_at(site, old) is not None
    assert boss.get("/notifications?unread=1").text.count('class="unread"') == 1
    # a stored URL never sends the reader to another site
    r = boss.get(f"/notifications/{new}/open")
    assert r.status_code == 303 and r.headers["location"] == "/"

    add_note(site, "boss", "Third")
    r = boss.submit("/notifications/read")
    assert r.status_code == 303
    unread = site.db.run(lambda s: s.scalars(select(Notification.staff_id).where(Notification.read_at.is_(None)))
                         .all())
    assert unread == [staff_id(site, "other")]
    assert 'class="unread"' not in boss.get("/notifications").text

    # signed out: the page asks to sign in
    assert browser().get("/notifications").status_code == 303


def test_the_bell_counts_what_is_unread_and_keeps_counting_on_an_open_page(web):
    site, app, browser = web(users={"boss": ["admin"], "other": ["engineer"]})
    boss = browser("boss")
    frame = boss.get("/customers").text
    # the page's frame asks for the count when it loads and every minute after
    bell = re.search(r'<a href="/notifications" class="bell".*?</a>', frame, re.S).group(0)
    assert 'hx-get="/notifications/badge"' in bell and 'hx-trigger="load, every 60s"' in bell

    def badge(b=boss):
        r = b.get("/notifications/badge", headers={"HX-Request": "true"})
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store" and "<html" not in r.text
        found = re.search(r'<span class="badge">(\d+)</span>', r.text)
        return int(found.group(1)) if found else 0

    assert badge() == 0
    add_note(site, "boss", "Report ready")
    first = add_note(site, "boss", "Contract %(number)s expires soon", number="FW-1")
    add_note(site, "other", "Not for boss")
    assert badge() == 2  # arrived while the page was open: the next poll shows them
    assert boss.get(f"/notifications/{first}/open").status_code == 303
    assert badge() == 1 and badge(browser("other")) == 1
    assert boss.submit("/notifications/read", page="/notifications").status_code == 303
    assert badge() == 0
    assert 'hx-headers=\'{"X-Fuwu-Background": "true"}\'' in bell
    # signed out (or the session revoked) while the page stays open: the poll changes nothing on the
    # page (the reader's next click goes to the sign-in), where a request the reader made is sent there
    signed_out = browser()
    gone = signed_out.get("/notifications/badge", headers={"HX-Request": "true", "X-Fuwu-Background": "true"})
    assert gone.status_code == 204 and "hx-redirect" not in gone.headers and not gone.text
    asked = signed_out.get("/customers", headers={"HX-Request": "true"})
    assert asked.status_code == 204 and asked.headers["hx-redirect"].startswith("/login")


def test_a_message_named_by_a_lazy_string_reads_in_each_readers_language(web):
    site, app, browser = web(users={"boss": ["admin"]})
    # what the workflow engine sends: the form's name is itself a message (_l)
    add_note(site, "boss", N_("%(form)s “%(title)s” is waiting for you"), form=_l("Contracts"), title="FW-7")
    boss = browser("boss")
    assert "Contracts “FW-7” is waiting for you" in boss.get("/notifications").text
    chinese = boss.get("/notifications", headers={"Accept-Language": "zh-CN"}).text
    expected = zh(site, "%(form)s “%(title)s” is waiting for you", form=zh(site, "Contracts"), title="FW-7")
    assert expected in chinese and "Contracts" not in chinese


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf8", "replace")))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp():
    """A real SMTP server on a free local port, started when the test says so."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    yield controller, inbox
    if getattr(controller, "_thread", None) is not None:
        controller.stop()


def test_outbox_keeps_mail_while_the_server_is_down_and_sends_it_once(web, smtp):
    controller, inbox = smtp
    site, app, browser = web(users={"boss": ["admin"]}, demo=False)

    def configure(s):
        site.settings.set(s, "core.smtp_host", "127.0.0.1")
        site.settings.set(s, "core.smtp_port", controller.port)
        site.settings.set(s, "core.mail_sender", "fuwu@example.com")
        queue_mail(s, "a@example.com", "第一封", "正文一")
        notify(s, s.scalar(select(Staff).where(Staff.username == "boss")), "Need %(n)s", email=True, n=3)

    site.db.run(configure)
    mails = lambda: site.db.run(lambda s: s.scalars(select(OutboxMail).order_by(OutboxMail.id)).all())  # noqa: E731
    now = utcnow()

    # the server is down: nothing is lost, the error is kept, a retry is scheduled
    assert jobs.run_due(site, only="core.send_mail", force=True, now=now) == [("core.send_mail", "done")]
    down = mails()
    assert len(down) == 2 and all(m.sent_at is None and m.attempts == 1 and m.last_error for m in down)
    assert all(m.next_attempt_at > now for m in down)

    controller.start()
    # not due yet: the back-off holds
    jobs.run_due(site, only="core.send_mail", force=True, now=now + timedelta(seconds=30))
    assert inbox.messages == []
    later = now + timedelta(minutes=10)
    jobs.run_due(site, only="core.send_mail", force=True, now=later)
    jobs.run_due(site, only="core.send_mail", force=True, now=later + timedelta(hours=5))
    sent = mails()
    assert all(m.sent_at == later for m in sent)
    assert sorted(rcpt for rcpt, _ in inbox.messages) == [["a@example.com"], ["boss@example.com"]]
    first = next(body for rcpt, body in inbox.messages if rcpt == ["a@example.com"])
    assert "From: fuwu@example.com" in first
    assert any("Need 3" in body for _rcpt, body in inbox.messages)



def test_a_notification_mailed_links_to_its_page_under_the_public_address(web):
    site, app, browser = web(users={"boss": ["admin"]}, demo=False)

    def mail_about(path):
        def work(s):
            notify(s, s.scalar(select(Staff).where(Staff.username == "boss")), "Need %(n)s", url=path, email=True, n=1)
        site.db.run(work)
        return site.db.run(lambda s: s.scalars(select(OutboxMail).order_by(OutboxMail.id.desc())).first()).body

    assert "/first-visits" not in mail_about("/first-visits/needs")  # no address known: no half a link
    site.config.public_url = "https://fuwu.example.com/"
    assert mail_about("/first-visits/needs").endswith("\n\nhttps://fuwu.example.com/first-visits/needs")


def test_a_mailed_notification_reads_in_the_recipients_language(web):
    """A plugin notifying by mail gives no text of its own: the mail says
    the message in each recipient's language (else the site's), with its
    dates in that language's format."""
    from datetime import date

    site, _app, _browser = web(users={"boss": ["admin"], "guest": ["engineer"]}, demo=False)
    site.db.run(lambda s: setattr(s.scalar(select(Staff).where(Staff.username == "guest")), "language", "en"))

    def mail_to(username):
        def work(s):
            notify(s, s.scalar(select(Staff).where(Staff.username == username)),
                   N_("Renewal of %(number)s ends on %(day)s"), email=True, number="FW-1", day=date(2026, 12, 31))
        site.db.run(work)
        return site.db.run(lambda s: s.scalars(select(OutboxMail).order_by(OutboxMail.id.desc())).first())

    # a message no catalog has stays as written; its date does not
    english = mail_to("guest")
    assert english.subject == "Renewal of FW-1 ends on Dec 31, 2026" and english.body == english.subject
    chinese = mail_to("boss")  # no language of his own: the site's, zh_Hans
    assert chinese.subject == "Renewal of FW-1 ends on 2026年12月31日"

    def hello(s):
        notify(s, s.scalar(select(Staff).where(Staff.username == "boss")), N_("Hello, %(name)s"), email=True,
               name="王芳")
    site.db.run(hello)
    mail = site.db.run(lambda s: s.scalars(select(OutboxMail).order_by(OutboxMail.id.desc())).first())
    assert mail.subject == zh(site, "Hello, %(name)s", name="王芳")  # 王芳，您好
