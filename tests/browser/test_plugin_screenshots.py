"""The main page of every built-in plugin in chromium, on a demo site with
all of them: it opens in Chinese under its own menu heading, and a
screenshot of it is saved with the core pages' (test-artifacts/screenshots)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from fuwu.i18n import msgid

from ..conftest import BUILTIN_PLUGINS, CJK
from .conftest import login, screenshot, serving

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_all(databases, tmp_path_factory):
    with serving(tmp_path_factory.mktemp("browser-all-plugins"), databases, BUILTIN_PLUGINS) as site:
        yield site


def test_each_plugins_first_page_opens_under_its_heading(live_all, chromium):
    context = chromium.get().new_context(base_url=live_all.url, locale="zh-CN", viewport={"width": 1280, "height": 860})
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        login(page, live_all, "admin")
        opened = []
        catalog = live_all.site.catalogs.get("zh_Hans")
        for plugin in BUILTIN_PLUGINS:
            title = catalog.gettext(msgid(live_all.site.plugins.get(plugin).manifest.title))
            section = page.locator("nav.sidebar li.section", has_text=re.compile(f"^{re.escape(title)}$"))
            expect(section).to_have_count(1)
            # the section's first entry: the plugin's main page
            entry = section.locator("xpath=following-sibling::li[1]/a")
            href = entry.get_attribute("href")
            assert href.startswith(f"/{plugin}/"), (plugin, href)
            response = page.goto(href)
            assert response.status == 200, (plugin, href, response.status)
            expect(page.locator("main h1")).to_be_visible()
            assert CJK.search(page.locator("main h1").inner_text()), (plugin, "title not in Chinese")
            expect(page.locator("nav.sidebar a[aria-current=page]")).to_have_attribute("href", href)
            screenshot(page, f"plugin-{plugin}.zh_Hans")
            opened.append(href)
        # on a phone no page is wider than the screen (wide tables scroll in their own box):
        # each plugin's page, the customer page with every plugin's panel, a role's permission grid
        page.set_viewport_size({"width": 390, "height": 844})
        for href in (*opened, "/customers/1", "/roles/1"):
            page.goto(href)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, href
            assert page.evaluate(STACKED) == [], href  # a squeezed column scrolls instead
        # on paper (an A4 sheet is about 718 CSS px inside its margins, narrower than a tablet) every
        # list fits the sheet: no table scrolls, as it does on a phone, nor runs off the edge
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 718, "height": 1000})
        for href in (*opened, "/customers/1"):
            page.goto(href)
            widths = page.evaluate("[...document.querySelectorAll('table.list')]"
                                   ".map(t => [t.scrollWidth, Math.floor(t.getBoundingClientRect().right)])")
            assert all(scroll <= 718 and right <= 718 for scroll, right in widths), (href, widths)
        assert errors == []
    finally:
        context.close()


#: a list's cell squeezed so narrow that its words stand one or two characters a line
#: ("杭" / "州" / "西" / …)
STACKED = r"""() => [...document.querySelectorAll('main table.list td')].map(td => {
    const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT), tops = new Set();
    while (walker.nextNode()) {  // the lines of the text itself (a tag's padded box would count twice)
        const range = document.createRange();
        range.selectNodeContents(walker.currentNode);
        for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
    }
    const text = td.textContent.replace(/\s+/g, '');
    return tops.size >= 3 && text.length <= 2 * tops.size ? `"${text}" on ${tops.size} lines` : null;
}).filter(Boolean)"""


#: what runs past its box: a table, a tag or a form wider than the panel, card or page it sits in
OVERFLOWING = """() => [...document.querySelectorAll('main table, main .tag, main form, main dl')].map(e => {
    const box = e.parentElement.closest('.panel, .card, form.form, main');
    const over = e.getBoundingClientRect().right - box.getBoundingClientRect().right;
    return over > 1 ? `${e.tagName.toLowerCase()}.${e.className} ${Math.round(over)}px past ${box.className || 'main'}` : null;
}).filter(Boolean)"""

#: a date in a list's cell that the browser broke over two lines ("Nov 24," / "2026"),
#: alone or in a range ("Oct 17, 2026 – Oct 16, 2027" may break at its dash only)
SPLIT_DATES = r"""() => [...document.querySelectorAll('main table.list td')].flatMap(td => {
    const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT), nodes = [];
    let text = '';
    while (walker.nextNode()) { nodes.push([walker.currentNode, text.length]); text += walker.currentNode.data; }
    const at = offset => { const [node, start] = nodes.findLast(([, start]) => start <= offset); return [node, offset - start]; };
    return [...text.matchAll(/[A-Z][a-z]{2} \d{1,2}, \d{4}/g)].map(found => {
        const range = document.createRange();
        range.setStart(...at(found.index));
        range.setEnd(...at(found.index + found[0].length));
        const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
        return lines > 1 ? `date "${found[0]}" on ${lines} lines` : null;
    });
}).filter(Boolean)"""


#: the narrowest window that still shows the menu beside the page (the theme makes it a
#: drawer at 1100 px and below): if lists fit here, they fit on any laptop screen
NARROWEST_WITH_MENU = 1101


@pytest.mark.parametrize("width", [NARROWEST_WITH_MENU, 1024])
def test_every_page_fits_a_desktop_screen_in_english(live_all, chromium, width):
    """On a laptop and in a window half a screen wide, in English (the
    longest of the three languages), no page an admin reaches has a table,
    tag or form running past its box, nor a list's date broken over two lines."""
    context = chromium.get().new_context(base_url=live_all.url, locale="en-US", viewport={"width": width, "height": 860})
    try:
        page = context.new_page()
        login(page, live_all, "admin")
        seen, queue, problems = set(), ["/"], []
        while queue:
            href = queue.pop(0)
            shape = re.sub(r"\d+", "N", href)
            if shape in seen or re.search(r"/logout|format=|\.xlsx|/static/", href):
                continue
            seen.add(shape)
            response = page.goto(href)
            if response is None or "text/html" not in response.headers.get("content-type", ""):
                continue
            problems += [f"{href}: {p}" for p in page.evaluate(OVERFLOWING) + page.evaluate(SPLIT_DATES)]
            queue += [h for h in page.eval_on_selector_all("main a[href], nav a[href]",
                                                           "links => links.map(a => a.getAttribute('href'))")
                      if h.startswith("/")]
        assert len(seen) > 60, seen
        assert problems == []
    finally:
        context.close()
