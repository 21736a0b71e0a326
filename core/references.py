"""What still points at a record, so that a record is deleted only when
nothing does.

A department, a position or a role made by mistake may be deleted while
nothing uses it yet. What uses a record is found from the foreign keys of
every table of fuwu and its plugins, so a plugin's table that points at a
department keeps the department from being deleted without the plugin doing
anything. Rows the record owns (a role's permissions: its relationships that
cascade deletes) go with it and do not count.
"""

from __future__ import annotations

import threading
import weakref

from sqlalchemy import Column, String, Table, func, inspect, literal, select, union_all
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .db import Model

_tables: weakref.WeakKeyDictionary[Engine, frozenset[str]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _existing_tables(db: Session) -> frozenset[str]:
    """The tables the database has: a plugin's models may be imported while
    its tables were never made (it was never enabled)."""
    engine = db.get_bind().engine
    with _lock:
        names = _tables.get(engine)
    if names is None:
        names = frozenset(inspect(db.connection()).get_table_names())
        with _lock:
            _tables[engine] = names
    return names


def pointing_at(db: Session, table: Table, *, skip=()) -> list[Column]:
    """The foreign-key columns of the database's tables (fuwu's and its
    plugins') that point at ``table``, except those of the tables in ``skip``."""
    existing = _existing_tables(db)
    return [key.parent for other in Model.metadata.sorted_tables if other not in skip and other.name in existing
            for key in other.foreign_keys if key.references(table)]


def uses(db: Session, record: Model, *, owned_too: bool = False) -> dict[str, int]:
    """``{table name: rows}`` of the rows pointing at ``record``, in one
    query; those it owns (that go when it goes) only with ``owned_too``."""
    owned = set() if owned_too else {relationship.target for relationship in inspect(type(record)).relationships
                                     if "delete" in relationship.cascade}
    counts = [
        select(literal(column.table.name, String).label("name"), func.count().label("rows"))
        .select_from(column.table).where(column == record.id)
        for column in pointing_at(db, record.__table__, skip=owned)
    ]
    if not counts:
        return {}
    return {name: rows for name, rows in db.execute(union_all(*counts)) if rows}


def far_end(table_name: str, near: str) -> str:
    """What a row of ``table_name`` pointing at a ``near`` record is called
    after: the table itself, or for a table that only links two others (a
    person's roles) the table at its other end."""
    table = Model.metadata.tables.get(table_name)
    if table is None or any(mapper.local_table is table for mapper in Model.registry.mappers):
        return table_name
    return next((key.column.table.name for key in table.foreign_keys if key.column.table.name != near), table_name)
