"""Settings (CORE settings page): every declared setting, its rule, value and source.

Settings are grouped by the plugin that declares them, core first, then the
plugins in dependency order (the order the site registered them). Each row
saves on its own: htmx swaps just that row, and without JavaScript the form
posts and comes back to the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import i18n
from ...config import Setting
from ...errors import NotFound, ValidationError
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ..endpoint import requires
from ..shell import flash_redirect
from ..templating import is_fragment_request

PERMISSION = "core.settings.manage"

SOURCES = {
    "database": _l("Changed here"),
    "fuwu.toml": _l("In fuwu.toml"),
    "default": _l("Default"),
}

TYPE_NAMES = {
    int: _l("Whole number"),
    Decimal: _l("Decimal number"),
    bool: _l("Yes or no"),
    time: _l("Time of day"),
}

_SECRET_WORDS = ("password", "secret", "token")


def is_secret(setting: Setting) -> bool:
    """Passwords and the like: never shown back, not even to an administrator.
    Only text can be one: ``core.password_reset_minutes`` is a number about passwords."""
    last = setting.key.rsplit(".", 1)[-1]
    return setting.type is str and any(word in last for word in _SECRET_WORDS)


@dataclass
class Row:
    """One setting as the page shows it."""

    setting: Setting
    value: Any
    source: str
    raw: str | None = None
    error: Any = None
    #: said next to the row after an htmx save or reset
    notice: Any = None

    @property
    def key(self) -> str:
        return self.setting.key

    @property
    def anchor(self) -> str:
        # dots would read as CSS classes in a selector
        return "setting-" + self.key.replace(".", "--")

    @property
    def secret(self) -> bool:
        return is_secret(self.setting)

    @property
    def kind(self) -> str:
        if self.setting.choices:
            return "choice"
        return {bool: "bool", int: "int", Decimal: "decimal", time: "time"}.get(self.setting.type, "text")

    @property
    def text(self) -> str:
        """The value as the input shows it (the user's input after an error)."""
        if self.secret:
            return ""
        if self.raw is not None:
            return self.raw
        return self.setting.format(self.value)

    @property
    def display(self) -> str:
        return self.describe(self.value)

    @property
    def default_display(self) -> str:
        return self.describe(self.setting.default)

    @property
    def type_name(self) -> str:
        return str(TYPE_NAMES.get(self.setting.type, ""))

    @property
    def limits(self) -> list[str]:
        """What the value may be: its type, bounds and choices, in words."""
        s = self.setting
        found = [self.type_name] if self.type_name else []
        if s.minimum is not None and s.maximum is not None:
            found.append(_("from %(min)s to %(max)s", min=s.minimum, max=s.maximum))
        elif s.minimum is not None:
            found.append(_("at least %(min)s", min=s.minimum))
        elif s.maximum is not None:
            found.append(_("at most %(max)s", max=s.maximum))
        if s.choices:
            found.append(_("one of: %(choices)s", choices=i18n.listed(s.choices, "or")))
        return found

    @property
    def source_label(self) -> str:
        return str(SOURCES.get(self.source, self.source))

    def describe(self, value: Any) -> str:
        if self.secret:
            return "••••••" if value else _("(not set)")
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        text = self.setting.format(value)
        return text if text != "" else _("(empty)")


@dataclass
class Group:
    plugin: str
    title: str
    summary: str
    rows: list[Row]


def _row(request: Request, setting: Setting, **extra) -> Row:
    settings = request.app.state.site.settings
    db = request.state.db
    return Row(setting, settings.get(setting.key, db), settings.source(setting.key, db), **extra)


def _groups(request: Request, override: Row | None = None) -> list[Group]:
    site = request.app.state.site
    order = ["core", *site.plugins.names]
    by_plugin: dict[str, list[Setting]] = {}
    for setting in site.settings.declared.values():
        by_plugin.setdefault(setting.plugin or "core", []).append(setting)
    names = order + sorted(set(by_plugin) - set(order))
    groups = []
    for name in names:
        declared = by_plugin.get(name)
        if not declared:
            continue
        rows = [override if override is not None and override.key == s.key else _row(request, s)
                for s in declared]
        groups.append(Group(name, *site.plugins.describe(name), rows))
    return groups


def _declared(request: Request) -> Setting:
    key = request.path_params["key"]
    settings = request.app.state.site.settings
    if key not in settings:
        raise NotFound()
    return settings.setting(key)


def _render_page(request: Request, *, override: Row | None = None, status: int = 200) -> Response:
    return request.app.state.templates.render(
        request, "core/settings/page.html",
        {"groups": _groups(request, override), "title": _("Settings")}, status=status)


def _render_row(request: Request, row: Row, *, status: int = 200) -> Response:
    return request.app.state.templates.render(request, "core/settings/row.html", {"row": row}, status=status)


def _back(request: Request, row_anchor: str) -> str:
    return request.url_for("settings").path + "#" + row_anchor


@requires(PERMISSION)
def settings_page(request: Request) -> Response:
    return _render_page(request)


@requires(PERMISSION)
def setting_save(request: Request) -> Response:
    setting = _declared(request)
    site = request.app.state.site
    db = request.state.db
    raw = request.state.form.get("value")
    raw = "" if raw is None else str(raw)
    if not is_secret(setting):  # a password may begin or end with a space on purpose
        raw = raw.strip()
    try:
        setting.parse(raw)
    except ValidationError as exc:
        message = exc.errors.get(setting.key) or next(iter(exc.errors.values()), None) or exc.message
        row = _row(request, setting, raw=raw, error=str(message))
        if is_fragment_request(request):
            return _render_row(request, row, status=422)
        return _render_page(request, override=row, status=422)
    site.settings.set(db, setting.key, raw)
    db.flush()
    row = _row(request, setting, notice=_("Saved."))
    if is_fragment_request(request):
        return _render_row(request, row)
    return flash_redirect(request, _back(request, row.anchor), _("%(label)s saved.", label=setting.label))


@requires(PERMISSION)
def setting_reset(request: Request) -> Response:
    setting = _declared(request)
    site = request.app.state.site
    db = request.state.db
    site.settings.reset(db, setting.key)
    db.flush()
    row = _row(request, setting, notice=_("Reset."))
    if is_fragment_request(request):
        return _render_row(request, row)
    return flash_redirect(request, _back(request, row.anchor),
                          _("%(label)s reset to %(value)s.", label=setting.label, value=row.display))


def routes() -> list:
    return [
        Route("/settings", settings_page, name="settings"),
        Route("/settings/{key}", setting_save, methods=["POST"], name="setting_save"),
        Route("/settings/{key}/reset", setting_reset, methods=["POST"], name="setting_reset"),
    ]
