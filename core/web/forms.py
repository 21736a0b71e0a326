"""Small declarative forms: parse posted text into values, with messages per field.

A form keeps what the user typed (``raw``) so an invalid form re-renders with
their input and the message next to each field. Messages are translatable.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from ..dates import EARLIEST, LATEST, parse_date
from ..db import INTEGER_LIMIT, check_version
from ..errors import StaleEdit
from ..i18n import current_zone
from ..i18n import lazy_gettext as _l
from ..money import AMOUNT_LIMIT
from ..money import parse as parse_money

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: kinds whose text is read in its plain form: full-width digits, letters and
#: punctuation as their ASCII twins (free text and names are kept as typed)
NORMALIZED_KINDS = frozenset({"email", "phone", "date", "datetime", "money", "int", "code"})
PHONE = re.compile(r"^[0-9+\-() 转ext.]{5,40}$")
#: names one ``records`` field takes (each is looked up)
MAX_RECORDS = 50


def _in_calendar(day: date, value):
    if day < EARLIEST:
        raise ValueError(_l("Must be at least %(min)s.", min=EARLIEST.isoformat()))
    if day > LATEST:
        raise ValueError(_l("Must be at most %(max)s.", max=LATEST.isoformat()))
    return value


@dataclass(frozen=True)
class Lookup:
    """How a ``record`` field finds what is typed into it: for records too
    many for a select (every customer), picked by name, with suggestions
    while typing (``fuwu.web.lookups`` has the ones core offers).

    Both lookups take every value of a field at once, so a ``records`` field
    of 50 names costs one query, not 50: ``find(names)`` maps each name that
    is the name of exactly one record the user may pick to its id (names
    missing from the answer match none, or several); ``names_of(ids)`` maps
    the ids of the records the user may see to their names. ``suggest`` is
    the URL that answers ``?for=<field>&<field>=<typed>`` with ``<option>``
    elements for the field's ``<datalist>``."""

    find: Callable[[list[str]], dict[str, Any]]
    names_of: Callable[[list[int]], dict[int, str]]
    suggest: str


@dataclass
class Field:
    name: str
    label: Any
    # text, textarea, email, phone, date, datetime, money, int, choice, bool, password, multi,
    # record (one record picked by name), records (several) and code (a contract, serial or
    # staff number: read in its ASCII form, so "ＦＷ－０１" and "FW-01" are one number)
    kind: str = "text"
    required: bool = False
    max_length: int = 200
    choices: Callable[[], Iterable[tuple[str, Any]]] | Iterable[tuple[str, Any]] | None = None
    help: Any = ""
    minimum: Any = None
    maximum: Any = None
    #: for ``kind="record"`` and ``"records"``
    lookup: Lookup | None = None

    def options(self) -> list[tuple[str, Any]]:
        choices = self.choices() if callable(self.choices) else self.choices
        return [(str(k), v) for k, v in (choices or [])]

    def parse(self, raw: Any) -> Any:
        """Value from posted text; raises ValueError(message) when invalid."""
        if self.kind == "bool":
            return raw in ("on", "true", "1", "yes")
        if self.kind == "records":
            names = [name for name in (str(v).strip() for v in (raw or [])) if name]
            if len(names) > MAX_RECORDS:
                raise ValueError(_l("At most %(n)s names.", n=MAX_RECORDS))
            if any(len(name) > self.max_length for name in names):
                raise ValueError(_l("At most %(n)s characters.", n=self.max_length))
            ids = self._find(names)
            if self.required and not ids:
                raise ValueError(_l("This field is required."))
            return list(dict.fromkeys(ids))  # each once, in the order typed
        if self.kind == "multi":
            values = [str(v) for v in (raw or [])]
            allowed = {k for k, _ in self.options()}
            if any(v not in allowed for v in values):
                raise ValueError(_l("Choose from the list."))
            if self.required and not values:
                raise ValueError(_l("This field is required."))
            return values
        text = (raw or "").strip()
        if self.kind in NORMALIZED_KINDS:
            # a Chinese keyboard in full-width mode types "０５７１－８８８８" and "１２００．００"
            text = unicodedata.normalize("NFKC", text).strip()
        if not text:
            if self.required:
                raise ValueError(_l("This field is required."))
            return None if self.kind in ("date", "money", "int", "choice", "record") else ""
        if len(text) > self.max_length and self.kind not in ("textarea",):
            raise ValueError(_l("At most %(n)s characters.", n=self.max_length))
        if self.kind == "textarea" and len(text) > 10000:
            raise ValueError(_l("At most %(n)s characters.", n=10000))
        if self.kind == "email" and not EMAIL.match(text):
            raise ValueError(_l("Enter an e-mail address such as name@example.com."))
        if self.kind == "phone" and not PHONE.match(text):
            raise ValueError(_l("Enter a phone number (digits, spaces, + - and brackets)."))
        if self.kind == "date":
            try:
                value = date.fromisoformat(text)
            except ValueError:
                raise ValueError(_l("Enter a date as YYYY-MM-DD.")) from None
            return self._bounded(_in_calendar(value, value))
        if self.kind == "datetime":
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(_l("Enter a date and time.")) from None
            return _in_calendar(value.date(), value)
        if self.kind == "money":
            try:
                value = parse_money(text)
            except ValueError:
                raise ValueError(_l("Enter an amount in yuan, such as 1200.00.")) from None
            if value < 0:
                raise ValueError(_l("The amount cannot be negative."))
            if value >= AMOUNT_LIMIT:
                raise ValueError(_l("The amount is too large."))
            return self._bounded(value)
        if self.kind == "int":
            try:
                value = int(text)
            except ValueError:
                raise ValueError(_l("Enter a whole number.")) from None
            if not -INTEGER_LIMIT < value < INTEGER_LIMIT:  # what the database holds, whatever the field's own bounds
                raise ValueError(_l("The number is too large."))
            return self._bounded(value)
        if self.kind == "choice":
            if text not in {k for k, _ in self.options()}:
                raise ValueError(_l("Choose from the list."))
        if self.kind == "record":
            return self._find([text])[0]
        return text

    def _find(self, names: list[str]) -> list[str]:
        """The ids (as text) of the records called ``names``, in their order
        (``record`` and ``records``); the first name that matches no record
        the user may pick is refused."""
        found = self.lookup.find(names) if names else {}
        for name in names:
            if name not in found:
                raise ValueError(_l("No match for “%(text)s”: type the whole name, or pick one of the suggestions.",
                                    text=name))
        return [str(found[name]) for name in names]

    def _bounded(self, value):
        if self.minimum is not None and value < self.minimum:
            raise ValueError(_l("Must be at least %(min)s.", min=self.minimum))
        if self.maximum is not None and value > self.maximum:
            raise ValueError(_l("Must be at most %(max)s.", max=self.maximum))
        return value


@dataclass
class Form:
    fields: list[Field]
    raw: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, Any] = field(default_factory=dict)

    def load(self, posted) -> bool:
        """Parse a posted MultiDict; True when every field is valid."""
        self.raw, self.values, self.errors = {}, {}, {}
        for f in self.fields:
            raw = posted.getlist(f.name) if f.kind in ("multi", "records") else posted.get(f.name)
            self.raw[f.name] = raw
            try:
                self.values[f.name] = f.parse(raw)
            except ValueError as exc:
                self.errors[f.name] = exc.args[0]
        return not self.errors

    def fill(self, obj=None, **values) -> Form:
        """Show a record's current values (for an edit page)."""
        for f in self.fields:
            value = values[f.name] if f.name in values else getattr(obj, f.name, None)
            self.raw[f.name] = format_value(value, f)
        return self

    def error(self, name: str, message) -> None:
        self.errors[name] = message

    def outdated(self, record, posted) -> bool:
        """Whether ``posted`` was filled in from an older version of ``record``
        (someone saved in between: answer 409). The form then carries the
        saved version, so saving it again overwrites on purpose."""
        try:
            check_version(record, posted.get("version"))
        except StaleEdit:
            self.raw["version"] = record.version
            return True
        return False

    def apply(self, obj, names: Iterable[str] | None = None) -> None:
        for name in names or [f.name for f in self.fields]:
            setattr(obj, name, self.values[name])


def taken(db, model, *conditions, other_than: int | None = None) -> bool:
    """Whether a row of ``model`` other than the one with id ``other_than``
    meets ``conditions``: a name or number a form may not give twice."""
    query = select(model.id).where(*conditions)
    if other_than is not None:
        query = query.where(model.id != other_than)
    return db.scalar(query.limit(1)) is not None


def record_id(value) -> int | None:
    """A record's id as typed into a URL or a form: a positive number that
    fits the database's INTEGER, else None (so "abc", "-1" or a number too
    large for PostgreSQL finds nothing instead of failing)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < INTEGER_LIMIT else None


def _search_folds() -> dict[int, str]:
    folds = {0x3000: " "}  # the ideographic space
    for code in range(0xFF01, 0xFF5F):  # the full-width twins of ASCII
        plain = unicodedata.normalize("NFKC", chr(code))
        if plain.isalnum() or plain in "-@._+#/&*":
            folds[code] = plain
    return folds


_SEARCH_FOLDS = _search_folds()


def search_text(params, name: str = "q", *, limit: int = 200) -> str:
    """What was typed into a list's search box, as the list searches for it.

    Numbers, codes, phones and e-mail addresses are stored in their ASCII form
    (``NORMALIZED_KINDS``), so the full-width letters, digits and their marks
    that a Chinese keyboard types ("０２１－６４８８") are read as ASCII; Chinese
    punctuation ("（集团）") is kept, as names are stored the way they were typed."""
    return (params.get(name) or "").translate(_SEARCH_FOLDS).strip()[:limit]


def within_days(query, column, params):
    """``query`` narrowed to the days between the ``since`` and ``until``
    parameters (both included, either may be missing or not a date), days as
    the site's time zone counts them, for a log's moments in ``column``."""
    since, until = parse_date(params.get("since")), parse_date(params.get("until"))
    if since:
        query = query.where(column >= datetime.combine(since, time(), tzinfo=current_zone()))
    if until:
        query = query.where(column < datetime.combine(until + timedelta(days=1), time(), tzinfo=current_zone()))
    return query


def format_value(value: Any, f: Field) -> Any:
    if value is None:
        return [] if f.kind in ("multi", "records") else ""
    if f.kind == "money":
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    if f.kind == "multi":
        return [str(v) for v in value]
    if f.kind in ("record", "records"):  # saved ids, shown as the names they are picked by
        ids = [number for number in map(record_id, value if f.kind == "records" else [value]) if number]
        names = f.lookup.names_of(ids) if ids else {}
        shown = [names[number] for number in ids if number in names]
        return shown if f.kind == "records" else next(iter(shown), "")
    return value
