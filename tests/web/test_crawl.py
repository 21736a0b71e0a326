"""Every page a role reaches by following links opens (no link answers 403),
reads in Chinese, names each field for a screen reader, and takes bad input
without failing.

A crawl of the demo site with every built-in plugin, signed in as a demo
role, starting at the dashboard: each link (``href`` and ``hx-get``) is
followed once per kind of URL (ids replaced), so a page a role can only
reach through a link of some other page is visited too.
"""

from __future__ import annotations

import csv
import functools
import html
import io
import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

import openpyxl
import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from fuwu import demo
from fuwu.i18n import msgid
from fuwu.web.app import create_app
from tests.conftest import BUILTIN_PLUGINS, CJK, Browser, demo_site

ROLES = ("admin", "wang.fang", "li.qiang", "zhao.min", "chen.jing", "liu.yang")
LINK = re.compile(r'(?:href|hx-get)="([^"#]*)"')
MARKUP = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S)
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
FIELD = re.compile(r"<(input|select|textarea)\b([^>]*)>")
SUBMIT = re.compile(r'<button\b(?![^>]*type="button")|<input\b[^>]*type="submit"')
#: what people mistype, paste or send on purpose
BAD_INPUT = ("", "x" * 5000, "-1", "0", "99999999999999999999", "1e400", "2026-13-45", "<script>", "NaN", "１２",
             " ", "abc")
#: forms that end the session or the language under test, not data
LEAVE_ALONE = ("/logout", "/language", "/sessions")
ROOT = Path(__file__).resolve().parents[2]


def attribute(name: str, tag: str) -> str | None:
    found = re.search(rf'\b{name}="([^"]*)"', tag)
    return html.unescape(found.group(1)) if found else None


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


class _Markup(HTMLParser):
    """Ids given twice, and fields a screen reader cannot name (no label
    around them or pointing at them, no aria-label)."""

    def __init__(self):
        super().__init__()
        self.ids, self.labelled, self.fields, self.in_label = Counter(), set(), [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids[a["id"]] += 1
        if tag == "label":
            self.in_label += 1
            self.labelled.add(a.get("for"))
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit", "button"):
            named = self.in_label or a.get("aria-label") or a.get("aria-labelledby") or a.get("title")
            self.fields.append((a.get("name"), a.get("id"), bool(named)))

    def handle_endtag(self, tag):
        if tag == "label":
            self.in_label -= 1


def markup_problems(page: str) -> list[str]:
    parser = _Markup()
    parser.feed(page)
    return ([f"id {i!r} given {n} times" for i, n in parser.ids.items() if n > 1]
            + [f"field {name!r} without a label" for name, id_, named in parser.fields
               if not named and (id_ is None or id_ not in parser.labelled)])


def kind_of(url: str) -> str:
    parts = urlsplit(url)
    keys = sorted(p.split("=")[0] for p in parts.query.split("&") if p)
    return re.sub(r"/\d+", "/N", parts.path) + "?" + "&".join(keys)


@dataclass
class Crawl:
    urls: list[str] = field(default_factory=list)
    #: (page, action, [(name, value, type)]) of each kind of form that can be sent
    forms: dict[str, tuple[str, str, list[tuple[str, str, str]]]] = field(default_factory=dict)
    #: (action, [field name]) of each kind of GET form (searches, filters, calculators)
    searches: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def crawl(browser: Browser) -> Crawl:
    found, kinds, queue = Crawl(), Counter(), ["/"]
    while queue:
        url = queue.pop(0)
        if url in found.urls or kinds[kind_of(url)] or url.startswith(("/static/", "/logout")):
            continue
        found.urls.append(url)
        kinds[kind_of(url)] += 1
        r = browser.get(url)
        # 403: a page showed the reader a link they may not follow
        if r.status_code >= 500 or r.status_code in (400, 403, 405, 409, 422):
            found.problems.append(f"{r.status_code} {url}")
        if r.status_code != 200 or "text/html" not in r.headers.get("content-type", ""):
            continue
        text = html.unescape(MARKUP.sub("\n", r.text))
        found.problems += [f"English on {url}: {m!r}" for m in english_messages() if m in text]
        found.problems += [f"{problem} on {url}" for problem in markup_problems(r.text)]
        for href in LINK.findall(r.text):
            target = urlsplit(urljoin("http://testserver" + url, html.unescape(href)))
            if target.netloc == "testserver":
                queue.append(target.path + ("?" + target.query if target.query else ""))
        for attrs, body in FORM.findall(r.text):
            action = urlsplit(urljoin("http://testserver" + url, attribute("action", attrs) or url))
            target = action.path + ("?" + action.query if action.query else "")
            form_id = attribute("id", attrs)
            sendable = SUBMIT.search(body) or (form_id and f'form="{form_id}"' in r.text)
            if (attribute("method", attrs) or "get").lower() != "post":
                names = [attribute("name", a) for _tag, a in FIELD.findall(body) if attribute("name", a)]
                found.searches.setdefault(kind_of(action.path) + "#" + ",".join(sorted(names)), (action.path, names))
                continue
            if not sendable or any(part in target for part in LEAVE_ALONE):
                continue
            fields = [(attribute("name", a), attribute("value", a) or "", attribute("type", a) or tag)
                      for tag, a in FIELD.findall(body) if attribute("name", a)]
            found.forms.setdefault(kind_of(target), (url, target, fields))
    return found


def signed_in(app, username: str, language: str = "zh-CN") -> Browser:
    browser = Browser(app, base_url="http://testserver", raise_server_exceptions=False, follow_redirects=False,
                      headers={"Accept-Language": language})
    r = browser.login(username, demo.DEMO_PASSWORD)
    assert r.status_code == 303, r.text[:300]
    return browser


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory, databases):
    site = demo_site(tmp_path_factory.mktemp("crawl-site"), databases, BUILTIN_PLUGINS)
    yield create_app(site)
    site.close()


@pytest.mark.parametrize(("username", "language"), [(role, "zh-CN") for role in ROLES] + [("admin", "zh-TW")])
def test_every_page_a_role_reaches_opens_in_chinese(demo_app, username, language):
    with signed_in(demo_app, username, language) as browser:
        dashboard = browser.get("/").text
        catalog = demo_app.state.site.catalogs.get("zh_Hant" if language == "zh-TW" else "zh_Hans")
        assert CJK.search(dashboard) and catalog.gettext("Sign out") in dashboard, "not in the reader's Chinese"
        found = crawl(browser)
    assert len(found.urls) > 20, f"only {len(found.urls)} pages reached"
    assert found.problems == [], "\n".join(found.problems)


def test_an_id_no_record_can_have_is_not_found_on_every_page(demo_app):
    with signed_in(demo_app, "admin") as browser:
        urls = crawl(browser).urls
        answers = {}
        for url in urls:
            for number in re.finditer(r"(?<=/)\d+(?=/|$|\?)", url):
                for wrong in ("99999999999999999999", "0"):
                    other = url[:number.start()] + wrong + url[number.end():]
                    answers[other] = browser.get(other).status_code
    assert len(answers) > 40
    assert {url: status for url, status in answers.items() if status != 404} == {}


def test_every_form_refuses_bad_input_with_a_message_not_a_failure(tmp_path, databases):
    site = demo_site(tmp_path, databases, BUILTIN_PLUGINS)  # its own: the forms change data
    try:
        with signed_in(create_app(site), "admin") as browser:
            forms = crawl(browser).forms
            bad = itertools.cycle(BAD_INPUT)
            answers = Counter()
            failures = []
            for page, action, fields in forms.values():
                # the CSRF token and the page's hidden values as sent; what a person types, bad
                data: dict[str, list[str]] = {}
                for name, value, kind in fields:
                    keep = name == "csrf_token" or (kind == "hidden" and name != "version")
                    data.setdefault(name, []).append(value if keep else next(bad))
                r = browser.post(action, data=data)
                answers[r.status_code] += 1
                if r.status_code >= 500:
                    failures.append(f"{r.status_code} {action} (form on {page})")
    finally:
        site.close()
    assert len(forms) > 100 and answers[422] > 50, answers
    assert failures == [], "\n".join(failures)


def test_every_list_page_exports_what_it_lists_as_csv_and_xlsx(demo_app):
    """A page that lists records in a table, at a path naming no record,
    offers CSV and XLSX; both open, with the same header row, and hold rows
    when the page shows some."""
    checked = []
    with signed_in(demo_app, "admin") as browser:
        for url in crawl(browser).urls:
            path = urlsplit(url).path
            if re.search(r"/[\d-]+(/|$)", path) or path.endswith(("/new", "/edit")):  # an id or a month
                continue
            page = browser.get(url).text
            table = re.search(r'<table class="list".*?<tbody>(.*?)</tbody>', page, re.S)
            if table is None:
                continue
            links = {fmt: re.search(rf'href="([^"]*format={fmt}[^"]*)"', page) for fmt in ("csv", "xlsx")}
            assert all(links.values()), f"{url} lists records without CSV and XLSX"
            csv_answer, xlsx_answer = (browser.get(urljoin(url, html.unescape(link.group(1))))
                                       for link in links.values())
            assert csv_answer.status_code == xlsx_answer.status_code == 200, url
            assert csv_answer.headers["content-type"].startswith("text/csv"), url
            lines = list(csv.reader(io.StringIO(csv_answer.content.decode("utf-8-sig"))))
            sheet = openpyxl.load_workbook(io.BytesIO(xlsx_answer.content), read_only=True).active
            assert [str(v) for v in next(sheet.iter_rows(values_only=True))] == lines[0], url
            shown = [row for row in re.findall(r"<tr\b.*?</tr>", table.group(1), re.S) if "colspan" not in row]
            assert len(lines) > 1 or not shown, f"{url} shows {len(shown)} rows, its export none"
            checked.append(path)
    assert len(set(checked)) > 30, checked


@pytest.mark.parametrize("username", ("admin", "li.qiang"))
def test_the_menu_shows_each_section_once_with_its_entries_under_it(demo_app, username):
    with signed_in(demo_app, username) as browser:
        menu = re.search(r'<nav class="sidebar".*?</nav>', browser.get("/").text, re.S).group(0)
    headings = re.findall(r'<li class="section">([^<]*)</li>', menu)
    assert len(headings) >= 4 and len(headings) == len(set(headings)), headings
    # every plugin's pages sit under its own heading (its title, as the settings page shows it)
    site = demo_app.state.site
    catalog = site.catalogs.get("zh_Hans")
    sections = re.split(r'<li class="section">', menu)[1:]
    for section in sections:
        heading, entries = section.split("</li>", 1)
        # a plugin's pages are under /<plugin>/ (core's contract list is /contracts)
        named = set(re.findall(r'<a href="/([a-z_]+)/', entries)) & set(BUILTIN_PLUGINS)
        assert len(named) <= 1, f"{heading}: {named}"
        for plugin in named:
            assert heading == catalog.gettext(msgid(site.plugins.get(plugin).manifest.title))


def extremes(site, end: str) -> dict[str, object]:
    """Each number setting at the largest (``end="high"``) or smallest value
    the settings page accepts for it."""
    from decimal import Decimal

    from fuwu.db import INTEGER_LIMIT
    from fuwu.money import AMOUNT_LIMIT

    values = {}
    for setting in site.settings.declared.values():
        if setting.type not in (int, Decimal):
            continue
        bound = setting.maximum if end == "high" else setting.minimum
        if bound is None:
            widest = INTEGER_LIMIT - 1 if setting.type is int else AMOUNT_LIMIT - Decimal("0.01")
            bound = widest if end == "high" else -widest
        values[setting.key] = bound
    return values


@pytest.mark.parametrize("end", ["high", "low"])
def test_every_page_opens_with_every_number_setting_at_its_limit(tmp_path, databases, end):
    """An admin may type any value the settings page takes; none of them may
    break a page or a job (a duration too long for a date, a count of
    working days that loops for ever, an amount too large for its column)."""
    from fuwu import jobs

    site = demo_site(tmp_path, databases, BUILTIN_PLUGINS)
    try:
        values = extremes(site, end)
        assert len(values) > 40
        site.db.run(lambda s: [site.settings.set(s, key, str(value)) for key, value in values.items()])
        with signed_in(create_app(site), "admin") as browser:
            found = crawl(browser)
        outcomes = jobs.run_due(site, force=True)
    finally:
        site.close()
    assert len(found.urls) > 60
    assert [p for p in found.problems if p[0] == "5"] == [], "\n".join(found.problems)
    assert len(outcomes) > 5 and [name for name, outcome in outcomes if outcome != "done"] == []


#: what a hand-edited or stale link may carry instead of a date, a month, a year or a number
ODD_VALUES = ("0001-01-01", "9999-12-31T23:59", "0001-01", "9999-12", "2026-13", "-1", "99999999999999999999",
              "1e400", "x" * 3000)


def test_odd_values_in_a_link_never_fail_a_page(demo_app):
    """Each query value of a link or a search form, and each month or year
    in a path, replaced by what someone might type into the address bar or a
    date box: the page shows its default, says what is wrong, or answers
    404, but never fails."""
    failures = []
    with signed_in(demo_app, "admin") as browser:
        found = crawl(browser)
        searched = [f"{action}?{urlencode([(name, '')])}" for action, names in found.searches.values()
                    for name in names]
        assert len(found.searches) > 10
        sent = 0
        for url in found.urls + searched:
            parts = urlsplit(url)
            query = parse_qsl(parts.query, keep_blank_values=True)
            segments = parts.path.split("/")
            odd = [parts.path + "?" + urlencode(query[:i] + [(key, value)] + query[i + 1:])
                   for i, (key, _old) in enumerate(query) for value in ODD_VALUES]
            odd += ["/".join(segments[:i] + [quote(value, safe="")] + segments[i + 1:])
                    + ("?" + parts.query if parts.query else "")
                    for i, segment in enumerate(segments) if re.fullmatch(r"\d{4}(-\d{2})?", segment)
                    for value in ODD_VALUES]
            for other in odd:
                sent += 1
                status = browser.get(other).status_code
                if status >= 500:
                    failures.append(f"{status} {other[:120]}")
    assert sent > 500
    assert failures == [], "\n".join(failures)


def form_as_shown(page_html: str, page: str, kind: str) -> dict[str, list[str]] | None:
    """What the form of ``kind`` on a page sends untouched: its fields' values,
    the checked boxes, each list's selected option (else its first)."""
    for attrs, body in FORM.findall(page_html):
        action = urlsplit(urljoin("http://testserver" + page, attribute("action", attrs) or page))
        if kind_of(action.path + ("?" + action.query if action.query else "")) != kind:
            continue
        data: dict[str, list[str]] = {}
        for tag, field_attrs in FIELD.findall(body):
            name, kind_ = attribute("name", field_attrs), attribute("type", field_attrs) or tag
            if name and tag != "select" and (kind_ not in ("checkbox", "radio") or "checked" in field_attrs):
                data.setdefault(name, []).append(attribute("value", field_attrs) or "")
        for name, options in re.findall(r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', body, re.S):
            values = [(attribute("value", o) or "", "selected" in o) for o in re.findall(r"<option\b([^>]*)>", options)]
            data[name] = [v for v, selected in values if selected] or [v for v, _s in values if v][:1]
        return data
    return None


def test_dates_at_the_ends_of_the_calendar_never_fail_a_form(tmp_path, databases):
    """Every form sent as the page shows it, but with each date at the first
    or the last day Python knows: refused (422) or taken, never a failure
    (moved to UTC or by a period, such a date leaves the calendar), and the
    pages open afterwards with whatever was taken."""
    site = demo_site(tmp_path, databases, BUILTIN_PLUGINS)  # its own: the forms change data
    failures, tried = [], 0
    try:
        with signed_in(create_app(site), "admin") as browser:
            for kind, (page, action, fields) in crawl(browser).forms.items():
                dated = {name: kind_ for name, _v, kind_ in fields if kind_ in ("date", "datetime-local")}
                if not dated:
                    continue
                for end in ("0001-01-01", "9999-12-31"):
                    shown = browser.get(page)  # after the dates saved before: pages must still open
                    if shown.status_code >= 500:
                        failures.append(f"{shown.status_code} {page}")
                    data = form_as_shown(shown.text, page, kind)
                    if not data:
                        continue
                    for name, kind_ in dated.items():
                        data[name] = [end + ("T00:00" if kind_ == "datetime-local" else "")]
                    tried += 1
                    status = browser.post(action, data=data).status_code
                    if status >= 500:
                        failures.append(f"{status} {action} {end} (form on {page})")
    finally:
        site.close()
    assert tried > 20
    assert failures == [], "\n".join(failures)


def test_every_form_refuses_a_stale_version_with_409(tmp_path, databases):
    """Two people edit one record: whoever saves second sent the version
    they opened, which is one behind. Every form that carries a record's
    version refuses it (409) with a message, and saves nothing."""
    site = demo_site(tmp_path, databases, BUILTIN_PLUGINS)
    refused, other = [], []
    try:
        with signed_in(create_app(site), "admin") as browser:
            for kind, (page, action, fields) in crawl(browser).forms.items():
                data = form_as_shown(browser.get(page).text, page, kind)
                if not data or not (data.get("version") or [""])[0].isdigit():
                    continue
                current = data["version"]
                data["version"] = [str(int(current[0]) - 1)]
                r = browser.post(action, data=data)
                (refused if r.status_code == 409 and "<h1" in r.text else other).append(f"{r.status_code} {action}")
                after = form_as_shown(browser.get(page).text, page, kind)
                if after and after.get("version") != current:
                    other.append(f"saved anyway: {action}")
    finally:
        site.close()
    assert len(refused) > 20
    assert other == [], "\n".join(other)


def test_every_form_under_a_workflow_opens_from_what_waits_on_me(demo_app):
    """Each built-in workflow names its record's page, and that page is a
    route that takes the id (a wrong ``url`` would make "waiting on me" and
    its notifications lead nowhere); the records the demo has open there."""
    from starlette.routing import Route

    pages = set()

    def walk(routes, prefix=""):
        for route in routes:
            if isinstance(route, Route) and "GET" in (route.methods or ()):
                pages.add(re.sub(r"\{\w+(:int)?\}", "{id}", prefix + route.path))
            elif hasattr(route, "routes"):
                walk(route.routes, prefix + route.path)

    walk(demo_app.routes)
    site = demo_app.state.site
    workflows = list(site.workflows.by_key.values())
    assert len(workflows) >= 6
    assert {wf.key: wf.url for wf in workflows if wf.url not in pages} == {}
    with signed_in(demo_app, "admin") as browser:
        opened = 0
        for wf in workflows:
            record_id = site.db.run(lambda s, model=wf.model: s.scalar(select(model.id).order_by(model.id).limit(1)))
            if record_id is not None:
                assert browser.get(wf.record_url(record_id)).status_code == 200, wf.key
                opened += 1
    assert opened >= 3
