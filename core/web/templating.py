"""Jinja2 for one app: theme first, then core, then each plugin's folder.

One template serves both a full page and its htmx fragment: a handler names
the block that changes (``fragment="rows"``); for an htmx request that is not
a boosted navigation only that block is rendered (jinja2-fragments).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.numbers import format_currency, format_decimal
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, nodes, select_autoescape
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2_fragments import render_block
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .. import dates, i18n
from ..i18n import format_day, format_moment
from .routing import RouteTable

#: the CSRF token of the page being rendered, for macros imported without context
_rendering_token: ContextVar[str] = ContextVar("fuwu_csrf_token", default="")


class _CurrentToken:
    """``csrf_token`` as a global: ``{% from "core/macros.html" import csrf %}``
    gives the macro no access to the page's context, only to globals."""

    def __str__(self) -> str:
        return _rendering_token.get()


CORE_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
THEMES = Path(__file__).resolve().parent.parent.parent / "themes"


def theme_dir(name: str) -> Path:
    return THEMES / name


class SharedGlobalsEnvironment(Environment):
    """An environment whose templates read its globals dict itself.

    Jinja gives every template a ``ChainMap`` of its own globals over the
    environment's, so that ``get_template(name, globals=...)`` could add some
    to one template. fuwu never does, and the chain is slow to read: each
    render copies it key by key and each ``{% from %}`` import checks every
    key against it, about 20 µs each on a list page. A template with globals
    of its own still gets the chain.
    """

    def make_globals(self, d):
        return self.globals if not d else super().make_globals(d)


def build_environment(site) -> Environment:
    loaders = [FileSystemLoader(str(theme_dir(site.config.theme) / "templates"))]
    if site.config.theme != "default":
        loaders.append(FileSystemLoader(str(theme_dir("default") / "templates")))
    loaders.append(FileSystemLoader(str(CORE_TEMPLATES)))
    for _plugin, folder in site.plugins.folders("template_dirs"):
        loaders.append(FileSystemLoader(str(folder)))
    env = SharedGlobalsEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n", ConstantTranslations],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    env.globals["_"] = template_gettext
    env.filters.update(money=format_money, date=format_day, datetime=format_moment, month=i18n.format_month,
                       number=format_number, t=translate, listed=template_listed)
    env.globals.update(site=site, current_language=i18n.current_locale, LANGUAGES=LANGUAGE_NAMES,
                       query=query_string, csrf_token=_CurrentToken(), labelled=template_labelled,
                       aside=template_aside, month_steps=month_steps,
                       date_range=template_date_range, page_path=page_path)
    return env


def page_path(request: Request, name: str, /, **params: Any) -> str:
    """``url_for`` for macros, which do not see a page's context: the path of
    the route ``name``, built the cheap way (``Templates.path_for``)."""
    return request.app.state.templates.path_for(request, name, **params)


def template_gettext(message: str, **params: Any) -> Markup:
    """``_()`` in templates: what the i18n extension's newstyle ``_`` does
    (the translation is trusted markup, its parameters are escaped), in one
    call instead of three: a page calls it dozens of times."""
    # the template's own file: a plugin's template translates in its domain
    text = Markup(i18n.gettext_for(sys._getframe(1).f_code.co_filename, message))
    return text % params if params else text


def template_labelled(label: Any, value: Any) -> Markup:
    """``labelled(_("Default"), value)`` in templates: ``label: value`` with the
    reader's separator (``i18n.LABELLED``); both parts escaped unless markup."""
    return template_gettext(i18n.LABELLED, label=label, value=value)


def template_aside(text: Any, note: Any) -> Markup:
    """``aside(name, code)`` in templates: ``name (code)`` with the reader's
    brackets (``i18n.ASIDE``); both parts escaped unless markup."""
    return template_gettext(i18n.ASIDE, text=text, aside=note)


def template_date_range(start: date | None, end: date | None) -> Markup:
    """``date_range(start, end)`` in templates: "start – end", each date kept
    on one line, so a narrow cell breaks at the dash and not inside a date
    ("2027年10月16" / "日"); a missing date is "—", and so is a period with neither."""
    def day(value: date | None) -> Markup:
        return Markup('<span class="nowrap">%s</span>') % format_day(value) if value else Markup("—")
    return Markup(" – ").join([day(start), day(end)]) if start or end else Markup("—")


def template_listed(items: Iterable[Any], style: str = "standard") -> Markup:
    """``items|listed`` in templates: ``i18n.listed``, each item escaped unless markup."""
    return Markup(i18n.listed((escape(item) for item in items), style))


class ConstantTranslations(Extension):
    """``_("Text")`` with nothing to fill in, translated when the template is
    compiled, in an environment made for one catalog (``Templates``), so the
    page outputs it as part of its markup instead of calling ``_`` on every
    render (a page has dozens). The result is what ``template_gettext``
    gives: the translation, trusted. Calls with parameters stay calls."""

    #: set on an environment (an overlay) that compiles for one catalog
    catalog_attribute = "fuwu_catalog"

    def filter_stream(self, stream: TokenStream):
        catalog = getattr(self.environment, self.catalog_attribute, None)
        if catalog is None:
            yield from stream
            return
        domains = getattr(catalog, "fuwu_domains", None)
        if domains is not None and stream.filename:
            catalog = domains.of(stream.filename)  # this template's plugin first
        tokens = list(stream)
        i = 0
        while i < len(tokens):
            token = tokens[i]
            call = [t.type for t in tokens[i + 1:i + 4]]
            if (token.type == "name" and token.value == "_" and call == ["lparen", "string", "rparen"]
                    and (i == 0 or tokens[i - 1].type != "dot")):
                line, text = token.lineno, catalog.gettext(tokens[i + 2].value)
                # ("translation"|safe): a constant Jinja folds into the markup
                yield from (Token(line, "lparen", "("), Token(line, "string", text), Token(line, "pipe", "|"),
                            Token(line, "name", "safe"), Token(line, "rparen", ")"))
                i += 4
            else:
                yield token
                i += 1


LANGUAGE_NAMES = {"zh_Hans": "简体中文", "zh_Hant": "繁體中文", "en": "English"}


def translate(value: Any) -> str:
    """Translate a stored msgid (role names, timeline) in the reader's language."""
    return i18n.gettext(str(value)) if value else ""


def format_money(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format_currency(value, "CNY", locale=i18n.babel_locale())


def format_number(value) -> str:
    return "" if value is None else format_decimal(value, locale=i18n.babel_locale())


def month_steps(value: date | str | None) -> tuple[str, str, str] | None:
    """The month before, the month and the month after, as ``YYYY-MM``, for
    the month picker; ``value`` is a date in the month or its ``YYYY-MM``
    (None, or text that is no month: no month chosen)."""
    first = value.replace(day=1) if isinstance(value, date) else dates.parse_month(value) if value else None
    if first is None:
        return None
    return tuple(dates.add_months(first, n).strftime("%Y-%m") for n in (-1, 0, 1))


def query_string(request: Request, **changes) -> str:
    """The current query string with some parameters changed (sorting, pages)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(params) if params else "?"


class Templates:
    def __init__(self, site):
        self.site = site
        self.env = build_environment(site)
        #: one environment per language, compiling its constant ``_()`` (``ConstantTranslations``)
        self._by_language: dict[str, Environment] = {}
        self._import_nodes: dict[str, list[tuple[str, bool, str | None, str]]] = {}

    def environment(self) -> Environment:
        """The environment for the active language: its templates have their
        constant strings translated. Anything else (no site catalog active,
        as in a script) gets the base one, which translates as it renders."""
        language, translations = i18n.current_locale(), i18n.active_translations()
        if translations is not self.site.catalogs.get(language):
            return self.env
        env = self._by_language.get(language)
        if env is None:
            # shares loader, globals and filters; its own template cache
            env = self._by_language[language] = self.env.overlay(cache_size=400)
            setattr(env, ConstantTranslations.catalog_attribute, translations)
        return env

    def context(self, request: Request, extra: dict[str, Any]) -> dict[str, Any]:
        from .shell import shell_context

        def url_for(name: str, /, **params: Any) -> str:
            return self.path_for(request, name, **params)

        def url_prefix(name: str) -> str:
            return self.path_prefix(request, name)

        return {"request": request, "url_for": url_for, "url_prefix": url_prefix, **shell_context(request), **extra}

    def render(self, request: Request, name: str, context: dict[str, Any] | None = None, *,
               fragment: str | None = None, status: int = 200, headers: dict | None = None) -> HTMLResponse:
        ctx = self.context(request, context or {})
        env = self.environment()
        template = env.get_template(name)
        token = _rendering_token.set(str(ctx.get("csrf_token") or ""))
        try:
            if fragment and is_fragment_request(request):
                html = render_block(env, name, fragment, {**self._imports(env, name, ctx), **ctx})
            else:
                html = template.render(ctx)
        finally:
            _rendering_token.reset(token)
        response = HTMLResponse(html, status_code=status, headers=headers)
        if getattr(request.state, "flash_shown", False):
            from .shell import FLASH_COOKIE

            response.delete_cookie(FLASH_COOKIE)  # shown once, gone on the next page
        return response

    def _imports(self, env: Environment, name: str, ctx: dict[str, Any]) -> dict[str, Any]:
        """What the template's top-level ``{% from ... import %}`` / ``{% import %}`` define.

        A block rendered alone (jinja2-fragments) skips the template's top
        level, so without this its macros would be undefined.
        """
        found = self._import_nodes.get(name)
        if found is None:
            source, _, _ = self.env.loader.get_source(self.env, name)
            found = []
            for node in self.env.parse(source).body:
                if not isinstance(getattr(node, "template", None), nodes.Const):
                    continue
                if isinstance(node, nodes.FromImport):
                    for item in node.names:
                        attr, alias = item if isinstance(item, tuple) else (item, item)
                        found.append((node.template.value, node.with_context, attr, alias))
                elif isinstance(node, nodes.Import):
                    found.append((node.template.value, node.with_context, None, node.target))
            self._import_nodes[name] = found
        values: dict[str, Any] = {}
        for template_name, with_context, attr, alias in found:
            template = env.get_template(template_name)
            module = template.make_module(ctx) if with_context else template.module
            values[alias] = module if attr is None else getattr(module, attr)
        return values

    def path_for(self, request: Request, name: str, /, **params: Any) -> str:
        """``request.url_for(name).path``, cheaply: the app's ``RouteTable``
        builds most paths from their route's format and remembers which route
        serves any other name (Starlette would try every route, raising for
        each miss, which on a page of 70 links costs more than its queries)."""
        routes = request.app.router.routes
        if isinstance(routes[0], RouteTable):
            path = routes[0].build_path(name, params)
            if path is not None:
                return root_path(request) + path
        return root_path(request) + str(request.app.router.url_path_for(name, **params))

    def path_prefix(self, request: Request, name: str) -> str:
        """The path of ``name`` up to its one parameter, which ends it: a long
        list writes ``{{ prefix }}{{ row.id }}`` instead of calling
        ``url_for`` per row (a template call costs more than the link)."""
        routes = request.app.router.routes
        prefix = routes[0].path_prefix(name) if isinstance(routes[0], RouteTable) else None
        if prefix is None:
            raise ValueError(f"route {name!r} does not end with its only parameter")
        return root_path(request) + prefix

    def render_string(self, name: str, context: dict[str, Any]) -> str:
        return self.environment().get_template(name).render(context)

    def render_markup(self, name: str, context: dict[str, Any]) -> Markup:
        return Markup(self.render_string(name, context))


def root_path(request: Request) -> str:
    """Where the app is mounted (empty at the root of the server)."""
    return request.scope.get("app_root_path", request.scope.get("root_path", ""))


def is_fragment_request(request: Request) -> bool:
    """An htmx request for a part of the page; a boosted navigation or a
    history restore (the Back button) needs the whole page."""
    headers = request.headers
    return (headers.get("hx-request") == "true" and headers.get("hx-boosted") != "true"
            and headers.get("hx-history-restore-request") != "true")
