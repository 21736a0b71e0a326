"""Keyset pagination: page 1000 costs what page 1 costs.

The cursor is the last row's (sort value, id), opaque to the user
(URL-safe base64 of JSON). Rows are fetched one extra to know if there is a
next page; the previous page is fetched in reverse and flipped.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from ..db import run_core


@dataclass
class Page:
    rows: list
    has_next: bool
    has_previous: bool
    total: int | None = None
    #: (sort value, id) of a row, for the cursors
    key: Callable[[Any], tuple[Any, int]] | None = None

    @property
    def first_key(self) -> str | None:
        """The cursor of the page before this one (made only when a link needs it)."""
        return encode(*self.key(self.rows[0])) if self.rows else None

    @property
    def last_key(self) -> str | None:
        """The cursor of the page after this one."""
        return encode(*self.key(self.rows[-1])) if self.rows else None


def encode(value: Any, row_id: int) -> str:
    if isinstance(value, datetime | date):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    raw = json.dumps([value, row_id], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None, python_type: type) -> tuple[Any, int] | None:
    if not cursor:
        return None
    try:
        value, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if value is not None:
            if python_type is datetime:
                value = datetime.fromisoformat(value)
            elif python_type is date:
                value = date.fromisoformat(value)
            elif python_type is Decimal:
                value = Decimal(value)
            elif python_type is int:
                value = int(value)
            else:
                value = str(value)
        return value, int(row_id)
    except (ValueError, TypeError):
        return None  # a mangled cursor just shows the first page


def keyset_page(db: Session, query: Select, *, sort_col, id_col, descending: bool = False,
                after: str | None = None, before: str | None = None, size: int = 50,
                count: bool = True, params: dict[str, Any] | None = None) -> Page:
    """One page of ``query`` (entities or rows) ordered by (sort_col, id).

    A list that builds ``query`` once per shape (its values as
    ``bindparam``s, given in ``params``) gets its count and page statements
    built once too: building a statement costs more than SQLite running it.
    Without ``params`` they are built for this call only.
    """
    try:
        python_type = sort_col.type.python_type
    except NotImplementedError:
        python_type = str
    cursor = decode(before, python_type) if before else decode(after, python_type)
    backwards = bool(before) and cursor is not None
    forward_desc = descending != backwards
    build = _prepared_statements if params is not None else _statements
    count_query, page_query, plain_rows = build(query, sort_col, id_col, forward_desc, cursor is not None)
    values = dict(params or {}, keyset_limit=size + 1)
    if cursor is not None:
        values["keyset_value"], values["keyset_id"] = cursor
    if plain_rows:
        # No objects to load: the session's connection runs it for a third less
        def run(statement, values):
            return run_core(db, statement, values)
    else:
        run = db.execute
    count_total = run(count_query, values).scalar_one() if count else None
    result = run(page_query, values)
    rows = list(result.scalars() if len(result.keys()) == 1 else result.all())
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
        has_next, has_previous = True, more
    else:
        has_next, has_previous = more, cursor is not None
    return Page(rows, has_next, has_previous, count_total, _key_getter(sort_col, id_col))


def _statements(query: Select, sort_col, id_col, forward_desc: bool,
                after_cursor: bool) -> tuple[Select, Select, bool]:
    """The count and the page of ``query`` (the cursor and the page size bound
    at run time), and whether its rows are plain values rather than objects."""
    plain_rows = not any(isinstance(c["type"], type) for c in query.column_descriptions)
    count_query = select(func.count()).select_from(query.order_by(None).subquery())
    if after_cursor:
        value, row_id = bindparam("keyset_value", type_=sort_col.type), bindparam("keyset_id", type_=id_col.type)
        # "sort >= v AND (sort > v OR id > i)" rather than "sort > v OR (sort = v AND ...)":
        # the leading range lets the database seek the sort index instead of scanning.
        if forward_desc:
            query = query.where(and_(sort_col <= value, or_(sort_col < value, id_col < row_id)))
        else:
            query = query.where(and_(sort_col >= value, or_(sort_col > value, id_col > row_id)))
    order = (sort_col.desc(), id_col.desc()) if forward_desc else (sort_col.asc(), id_col.asc())
    return count_query, query.order_by(*order).limit(bindparam("keyset_limit")), plain_rows


#: for queries built once, keyed by the query object itself (identity); the
#: customer list alone has up to 72 shapes, each paged two ways, with and without a cursor
_prepared_statements = functools.lru_cache(maxsize=512)(_statements)


def _key_getter(sort_col, id_col):
    sort_name, id_name = sort_col.key, id_col.key

    def key(row):
        return getattr(row, sort_name), getattr(row, id_name)

    return key
