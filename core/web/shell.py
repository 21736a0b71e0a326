"""What every page's frame shows: navigation, user, CSRF token, flash."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .. import i18n
from ..i18n import lazy_gettext as _l
from ..models.staff import ADMIN_ROLE
from .csrf import token_for
from .templating import is_fragment_request, root_path
from .ui import MenuItem

FLASH_COOKIE = "fuwu_flash"

CORE_MENU = [
    # (permission, label, route name, section, order)
    ("core.customer.view", _l("Customers"), "customers", _l("Customers"), 10),
    ("core.customer.view", _l("Follow-ups"), "follow_ups", _l("Customers"), 11),
    ("core.customer.view", _l("First-visit calls"), "first_visits", _l("Customers"), 12),
    ("core.contract.view", _l("Contracts"), "contracts", _l("Customers"), 15),
    ("core.customer.view", _l("Software products"), "products", _l("Customers"), 17),
    ("core.staff.view", _l("Staff"), "staff", _l("Organisation"), 60),
    ("core.staff.view", _l("Departments"), "departments", _l("Organisation"), 62),
    ("core.role.manage", _l("Roles"), "roles", _l("System administration"), 80),
    ("core.settings.manage", _l("Settings"), "settings", _l("System administration"), 85),
    ("core.settings.manage", _l("Working calendar"), "calendar", _l("System administration"), 86),
    ("core.audit.view", _l("Audit log"), "audit_log", _l("System administration"), 88),
    ("core.audit.view", _l("Sign-in history"), "sign_in_log", _l("System administration"), 89),
]


#: menus remembered per app; past this many distinct (language, grants) it starts afresh
MAX_MENUS = 1000


def menu(request: Request) -> list[MenuItem]:
    """The navigation for the signed-in person.

    Built once per language and set of grants, then remembered by the app:
    with every plugin enabled an administrator's menu asks each plugin and
    builds some 40 links, which costs a quarter of a list page. Entries
    depend on permissions only (the ``menu_items`` contract), so two people
    with the same grants see the same menu, and a change of grants is a new key.
    """
    user = request.state.user
    if user is None:
        return []
    sign_in = getattr(request.state, "web_session", None)
    if sign_in is None:
        return _build_menu(request, user)
    grants = ("*",) if ADMIN_ROLE in sign_in.role_keys else sign_in.permissions
    # the app's root, which the links start with (a plugin's mount has its own root_path in the scope)
    key = (i18n.current_locale(), grants, root_path(request))
    menus: dict = request.app.state.menus
    items = menus.get(key)
    if items is None:
        items = _build_menu(request, user)
        if len(menus) >= MAX_MENUS:
            menus.clear()
        menus[key] = items
    return items


def _build_menu(request: Request, user) -> list[MenuItem]:
    items = []
    for permission, label, route, section, order in CORE_MENU:
        if user.can(permission):
            try:
                url = request.app.state.templates.path_for(request, route)
            except Exception:  # route of a page not mounted in this app
                continue
            items.append(MenuItem(label, url, section, order))
    items += request.app.state.site.plugins.collect("menu_items", request=request)
    # the labels in the language of the key, so a remembered menu translates nothing again
    return [replace(m, label=str(m.label), section=str(m.section)) for m in _grouped(items)]


def _grouped(items: list[MenuItem]) -> list[MenuItem]:
    """Each section's entries together under one heading, by their order;
    a section comes where its first entry would (plugins number their
    entries independently, so sorting by order alone interleaves them)."""
    sections = [str(m.section) for m in items]
    first: dict[str, int] = {}
    for section, m in zip(sections, items, strict=True):
        first[section] = min(first.get(section, m.order), m.order)
    keyed = sorted(zip(sections, items, strict=True),
                   key=lambda pair: (first[pair[0]], pair[0], pair[1].order, str(pair[1].label)))
    return [m for _section, m in keyed]


def shell_context(request: Request) -> dict:
    state = request.state
    user = getattr(state, "user", None)
    fragment = is_fragment_request(request)  # the frame is not re-rendered
    return {
        "user": user,
        "csrf_token": token_for(request),
        "menu": (items := menu(request) if user is not None and not fragment else []),
        # the entry whose URL is the longest prefix of this page is the current one
        "current_menu_url": max((m.url for m in items if request.url.path == m.url
                                 or request.url.path.startswith(m.url.rstrip("/") + "/")), key=len, default=None),
        "flashes": [] if fragment else read_flashes(request),
        "request_id": getattr(state, "request_id", ""),
        "fragment_request": request.headers.get("hx-request") == "true",
    }


def _sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), b"flash:" + payload.encode(), hashlib.sha256).hexdigest()[:32]


def flash(request: Request, response: Response, message, kind: str = "success") -> Response:
    """Show ``message`` on the next page (a signed cookie; survives the redirect)."""
    payload = json.dumps([[kind, str(message)]], ensure_ascii=False)
    secret = request.app.state.site.config.secret_key
    response.set_cookie(FLASH_COOKIE, quote(payload) + "." + _sign(secret, payload), httponly=True,
                        samesite="lax", secure=request.app.state.site.config.https, max_age=120)
    return response


def flash_redirect(request: Request, url: str, message, kind: str = "success") -> Response:
    """After a successful POST: send the browser to ``url`` (303, so it GETs
    it) and show ``message`` there."""
    return flash(request, RedirectResponse(url, status_code=303), message, kind)


def read_flashes(request: Request) -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or "." not in raw:
        return []
    quoted, _, signature = raw.rpartition(".")
    payload = unquote(quoted)
    if not hmac.compare_digest(signature, _sign(request.app.state.site.config.secret_key, payload)):
        return []
    request.state.flash_shown = True
    try:
        return [(k, m) for k, m in json.loads(payload)]
    except (ValueError, TypeError):
        return []
