"""Test fixtures: a fresh, migrated site per test, on SQLite or PostgreSQL.

``FUWU_TEST_DATABASE_URL`` (set by ``make test`` for its second run) points at
a PostgreSQL server; each test then gets its own database, cloned from a
migrated template. Without it, each test gets a copy of a migrated SQLite file.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import sys
import textwrap
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fuwu import migrate
from fuwu.config import Config
from fuwu.seed import sync_roles
from fuwu.site import Site

THIRDPARTY = Path(__file__).parent / "thirdparty" / "site"
PG_URL = os.environ.get("FUWU_TEST_DATABASE_URL", "")


def pytest_report_header(config):
    return f"fuwu database: {'PostgreSQL ' + make_url(PG_URL).render_as_string() if PG_URL else 'SQLite'}"


@pytest.fixture(scope="session")
def thirdparty_path():
    """Put the example third-party plugin's dist-info on sys.path (entry point)."""
    sys.path.insert(0, str(THIRDPARTY))
    importlib.invalidate_caches()
    yield THIRDPARTY


class Databases:
    """Hands out empty-but-migrated databases quickly, from per-plugin-set templates."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.templates: dict[tuple[str, ...], str] = {}
        self.created: list[str] = []
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.prefix = f"fuwu_t_{worker}_{uuid.uuid4().hex[:6]}"

    def _admin(self):
        return create_engine(PG_URL, isolation_level="AUTOCOMMIT")

    def _pg_url(self, name: str) -> str:
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    def new_url(self, home: Path) -> str:
        if PG_URL:
            name = f"{self.prefix}_{len(self.created)}"
            engine = self._admin()
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            engine.dispose()
            self.created.append(name)
            return self._pg_url(name)
        return f"sqlite:///{home / 'fuwu.sqlite3'}"

    def clone(self, plugins: tuple[str, ...], home: Path) -> str:
        """A migrated database for ``plugins``: template made once, then copied."""
        if plugins not in self.templates:
            tpl_home = self.workdir / f"tpl{len(self.templates)}"
            tpl_home.mkdir()
            url = self.new_url(tpl_home)
            site = Site(Config(home=tpl_home, database_url=url, plugins=list(plugins), secret_key="t"))
            migrate.upgrade(site)
            site.db.run(lambda s: sync_roles(site, s))
            site.close()
            self.templates[plugins] = url
        template = self.templates[plugins]
        if PG_URL:
            name = f"{self.prefix}_{len(self.created)}"
            engine = self._admin()
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"'))
            engine.dispose()
            self.created.append(name)
            return self._pg_url(name)
        target = home / "fuwu.sqlite3"
        shutil.copyfile(make_url(template).database, target)
        return f"sqlite:///{target}"

    def drop_all(self) -> None:
        if not PG_URL:
            return
        engine = self._admin()
        with engine.connect() as conn:
            for name in reversed(self.created):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


#: every plugin that ships with fuwu
BUILTIN_PLUGINS = ("complaints", "contracts", "field_service", "incentives", "onsite_residency", "serial_keys",
                   "training", "travel_expense")


def demo_site(home: Path, databases, plugins: tuple[str, ...] = ()) -> Site:
    """A migrated site with ``plugins`` and the demo data (``fuwu demo load``); the caller closes it."""
    from fuwu import demo

    site = Site(Config(home=home, database_url=databases.clone(tuple(plugins), home), plugins=list(plugins),
                       secret_key="demo-test-secret"))
    demo.load(site)
    return site


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    dbs = Databases(tmp_path_factory.mktemp("db"))
    yield dbs
    dbs.drop_all()


@pytest.fixture
def make_site(databases, tmp_path):
    """``make_site(plugins=[...], migrated=True, settings={})`` -> a Site on a fresh DB."""
    sites: list[Site] = []

    def factory(plugins=(), *, migrated: bool = True, settings=None, save: bool = True) -> Site:
        home = tmp_path / f"site{len(sites)}"
        home.mkdir()
        url = databases.clone(tuple(plugins), home) if migrated else databases.new_url(home)
        config = Config(home=home, database_url=url, plugins=list(plugins), secret_key="test-secret",
                        settings=dict(settings or {}))
        if save:
            config.save()
        site = Site(config)
        sites.append(site)
        return site

    yield factory
    for site in sites:
        site.close()


@pytest.fixture
def site(make_site):
    return make_site()


@pytest.fixture
def make_plugin(tmp_path, monkeypatch):
    """Write a throwaway plugin package + dist-info and put it on sys.path.

    ``make_plugin("name", manifest="...", plugin="...code...")`` returns its folder.
    """
    root = tmp_path / "plugins_path"
    root.mkdir(exist_ok=True)
    monkeypatch.syspath_prepend(str(root))

    def factory(name: str, *, depends=(), plugin: str = "", init: str | None = None,
                entry: str | None = None, dist: str | None = None) -> Path:
        package = f"fuwu_test_{name}"
        pkg = root / package
        pkg.mkdir()
        (pkg / "__init__.py").write_text(init if init is not None else textwrap.dedent(f"""
            from fuwu import Manifest
            MANIFEST = Manifest(name={name!r}, version="1.0", depends={tuple(depends)!r}, summary="test")
        """))
        (pkg / "plugin.py").write_text("from fuwu import hookimpl\n" + textwrap.dedent(plugin))
        info = root / f"{dist or package}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist or package}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[fuwu.plugins]\n{entry or name} = {package}\n")
        importlib.invalidate_caches()
        return pkg

    yield factory
    for mod in [m for m in sys.modules if m.startswith("fuwu_test_")]:
        del sys.modules[mod]


# --- Web ----------------------------------------------------------------------

from starlette.testclient import TestClient  # noqa: E402

PASSWORD = "correct horse battery"
CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')


class Browser(TestClient):
    """A TestClient that signs in and sends the CSRF token like a real page."""

    def csrf(self, path: str = "/") -> str:
        page = self.get(path)
        match = CSRF_META.search(page.text)
        assert match, f"no CSRF token on {path} ({page.status_code})"
        return match.group(1)

    def login(self, username: str, password: str = PASSWORD):
        token = self.csrf("/login")
        return self.post("/login", data={"username": username, "password": password, "csrf_token": token})

    def submit(self, path: str, data: dict | None = None, *, page: str | None = None, **kw):
        """POST a form from ``page`` (default: the same path) with its CSRF token."""
        token = self.csrf(page or "/")
        return self.post(path, data={**(data or {}), "csrf_token": token}, **kw)


@contextmanager
def another_process(site: Site, cookie: str, *, config: Config | None = None):
    """A Browser on a second app over the same database, holding ``cookie``:
    its own engine and per-process caches, as another app process has."""
    from fuwu.web.app import create_app
    from fuwu.web.sessions import COOKIE

    other_site = Site(config or site.config)
    other = Browser(create_app(other_site), base_url="http://testserver", follow_redirects=False)
    other.cookies.set(COOKIE, cookie)
    try:
        yield other
    finally:
        other.close()
        other_site.close()


@pytest.fixture
def web(make_site):
    """``web(plugins=(), users={username: [roles]})`` -> (site, app, factory of signed-in browsers)."""
    from fuwu.demo import load_core
    from fuwu.models import Department, Role, Staff
    from fuwu.passwords import hash_password
    from fuwu.web.app import create_app
    from sqlalchemy import select

    clients = []

    def factory(plugins=(), *, demo: bool = True, users: dict | None = None, settings=None):
        site = make_site(plugins, settings=settings)
        secret = hash_password(PASSWORD)

        def setup(s):
            if demo:
                load_core(site, s)
            roles = {r.key: r for r in s.scalars(select(Role))}
            depts = {d.name: d for d in s.scalars(select(Department))}
            for username, spec in (users or {}).items():
                role_keys, dept = (spec, None) if isinstance(spec, list) else spec
                if dept and dept not in depts:
                    depts[dept] = Department(name=dept)
                    s.add(depts[dept])
                s.add(Staff(code=username, name=username, username=username, password_hash=secret,
                            roles=[roles[k] for k in role_keys], department=depts.get(dept),
                            email=f"{username}@example.com"))

        site.db.run(setup)
        app = create_app(site)

        def browser(username: str | None = None) -> Browser:
            # English by default, so assertions read in the source language; tests of
            # the Chinese pages send their own Accept-Language or pick a language.
            client = Browser(app, base_url="http://testserver", raise_server_exceptions=False,
                             follow_redirects=False, headers={"Accept-Language": "en"})
            clients.append(client)
            if username:
                r = client.login(username)
                assert r.status_code == 303, r.text[:500]
            return client

        return site, app, browser

    yield factory
    for client in clients:
        client.close()


class PlaywrightDriver:
    """One Playwright driver per test process: its sync API cannot start twice
    while another instance runs, so every browser test shares this one."""

    def __init__(self):
        self.driver = None

    def get(self):
        if self.driver is None:
            from playwright.sync_api import sync_playwright

            self.driver = sync_playwright().start()
        return self.driver


CHROMIUM = "/usr/bin/chromium"
#: nothing outside this machine is reachable: no background traffic, no updates
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu",
                 "--disable-sync", "--no-first-run"]
#: Chinese characters (CJK Unified Ideographs)
CJK = re.compile(r"[\u4e00-\u9fff]")


def launch_chromium(driver: PlaywrightDriver):
    """Debian's chromium through Playwright. Called inside a test, so a
    missing browser fails that test with how to install it."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium and fonts-noto-cjk "
                    "(`make test` installs them; or `apt-get install chromium fonts-noto-cjk`)", pytrace=False)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("Playwright for Python is missing: `make install-test` installs it", pytrace=False)
    try:
        return driver.get().chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as exc:
        pytest.fail(f"could not launch {CHROMIUM}: {exc}", pytrace=False)


def customer_name(site, customer_id: int) -> str:
    """What a form's customer field takes: the customer's name, as typed."""
    from fuwu.models import Customer

    return site.db.run(lambda s: s.get(Customer, customer_id).name)


def zh(site, message: str, **params) -> str:
    """``message`` as a zh_Hans reader sees it; fails when the catalog has no Chinese for it."""
    text = site.catalogs.get("zh_Hans").gettext(message)
    assert CJK.search(text), f"no Chinese for {message!r}"
    return text % params if params else text


@pytest.fixture(scope="session")
def playwright_driver():
    holder = PlaywrightDriver()
    yield holder
    if holder.driver is not None:
        holder.driver.stop()


@contextmanager
def serving(app):
    """Serve ``app`` with uvicorn on a free loopback port for a browser test;
    yields its base URL. The socket listens before uvicorn starts, so the
    browser's first request waits in the backlog instead of failing."""
    import socket
    import threading

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
