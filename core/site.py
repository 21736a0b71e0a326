"""A site: one deployment's configuration, plugins, database and registries.

Everything that differs between two deployments hangs off a ``Site`` (nothing
at module level), so tests and the benchmark can build several in one process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from .calendar import WorkCalendar
from .calendar_days import site_calendar
from .config import Config, Settings
from .db import Database
from .epoch import Epoch
from .events import Events
from .i18n import Catalogs
from .jobs import Job
from .permissions import Permissions
from .plugins import PluginSet, build
from .workflow import Workflows

T = TypeVar("T")


class Site:
    def __init__(self, config: Config):
        self.config = config
        self.plugins: PluginSet = build(config.plugins)
        self.plugins.collect("register_models")
        settings = []
        for plugin, declared in self.plugins.collect_by_plugin("register_settings"):
            settings += [s if s.plugin else _with_plugin(s, plugin) for s in declared]
        self.settings = Settings(settings, config.settings)
        perms = []
        for plugin, declared in self.plugins.collect_by_plugin("register_permissions"):
            perms += [p if p.plugin else _with_plugin(p, plugin) for p in declared]
        self.permissions = Permissions(perms)
        self.db = Database(config.database_url)
        # Listeners get the session; ``site_of(session)`` gives them the site.
        self.db.sessions.configure(info={"site": self})
        self.events = Events(self.plugins)
        self.workflows = Workflows(self.plugins.collect("register_workflows"), self.events)
        self.events.install(self.db.sessions, self.workflows.refuse_archived_changes)
        self.jobs: list[Job] = self.plugins.collect("register_jobs")
        self.epoch = Epoch(self.db.sessions, config.database_url)
        self.settings.share(self.epoch)
        from .web.signin_cache import SignInCache

        self.sign_ins = SignInCache(self.epoch, seconds=config.session_cache_seconds)
        self.catalogs = Catalogs([answer for _plugin, answer in self.plugins.folders("locale_dirs")])
        self._registries: dict[str, Any] = {}
        self._registries_lock = threading.Lock()

    def registry(self, name: str, build: Callable[[], T]) -> T:
        """What ``build()`` returns (say, what plugins declare through a hook,
        checked and keyed), made once per site on first use however many
        request threads ask at once."""
        found = self._registries.get(name)
        if found is None:
            with self._registries_lock:
                found = self._registries.get(name)
                if found is None:
                    found = self._registries[name] = build()
        return found

    @classmethod
    def from_home(cls, home: str | Path | None = None) -> Site:
        return cls(Config.load(home))

    @property
    def zone(self) -> ZoneInfo:
        """The site's time zone (``[site] timezone``, Asia/Shanghai unless set); ZoneInfo
        keeps one instance per name, so this costs a dictionary lookup."""
        return ZoneInfo(self.config.timezone)

    def day_of(self, at: datetime | None = None) -> date:
        """The calendar day in the site's zone at the moment ``at`` (now when omitted).

        This is what "today" means to the people using the site: the server's own
        clock zone (often UTC) puts 00:00 to 08:00 in Shanghai on the day before."""
        return (at or datetime.now(UTC)).astimezone(self.zone).date()

    def calendar(self, session: Session, *, round_the_clock: bool = False) -> WorkCalendar:
        """The working-day calendar (holidays, make-up days, closures, hours)."""
        return site_calendar(self, session, round_the_clock=round_the_clock)

    def migration_locations(self) -> dict[str, Path]:
        return {name: Path(loc) for name, loc in self.plugins.folders("migration_locations")}

    def close(self) -> None:
        self.epoch.close()
        self.db.dispose()


def site_of(session: Session) -> Site:
    """The site a unit of work belongs to (for event listeners and jobs)."""
    return session.info["site"]


def _with_plugin(item, plugin: str):
    from dataclasses import replace

    return replace(item, plugin=plugin)
