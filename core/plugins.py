"""Plugin discovery, manifests, dependency order, enable/disable.

Every plugin, built-in or third-party, is an entry point in the group
``fuwu.plugins`` whose value is a package with a ``MANIFEST`` and, usually, a
``plugin`` module holding its hook implementations. Entry points are loaded
one by one so a broken package stops start-up with one sentence that names
it, instead of a traceback.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pluggy
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from . import hookspecs
from .errors import ConfigError
from .i18n import lazy_gettext as _l

GROUP = "fuwu.plugins"
CORE = "core"


@dataclass(frozen=True)
class Manifest:
    """What a plugin says about itself (``MANIFEST`` in its ``__init__.py``).

    ``depends`` lists other plugins, optionally with a version range
    (``"contracts>=0.2"``).
    """

    name: str
    version: str
    #: one line on what the plugin does; a ``lazy_gettext`` string, so pages
    #: show it in the reader's language (hash=False: lazy strings have no hash)
    summary: str = field(default="", hash=False)
    depends: tuple[str, ...] = ()
    license: str = ""
    author: str = ""
    #: what pages call the plugin (settings, role permissions), ``lazy_gettext``
    #: too; the plugin's menu section is a good choice. Default: ``name``
    title: str = field(default="", hash=False)

    def requirements(self) -> list[Requirement]:
        reqs = []
        for dep in self.depends:
            try:
                reqs.append(Requirement(dep))
            except InvalidRequirement:
                raise PluginError(_l("Plugin %(plugin)s declares an invalid dependency %(dep)r."),
                                  plugin=self.name, dep=dep) from None
        return reqs


class PluginError(ConfigError):
    """Start-up cannot go on because of one plugin; the message names it."""


@dataclass
class Plugin:
    """A discovered plugin: its manifest, package and hook module."""

    manifest: Manifest
    package: ModuleType
    hooks: ModuleType
    distribution: str = ""
    entry_point: str = ""

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def folder(self) -> Path | None:
        """The package's folder (None for a single-module plugin)."""
        paths = getattr(self.package, "__path__", None)
        return Path(list(paths)[0]) if paths else None


#: Folders a plugin package may simply have, like Odoo's module anatomy; a
#: plugin that implements the hook decides for itself instead.
CONVENTIONAL_FOLDERS = {
    "template_dirs": "templates",
    "static_dirs": "static",
    "locale_dirs": "locale",
    "migration_locations": "migrations",
}


def folders(plugin: Plugin, hook_name: str) -> list:
    """What ``hook_name`` returns for ``plugin``: its own answer, or by convention
    the folder named in CONVENTIONAL_FOLDERS when it exists."""
    impl = getattr(plugin.hooks, hook_name, None)
    if impl is not None and hasattr(impl, "fuwu_impl"):
        answer = impl()
        if answer is None:
            return []
        return list(answer) if hook_name == "template_dirs" else [answer]
    path = plugin.folder / CONVENTIONAL_FOLDERS[hook_name] if plugin.folder else None
    if path is None or not path.is_dir():
        return []
    return [(plugin.name, path)] if hook_name == "locale_dirs" else [path]


@dataclass
class Available:
    """An installed entry point, loaded or not (``plugins list`` shows both)."""

    name: str
    value: str
    distribution: str
    plugin: Plugin | None = None
    error: str = ""


def _entry_points() -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=GROUP), key=lambda ep: ep.name)


def _import_failed(ep: metadata.EntryPoint, exc: BaseException) -> PluginError:
    return PluginError(
        _l("Plugin %(plugin)s (%(value)s) failed to import: %(error)s. "
           "Disable it with `fuwu plugins disable %(plugin)s` or uninstall it."),
        plugin=ep.name, value=ep.value, error=f"{type(exc).__name__}: {exc}")


def _load(ep: metadata.EntryPoint) -> Plugin:
    dist = ep.dist.name if ep.dist else ""
    try:
        package = ep.load()
    except Exception as exc:  # any import-time failure of third-party code
        raise _import_failed(ep, exc) from None
    manifest = getattr(package, "MANIFEST", None)
    if isinstance(manifest, dict):
        manifest = Manifest(**{**manifest, "depends": tuple(manifest.get("depends", ()))})
    if not isinstance(manifest, Manifest):
        raise PluginError(_l("Plugin %(plugin)s (%(value)s) has no MANIFEST."), plugin=ep.name, value=ep.value)
    if manifest.name != ep.name:
        raise PluginError(
            _l("Plugin %(plugin)s: its entry point is named %(ep)s but its manifest says %(name)s."),
            plugin=ep.name, ep=ep.name, name=manifest.name)
    try:
        Version(manifest.version)
    except InvalidVersion:
        raise PluginError(_l("Plugin %(plugin)s has an invalid version %(version)r."),
                          plugin=ep.name, version=manifest.version) from None
    hooks = package
    if hasattr(package, "__path__"):
        try:
            hooks = importlib.import_module(f"{package.__name__}.plugin")
        except ModuleNotFoundError as exc:
            if exc.name != f"{package.__name__}.plugin":  # a plugin without plugin.py is fine
                raise _import_failed(ep, exc) from None
        except Exception as exc:
            raise _import_failed(ep, exc) from None
    return Plugin(manifest, package, hooks, distribution=dist, entry_point=ep.value)


def available() -> list[Available]:
    """Every installed plugin, importing each; failures are reported, not raised."""
    result = []
    for ep in _entry_points():
        item = Available(ep.name, ep.value, ep.dist.name if ep.dist else "")
        try:
            item.plugin = _load(ep)
        except PluginError as exc:
            item.error = str(exc)
        result.append(item)
    return result


def discover(enabled: Iterable[str]) -> list[Plugin]:
    """Load the enabled plugins and return them in dependency order.

    Raises PluginError naming the plugin on: a name enabled but not installed,
    two packages claiming one name, an import failure, a missing or disabled
    dependency, a version mismatch, a dependency cycle.
    """
    wanted = list(dict.fromkeys(enabled))
    by_name: dict[str, metadata.EntryPoint] = {}
    for ep in _entry_points():
        if ep.name in by_name and by_name[ep.name].value != ep.value:
            raise PluginError(
                _l("Plugin name %(plugin)s is claimed by two packages (%(a)s and %(b)s); uninstall one."),
                plugin=ep.name, a=by_name[ep.name].value, b=ep.value)
        by_name[ep.name] = ep
    for name in wanted:
        if name not in by_name:
            raise PluginError(
                _l("Plugin %(plugin)s is enabled in fuwu.toml but not installed; install it or "
                   "run `fuwu plugins disable %(plugin)s`."), plugin=name)
    loaded = {name: _load(by_name[name]) for name in wanted}
    for plugin in loaded.values():
        for req in plugin.manifest.requirements():
            dep = loaded.get(req.name)
            if dep is None:
                installed = req.name in by_name
                raise PluginError(
                    _l("Plugin %(plugin)s depends on %(dep)s, which is not enabled; run "
                       "`fuwu plugins enable %(dep)s`.") if installed else
                    _l("Plugin %(plugin)s depends on %(dep)s, which is not installed."),
                    plugin=plugin.name, dep=req.name)
            if req.specifier and not req.specifier.contains(dep.manifest.version, prereleases=True):
                raise PluginError(
                    _l("Plugin %(plugin)s needs %(req)s but version %(version)s is installed."),
                    plugin=plugin.name, req=str(req), version=dep.manifest.version)
    return dependency_order(loaded)


def dependency_order(plugins: dict[str, Plugin]) -> list[Plugin]:
    """Dependencies first; among equals by depth, then by name (as Odoo does)."""
    depth: dict[str, int] = {}
    visiting: list[str] = []

    def visit(name: str) -> int:
        if name in depth:
            return depth[name]
        if name in visiting:
            cycle = " -> ".join([*visiting[visiting.index(name):], name])
            raise PluginError(_l("Plugin %(plugin)s is part of a dependency cycle: %(cycle)s."),
                              plugin=name, cycle=cycle)
        visiting.append(name)
        deps = [r.name for r in plugins[name].manifest.requirements()]
        depth[name] = 1 + max((visit(d) for d in deps), default=0)
        visiting.pop()
        return depth[name]

    for name in sorted(plugins):
        visit(name)
    return sorted(plugins.values(), key=lambda p: (depth[p.name], p.name))


def with_dependencies(names: Iterable[str]) -> list[str]:
    """The given plugins plus everything they depend on, transitively."""
    by_name = {a.name: a for a in available()}
    result: list[str] = []

    def add(name: str) -> None:
        if name in result:
            return
        item = by_name.get(name)
        if item is None:
            raise PluginError(_l("Plugin %(plugin)s is not installed."), plugin=name)
        if item.plugin is None:
            raise PluginError(item.error)
        for req in item.plugin.manifest.requirements():
            add(req.name)
        result.append(name)

    for name in names:
        add(name)
    return result


@dataclass
class PluginSet:
    """The pluggy manager of one site and the plugins registered in it."""

    pm: pluggy.PluginManager
    plugins: list[Plugin] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.plugins]

    def get(self, name: str) -> Plugin | None:
        return next((p for p in self.plugins if p.name == name), None)

    def describe(self, name: str) -> tuple[str, str]:
        """(title, summary) of plugin ``name`` (or core) for a page heading,
        in the active language."""
        if name == CORE:
            return _l("Core"), ""
        plugin = self.get(name)
        if plugin is None:
            return name, ""
        return plugin.manifest.title or name, plugin.manifest.summary

    @property
    def hook(self):
        return self.pm.hook

    def collect(self, hook_name: str, **kwargs) -> list:
        """Call a list hook and flatten: results in registration order."""
        results = getattr(self.pm.hook, hook_name)(**kwargs)
        flat: list = []
        for item in reversed(results):  # pluggy answers last-registered first
            if item is None:
                continue
            if isinstance(item, list | tuple):
                flat.extend(item)
            else:
                flat.append(item)
        return flat

    def collect_by_plugin(self, hook_name: str, **kwargs) -> list[tuple[str, object]]:
        """Like ``collect`` but each answer paired with the plugin that gave it."""
        order = {name: i for i, name in enumerate([CORE, *self.names])}
        impls = sorted(getattr(self.pm.hook, hook_name).get_hookimpls(),
                       key=lambda impl: order.get(impl.plugin_name, len(order)))
        result = []
        for impl in impls:
            value = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            if value is not None:
                result.append((impl.plugin_name, value))
        return result

    def folders(self, hook_name: str) -> list[tuple[str, object]]:
        """``(plugin, answer)`` of a folder hook for every plugin, by convention
        where a plugin does not implement it (see CONVENTIONAL_FOLDERS)."""
        return [(p.name, answer) for p in self.plugins for answer in folders(p, hook_name)]


def build(enabled: Iterable[str], *, trace: bool | None = None) -> PluginSet:
    """Create a fresh plugin manager for one site (never shared between sites)."""
    from . import core_plugin

    plugins = discover(enabled)
    pm = pluggy.PluginManager("fuwu")
    pm.add_hookspecs(hookspecs)
    pm.register(core_plugin, name=CORE)
    for plugin in plugins:
        try:
            pm.register(plugin.hooks, name=plugin.name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(_l("Plugin %(plugin)s has an invalid hook implementation: %(error)s"),
                              plugin=plugin.name, error=exc) from None
    for specs in reversed(pm.hook.register_hookspecs()):
        for module in specs or ():
            pm.add_hookspecs(module)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or "?"
        raise PluginError(
            _l("Plugin %(plugin)s implements a hook that does not exist: %(error)s"),
            plugin=name, error=str(exc).split(":")[-1].strip() or exc) from None
    if trace if trace is not None else os.environ.get("FUWU_TRACE_PLUGINS"):
        _trace(pm)
    return PluginSet(pm, plugins)


def _trace(pm: pluggy.PluginManager) -> None:
    """FUWU_TRACE_PLUGINS=1: print every hook call with its duration to stderr."""
    started: list[float] = []

    def before(hook_name, impls, kwargs):
        started.append(time.perf_counter())
        names = ", ".join(i.plugin_name for i in impls)
        print(f"[fuwu] {hook_name}({', '.join(kwargs)}) -> {names}", file=sys.stderr)

    def after(outcome, hook_name, impls, kwargs):
        elapsed = (time.perf_counter() - started.pop()) * 1000
        print(f"[fuwu] {hook_name} done in {elapsed:.1f} ms", file=sys.stderr)

    pm.add_hookcall_monitoring(before, after)
