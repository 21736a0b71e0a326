"""Real-browser fixtures: one demo site served by uvicorn, driven by Debian's chromium.

The site (migrated, demo data loaded) and the server live for the whole
session; every test gets fresh browser contexts (own cookies), so tests only
share the database. Tests that change a user's stored language restore it.

Chromium is launched lazily from inside the test body, so a missing browser
makes every browser test FAIL with a message saying how to install it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fuwu import demo
from fuwu.site import Site

from ..conftest import CJK, demo_site, launch_chromium

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = demo.DEMO_PASSWORD


@dataclass
class Live:
    url: str
    site: Site
    app: object

    def tr(self, language: str, message: str, **params) -> str:
        """``message`` as the app shows it in ``language`` (the catalogs decide the exact wording)."""
        text = self.site.catalogs.get(language).gettext(message)
        return text % params if params else text

    def tr_chinese(self, language: str, message: str, **params) -> str:
        """Like ``tr``, but insists the catalog really translates ``message`` into Chinese."""
        text = self.tr(language, message, **params)
        assert CJK.search(text), (
            f"the {language} catalog has no Chinese translation for {message!r} (the page would show "
            f"{text!r}): core/locale/{language}/LC_MESSAGES/fuwu.po needs translating")
        return text

    def path(self, route: str, **params) -> str | None:
        """The path of a named route, or None while that page is not mounted yet."""
        from starlette.routing import NoMatchFound

        try:
            return str(self.app.url_path_for(route, **params))
        except NoMatchFound:
            return None


@contextmanager
def serving(home: Path, databases, plugins: tuple[str, ...] = ()) -> Iterator[Live]:
    """A migrated demo site with ``plugins``, served by uvicorn in a thread."""
    import uvicorn

    from fuwu.web.app import create_app

    site = demo_site(home, databases, plugins)
    app = create_app(site)
    # Bound and listening before uvicorn starts: the browser's first connection
    # waits in the backlog, so nothing has to poll for the server to be ready.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="fuwu-uvicorn", daemon=True)
    thread.start()
    try:
        yield Live(url=f"http://127.0.0.1:{port}", site=site, app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        site.close()
    assert not thread.is_alive(), "uvicorn did not stop"


@pytest.fixture(scope="session")
def live(databases, tmp_path_factory):
    with serving(tmp_path_factory.mktemp("browser-site"), databases) as site:
        yield site


class Chromium:
    """Launches chromium on first use (inside a test, so a failure fails that test)."""

    def __init__(self, driver):
        self._driver = driver
        self._browser = None

    def get(self):
        if self._browser is None:
            self._browser = launch_chromium(self._driver)
        return self._browser

    def close(self):
        if self._browser is not None:
            self._browser.close()


@pytest.fixture(scope="session")
def chromium(live, playwright_driver):
    # depends on ``live`` so the browser closes its connections before the server stops
    browser = Chromium(playwright_driver)
    yield browser
    browser.close()


@dataclass
class Tab:
    """A page in its own browser context, with what its console reported."""

    page: object
    console: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    #: URLs the browser failed to load (4xx/5xx), and those the page itself
    #: navigated to or asked for by script, where an error status is the answer
    failed: list = field(default_factory=list)
    requested: set = field(default_factory=set)

    def csp_violations(self) -> list[str]:
        return [text for text in self.console if "Content Security Policy" in text]

    def missing_assets(self) -> list[str]:
        """Stylesheets, scripts, images and icons a page links to that the
        server does not have (a 403 or 422 page is an answer, not a missing asset)."""
        return [url for url in self.failed if url not in self.requested]


def _on_console(tab: Tab, page, message) -> None:
    tab.console.append(f"[{message.type}] {message.text} ({page.url})")
    # only what the server refused: a load the browser itself gave up (a page
    # left while loading) is no missing file
    if message.type == "error" and "the server responded with a status of" in message.text:
        tab.failed.append(message.location.get("url", ""))


class Browse:
    """``browse(user=None, js=True, locale="zh-CN", viewport=(1280, 860))`` -> a Tab, signed in as ``user`` if given."""

    def __init__(self, live: Live, chromium: Chromium):
        self.live = live
        self.chromium = chromium
        self.contexts = []
        self.tabs: list[Tab] = []

    def __call__(self, user: str | None = None, *, js: bool = True, locale: str = "zh-CN",
                 viewport: tuple[int, int] = (1280, 860)) -> Tab:
        context = self.chromium.get().new_context(
            base_url=self.live.url, java_script_enabled=js, locale=locale,
            viewport={"width": viewport[0], "height": viewport[1]}, service_workers="block")
        self.contexts.append(context)
        page = context.new_page()
        tab = Tab(page)
        page.on("console", lambda message: _on_console(tab, page, message))
        page.on("request", lambda request: tab.requested.add(request.url)
                if request.resource_type in ("document", "xhr", "fetch") else None)
        page.on("pageerror", lambda error: tab.errors.append(f"{error} ({page.url})"))
        self.tabs.append(tab)
        if user:
            login(page, self.live, user)
        return tab

    def close(self):
        for context in self.contexts:
            context.close()


def login(page, live: Live, username: str, password: str = PASSWORD) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("section.login button[type=submit]").click()
    expect(page).to_have_url(live.url + "/")


@pytest.fixture
def browse(live, chromium):
    session = Browse(live, chromium)
    yield session
    session.close()
    # Every flow doubles as a CSP and script-error check (item 9 of the brief).
    csp = [v for tab in session.tabs for v in tab.csp_violations()]
    errors = [e for tab in session.tabs for e in tab.errors]
    missing = sorted({url for tab in session.tabs for url in tab.missing_assets()})
    assert not csp, "Content Security Policy violations reported:\n" + "\n".join(csp)
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)
    assert not missing, "resources the pages link to are missing:\n" + "\n".join(missing)


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # caret="initial": hiding the caret leaves style="" on inputs, which htmx's
    # settle step then copies during the next swap: a (test-made) CSP violation
    page.screenshot(path=str(path), full_page=full_page, caret="initial")
    return path
