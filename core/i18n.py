"""Translations: one Babel domain per plugin (core's is ``fuwu``).

The active catalog lives in a context variable set per request or command,
so two apps (or two requests) in one process never share a language.
Strings defined at import time use ``lazy_gettext`` and are translated when
shown.
"""

from __future__ import annotations

import functools
import gettext as _gettext
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton
from babel.lists import format_list
from babel.support import LazyProxy, Translations

from .dates import parse_month

LANGUAGES = ("zh_Hans", "zh_Hant", "en")
DEFAULT_LANGUAGE = "zh_Hans"
#: the time zone times are shown in when a site names none (``[site] timezone``)
DEFAULT_ZONE = "Asia/Shanghai"
CORE_DOMAIN = "fuwu"
CORE_LOCALE_DIR = Path(__file__).parent / "locale"

_active: ContextVar[_gettext.NullTranslations] = ContextVar(
    "fuwu_translations", default=_gettext.NullTranslations()
)
_active_locale: ContextVar[str] = ContextVar("fuwu_locale", default=DEFAULT_LANGUAGE)
_active_zone: ContextVar[ZoneInfo] = ContextVar("fuwu_zone", default=ZoneInfo(DEFAULT_ZONE))


def gettext(message: str, **params) -> str:
    """``message`` in the reader's language, from the catalog of the code
    that asks: its plugin's domain first (``DomainMap``)."""
    return gettext_for(sys._getframe(1).f_code.co_filename, message, **params)


def ngettext(singular: str, plural: str, n: int, **params) -> str:
    text = _catalog_for(sys._getframe(1).f_code.co_filename).ngettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


def lazy_gettext(message: str, **params) -> LazyProxy:
    """``gettext`` when the text is shown; the domain is that of the code
    that made it (a form label defined by a plugin translates in its domain)."""
    caller = sys._getframe(1).f_code.co_filename
    return LazyProxy(functools.partial(gettext_for, caller), message, enable_cache=False, **params)


def gettext_for(filename: str, message: str, **params) -> str:
    """``message`` translated as the code in ``filename`` sees it (a
    template's ``_()`` passes the template's file)."""
    text = _catalog_for(filename).gettext(message)
    return text % params if params else text


def _catalog_for(filename: str) -> _gettext.NullTranslations:
    """The active catalog as seen from the code in ``filename``: its own
    domain's translations first. Two plugins may translate one English word
    two ways ("Place": a ranking's 名次, a training's 地点), so the merged
    catalog alone would give one of them the other's word."""
    translations = _active.get()
    domains = getattr(translations, "fuwu_domains", None)
    return translations if domains is None else domains.of(filename)


_ = gettext
_l = lazy_gettext


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


#: a label and its value ("Default: 5"); Chinese writes a full-width colon
#: with no space ("默认：5"), so the separator is the translator's
LABELLED = N_("%(label)s: %(value)s")


def labelled(label, value) -> str:
    """``label: value`` written the reader's way (see ``LABELLED``)."""
    return gettext(LABELLED, label=label, value=value)


#: a text with an aside on it in brackets ("Zhang Wei (S001)"); Chinese uses
#: full-width brackets and no space ("张伟（S001）"), so they are the translator's
ASIDE = N_("%(text)s (%(aside)s)")


def aside(text, note) -> str:
    """``text (note)`` written the reader's way (see ``ASIDE``)."""
    return gettext(ASIDE, text=text, aside=note)


def listed(items: Iterable, style: str = "standard") -> str:
    """Items joined the reader's way, by Babel's list patterns: "a, b, and c" in
    English, "a、b和c" in Chinese; ``style="or"`` gives "a, b, or c" / "a、b或c"."""
    texts = [str(item) for item in items]
    return format_list(texts, style=style, locale=_active_locale.get()) if texts else ""


def msgid(message) -> str:
    """The untranslated text of a plain or lazy string (to store in the DB)."""
    if isinstance(message, LazyProxy):
        return message._args[0]
    return str(message)


#: the key under which a stored parameter keeps a msgid (``stored_params``)
STORED_MSGID = "msgid"
#: ... the parameters of that msgid, when it has any
STORED_PARAMS = "params"
#: ... a day, a moment or a month (``Month``), to be written in the reader's format
STORED_DATE = "date"
STORED_MOMENT = "moment"
STORED_MONTH = "month"


def stored_params(params: dict) -> dict:
    """The parameters of a message kept in the database, as JSON, so that
    each reader sees them their own way (``stored_text``): a lazy string
    (``_l``, e.g. a form's name) keeps its msgid, and its own parameters if
    it has any; a ``date``, a ``datetime`` or a ``Month`` keeps its ISO
    form, to be written in the reader's format; anything else is kept as text."""
    return {k: _stored_value(v) for k, v in params.items()}


def _stored_value(value):
    if isinstance(value, LazyProxy):
        kept = {STORED_MSGID: msgid(value)}
        if value._kwargs:
            kept[STORED_PARAMS] = stored_params(value._kwargs)
        return kept
    if isinstance(value, Month):
        return {STORED_MONTH: value.isoformat()}
    if isinstance(value, datetime):  # before date: a datetime is a date too
        return {STORED_MOMENT: value.isoformat()}
    if isinstance(value, date):
        return {STORED_DATE: value.isoformat()}
    return str(value)


def stored_message(message) -> tuple[str, dict | None]:
    """``message`` to keep in the database: its msgid and stored parameters
    when it is a lazy string (shown translated), else its text and None
    (shown as it is)."""
    if isinstance(message, LazyProxy):
        return msgid(message), stored_params(message._kwargs)
    return str(message), None


def site_text(site, message, **params) -> str:
    """``message`` (a msgid) with ``params`` filled in, in the site's own
    language (``[site] language``) whoever is signed in: for text kept as
    written, such as the reason of a ledger entry (``incentive_due``). A
    parameter that is a lazy string is translated too, a day or a moment
    written in that language's format."""
    with use_language(site.catalogs, site.config.language, site.config.timezone):
        return gettext(msgid(message), **{k: _shown_value(gettext, _stored_value(v)) for k, v in params.items()})


def stored_text(gettext, message: str, params: dict | None) -> str:
    """A message kept untranslated in the database (timeline, notifications),
    in the reader's language, its dates in the reader's format; a catalog
    whose placeholders do not fit the stored parameters shows the text
    unfilled rather than failing the page."""
    translated = gettext(message)
    if params:
        params = {k: _shown_value(gettext, v) for k, v in params.items()}
    try:
        return translated % params if params else translated
    except (KeyError, TypeError, ValueError):
        return translated


def _shown_value(gettext, value):
    if not isinstance(value, dict):
        return value
    try:
        if STORED_MSGID in value:
            return stored_text(gettext, value[STORED_MSGID], value.get(STORED_PARAMS))
        if STORED_DATE in value:
            return format_day(date.fromisoformat(value[STORED_DATE]))
        if STORED_MOMENT in value:
            return format_moment(datetime.fromisoformat(value[STORED_MOMENT]))
        if STORED_MONTH in value:
            return format_month(value[STORED_MONTH])
    except (TypeError, ValueError):
        pass  # written by hand or by an older version: shown as kept
    return value


def current_locale() -> str:
    return _active_locale.get()


def active_translations() -> _gettext.NullTranslations:
    """The catalog ``gettext`` translates with right now."""
    return _active.get()


def current_zone() -> ZoneInfo:
    """The time zone times are shown in right now: the site's (``use_language``)."""
    return _active_zone.get()


def babel_locale(language: str | None = None) -> Locale:
    return Locale.parse(language or current_locale())


def format_day(value: date | None, form: str = "medium") -> str:
    """A day in the reader's format: 2026年11月20日, Nov 20, 2026."""
    if value is None:
        return ""
    return format_date(value, form, locale=babel_locale())


def format_month(value: date | str | None) -> str:
    """A calendar month in the reader's format: 2026年11月, Nov 2026.
    ``value`` is a day in it or its ``YYYY-MM``; text that is no month is
    shown as it is."""
    if isinstance(value, str):
        first = parse_month(value)
        if first is None:
            return value
        value = first
    if value is None:
        return ""
    return format_skeleton("yMMM", value, locale=babel_locale())


class Month:
    """A calendar month as a message's parameter, written the reader's way
    when the message is shown (``_("Report %(month)s", month=Month(day))``),
    and kept as ``YYYY-MM`` in stored text (``stored_params``), so a reader
    of another language sees it in theirs. ``value`` is a day in the month
    or its ``YYYY-MM``."""

    __slots__ = ("first",)

    def __init__(self, value: date | str) -> None:
        first = value.replace(day=1) if isinstance(value, date) else parse_month(value)
        if first is None:
            raise ValueError(f"not a month: {value!r}")
        self.first = first

    def isoformat(self) -> str:
        return f"{self.first:%Y-%m}"

    def __str__(self) -> str:
        return format_month(self.first)

    def __repr__(self) -> str:
        return f"Month({self.isoformat()!r})"


def format_moment(value: datetime | None, form: str = "short") -> str:
    """A moment in the site's time zone (``[site] timezone``), in the reader's
    format; its spaces do not break, so a table cell never splits the date
    from its time."""
    if value is None:
        return ""
    return format_datetime(value, form, tzinfo=current_zone(), locale=babel_locale()).replace(" ", "\xa0")


class DomainMap:
    """Which domain's catalog the code in a file translates with: the plugin
    (or core) whose package folder holds the file, found once per file."""

    def __init__(self, merged: Translations, roots: list[tuple[str, Translations]]):
        self.merged = merged
        # the longest folder first, so a package inside another maps to itself
        self.roots = sorted(roots, key=lambda r: len(r[0]), reverse=True)
        self._by_file: dict[str, _gettext.NullTranslations] = {}

    def of(self, filename: str) -> _gettext.NullTranslations:
        found = self._by_file.get(filename)
        if found is None:
            path = os.path.realpath(filename)
            found = next((t for root, t in self.roots if path.startswith(root)), self.merged)
            self._by_file[filename] = found
        return found


class Catalogs:
    """Compiled-or-source catalogs of every enabled domain, per language."""

    def __init__(self, domains: Iterable[tuple[str, Path]]):
        self.domains = [(CORE_DOMAIN, CORE_LOCALE_DIR), *[(d, Path(p)) for d, p in domains]]
        self._cache: dict[str, _gettext.NullTranslations] = {}

    def get(self, language: str) -> _gettext.NullTranslations:
        """Every domain merged (for text whose domain is unknown, such as a
        stored msgid; core wins a clash), each domain also kept on its own:
        ``gettext`` called from a plugin's code or template uses its own
        domain first (``DomainMap``), falling back to the merged whole."""
        if language not in LANGUAGES:
            language = DEFAULT_LANGUAGE
        if language not in self._cache:
            loaded = [(domain, folder, load_catalog(folder, language, domain)) for domain, folder in self.domains]
            core = loaded[0][2]
            merged = Translations(domain=CORE_DOMAIN)  # empty: the whole is merged into it, each catalog read once
            for _domain, _folder, catalog in loaded[1:]:
                merged.merge(catalog)
            merged.merge(core)  # core's own words over any plugin's
            merged.plural = core.plural  # the language's plural rule, which merge() leaves behind
            roots = []
            for domain, folder, catalog in loaded:
                merged.add(catalog, merge=False)  # dgettext(domain, ...) exact; it falls back to the whole
                roots.append((os.path.realpath(folder.parent) + os.sep, catalog))
            merged.fuwu_domains = DomainMap(merged, roots)
            self._cache[language] = merged
        return self._cache[language]


def load_catalog(folder: Path, language: str, domain: str) -> Translations:
    """Load ``<folder>/<language>/LC_MESSAGES/<domain>.mo``, compiling the
    ``.po`` in memory when no ``.mo`` exists (a source checkout works as is)."""
    base = Path(folder) / language / "LC_MESSAGES"
    mo, po = base / f"{domain}.mo", base / f"{domain}.po"
    if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
        from io import BytesIO

        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po.open("rb") as f:
            catalog = read_po(f, locale=language, domain=domain)
        buf = BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        return Translations(buf, domain=domain)
    if mo.exists():
        with mo.open("rb") as f:
            return Translations(f, domain=domain)
    return Translations(domain=domain)


@contextmanager
def use_reader_language(site, staff) -> Iterator[None]:
    """For text a job writes to ``staff`` (a mail, a digest): their language,
    else the site's (``[site] language``)."""
    language = staff.language if staff.language in LANGUAGES else site.config.language
    with use_language(site.catalogs, language, site.config.timezone):
        yield


@contextmanager
def use_language(catalogs: Catalogs | None, language: str, zone: str | None = None) -> Iterator[None]:
    """Make ``language`` the active one for the duration of the block, and
    ``zone`` (a site's ``[site] timezone``; default: unchanged) the time zone
    that pages, mails and exports show times in."""
    t1 = _active.set(catalogs.get(language) if catalogs else _gettext.NullTranslations())
    t2 = _active_locale.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    t3 = _active_zone.set(ZoneInfo(zone) if zone else _active_zone.get())
    try:
        yield
    finally:
        _active.reset(t1)
        _active_locale.reset(t2)
        _active_zone.reset(t3)


def negotiate(accept_language: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Pick one of LANGUAGES from an Accept-Language header."""
    if not accept_language:
        return default
    ranked = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        ranked.append((-weight, i, tag.strip().replace("-", "_").lower()))
    for _w, _i, tag in sorted(ranked):
        if tag in ("zh_hant", "zh_tw", "zh_hk", "zh_mo") or tag.startswith("zh_hant"):
            return "zh_Hant"
        if tag.startswith("zh"):
            return "zh_Hans"
        if tag.startswith("en"):
            return "en"
    return default
