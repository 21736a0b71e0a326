"""Every page a role reaches by following links opens, and reads in Chinese.

A crawl of the demo site with every built-in plugin, signed in as each demo
role, starting at the dashboard: each link (``href`` and ``hx-get``) is
followed once per kind of URL (ids replaced), so a page a role can only
reach through a link of some other page is visited too.
"""

from __future__ import annotations

import functools
import html
import re
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from babel.messages.pofile import read_po

from fuwu import demo
from fuwu.web.app import create_app
from tests.conftest import CSRF_META, CJK, Browser

BUILTIN = ("complaints", "contracts", "field_service", "incentives", "onsite_residency", "serial_keys",
           "training", "travel_expense")
ROLES = ("admin", "wang.fang", "li.qiang", "zhao.min", "chen.jing", "liu.yang")
LINK = re.compile(r'(?:href|hx-get)="([^"#]*)"')
MARKUP = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S)
ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def english_messages() -> frozenset[str]:
    """Every msgid of more than one word with no placeholder: on a Chinese
    page, one of them verbatim is text that bypassed the translations."""
    found = set()
    for po in ROOT.glob("*/**/locale/zh_Hans/LC_MESSAGES/*.po"):
        with po.open("rb") as f:
            for message in read_po(f):
                if isinstance(message.id, str) and " " in message.id and "%" not in message.id:
                    found.add(message.id)
    return frozenset(found)


def kind_of(url: str) -> str:
    parts = urlsplit(url)
    keys = sorted(p.split("=")[0] for p in parts.query.split("&") if p)
    return re.sub(r"/\d+", "/N", parts.path) + "?" + "&".join(keys)


def crawl(browser: Browser, english: frozenset[str]) -> tuple[int, list[str]]:
    seen, kinds, queue, problems = set(), Counter(), ["/"], []
    while queue:
        url = queue.pop(0)
        if url in seen or kinds[kind_of(url)] or url.startswith(("/static/", "/logout")):
            continue
        seen.add(url)
        kinds[kind_of(url)] += 1
        r = browser.get(url)
        if r.status_code >= 500 or r.status_code in (400, 405, 409, 422):
            problems.append(f"{r.status_code} {url}")
        if r.status_code != 200 or "text/html" not in r.headers.get("content-type", ""):
            continue
        text = html.unescape(MARKUP.sub("\n", r.text))
        problems += [f"English on {url}: {m!r}" for m in english if m in text]
        for href in LINK.findall(r.text):
            target = urlsplit(urljoin("http://testserver" + url, html.unescape(href)))
            if target.netloc == "testserver":
                queue.append(target.path + ("?" + target.query if target.query else ""))
    return len(seen), problems


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory, databases):
    from fuwu.config import Config
    from fuwu.site import Site

    home = tmp_path_factory.mktemp("crawl-site")
    site = Site(Config(home=home, database_url=databases.clone(BUILTIN, home), plugins=list(BUILTIN),
                       secret_key="crawl-secret"))
    demo.load(site)
    yield create_app(site)
    site.close()


@pytest.mark.parametrize(("username", "language"), [(role, "zh-CN") for role in ROLES] + [("admin", "zh-TW")])
def test_every_page_a_role_reaches_opens_in_chinese(demo_app, username, language):
    with Browser(demo_app, base_url="http://testserver", raise_server_exceptions=False, follow_redirects=False,
                 headers={"Accept-Language": language}) as browser:
        token = CSRF_META.search(browser.get("/login").text).group(1)
        signed_in = browser.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                                 "csrf_token": token})
        assert signed_in.status_code == 303
        dashboard = browser.get("/").text
        catalog = demo_app.state.site.catalogs.get("zh_Hant" if language == "zh-TW" else "zh_Hans")
        assert CJK.search(dashboard) and catalog.gettext("Sign out") in dashboard, "not in the reader's Chinese"
        pages, problems = crawl(browser, english_messages())
    assert pages > 20, f"only {pages} pages reached"
    assert problems == [], "\n".join(problems)
