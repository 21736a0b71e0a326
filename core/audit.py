"""Who changed what, when: one row per changed field, same transaction.

Rows are written from the session's ``after_flush`` with one INSERT, so every
path that changes a record (web, CLI, jobs, plugins) is audited without help.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String, Text, event, inspect, insert
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session

from .db import Base, Model, utcnow


class AuditEntry(Base):
    __tablename__ = "core_audit"
    #: one record's history (the audit log filtered by record) without reading the whole log
    __table_args__ = (Index("ix_core_audit_record", "table_name", "row_id"),
                      Index("ix_core_audit_parent", "parent_table", "parent_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    table_name: Mapped[str] = mapped_column(String(80))
    row_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))  # create / update / delete
    field: Mapped[str | None] = mapped_column(String(80))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    #: the record this one belongs to (``Model.__audit_parent__``): a contact's
    #: customer, a grant's role; its history lists this row too
    parent_table: Mapped[str | None] = mapped_column(String(80))
    parent_id: Mapped[int | None] = mapped_column(Integer)


SKIPPED = {"created_at", "updated_at", "version"}


#: a column whose name ends so holds a secret or its digest (a password's hash,
#: an API token's, an authenticator's key): the log records that it changed and
#: who changed it, but copies no value out of its table
SECRET_SUFFIXES = ("_hash", "_secret")


def _kept(field: str, value) -> str | None:
    """A changed value as the log keeps it (none of a secret)."""
    return None if field.endswith(SECRET_SUFFIXES) else _text(value)


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def changes_of(obj) -> dict[str, tuple[object, object]]:
    """Column changes of a pending object: ``{field: (old, new)}``."""
    state = inspect(obj)
    result = {}
    skipped = SKIPPED | getattr(type(obj), "__audit_skip__", frozenset())
    for attr in state.mapper.column_attrs:
        if attr.key in skipped:
            continue
        hist = state.attrs[attr.key].history
        if hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old != new:
                result[attr.key] = (old, new)
    return result


def flush_changes(session: Session) -> dict:
    """``{obj: changes}`` of the dirty objects of the flush in progress,
    computed once and shared by the audit and the domain events."""
    cached = session.info.get(FLUSH_CHANGES)
    if cached is None:
        cached = {obj: changes_of(obj) for obj in session.dirty
                  if session.is_modified(obj, include_collections=False)}
        session.info[FLUSH_CHANGES] = cached
    return cached


FLUSH_CHANGES = "fuwu_flush_changes"


def forget_flush_changes(session: Session, _flush_context) -> None:
    """``after_flush_postexec``: the next flush computes its own."""
    session.info.pop(FLUSH_CHANGES, None)
    session.info.pop(DELETED, None)


#: ``session.info`` key: the records this flush deleted
DELETED = "fuwu_audit_deleted"


def forget_deleted(session: Session, _previous_transaction) -> None:
    """``after_soft_rollback``: a failed flush deleted nothing."""
    session.info.pop(DELETED, None)


@event.listens_for(Model, "after_delete", propagate=True)
def _note_delete(_mapper, _connection, obj) -> None:
    # Every record the flush deletes, including one removed from its parent's
    # list (delete-orphan), which never appears in ``session.deleted``.
    session = object_session(obj)
    if session is not None:
        session.info.setdefault(DELETED, []).append(obj)


#: the columns that name a record, tried in this order
TITLE_COLUMNS = ("name", "number", "title", "code", "serial_number", "filename", "permission")


def _title(obj) -> str | None:
    """What a created or deleted record is called, from what is loaded (no query in a flush)."""
    for key in TITLE_COLUMNS:
        value = obj.__dict__.get(key)
        if value:
            return str(value)
    return None


def _row(obj, actor, action: str, field=None, old=None, new=None) -> dict:
    parent = getattr(obj, "__audit_parent__", None)
    return dict(actor_id=actor, table_name=obj.__tablename__, row_id=obj.id, action=action, field=field,
                old=old, new=new, parent_table=parent[0] if parent else None,
                parent_id=_parent_id(obj, parent[1]) if parent else None)


def _parent_id(obj, key: str):
    value = obj.__dict__.get(key)
    if value is None:
        # removed from its parent's list (delete-orphan): the key was cleared in this flush
        value = next((v for v in inspect(obj).attrs[key].history.deleted if v is not None), None)
    return value


#: {mapper: keys of its many-to-many lists}, found once per model
_LIST_KEYS: dict = {}


def list_keys(mapper) -> tuple[str, ...]:
    """The keys of a model's many-to-many lists (``relationship(secondary=...)``)."""
    keys = _LIST_KEYS.get(mapper)
    if keys is None:
        keys = _LIST_KEYS[mapper] = tuple(r.key for r in mapper.relationships if r.secondary is not None)
    return keys


def ids_text(ids) -> str:
    """A list's members as stored in ``old``/``new``: their ids, sorted, comma-separated."""
    return ",".join(str(i) for i in sorted(ids))


def list_changes(obj, created: bool) -> dict[str, tuple[str | None, str]]:
    """Changes of a record's many-to-many lists (a person's roles, a contract's
    software): ``{key: (old ids, new ids)}``. Their rows live in an association
    table that no model maps, so the column changes never show them."""
    state = inspect(obj)
    result = {}
    for key in list_keys(state.mapper):
        hist = state.attrs[key].history  # nothing is loaded for it: an untouched list has none
        if hist.added or hist.deleted:
            before = {o.id for o in (*hist.unchanged, *hist.deleted)}
            after = {o.id for o in (*hist.unchanged, *hist.added)}
            if before != after:
                result[key] = (None if created else ids_text(before), ids_text(after))
    return result


def record_flush(session: Session, _flush_context) -> None:
    """``after_flush`` listener: write the audit rows of this flush."""
    actor = session.info.get("actor_id")
    changed = flush_changes(session)
    rows = []
    for obj in session.new:
        if getattr(obj, "__audited__", False):
            rows.append(_row(obj, actor, "create", new=_title(obj)))
            for field, (old, new) in list_changes(obj, created=True).items():
                rows.append(_row(obj, actor, "update", field, old, new))
    for obj, changes in changed.items():
        if getattr(obj, "__audited__", False):
            for field, (old, new) in changes.items():
                rows.append(_row(obj, actor, "update", field, _kept(field, old), _kept(field, new)))
    for obj in session.dirty:
        if getattr(obj, "__audited__", False) and list_keys(inspect(obj).mapper):
            for field, (old, new) in list_changes(obj, created=False).items():
                rows.append(_row(obj, actor, "update", field, old, new))
    for obj in session.info.get(DELETED, ()):
        if getattr(obj, "__audited__", False):
            rows.append(_row(obj, actor, "delete", old=_title(obj)))
    if rows:
        now = utcnow()
        for row in rows:
            row["at"] = now
        session.connection().execute(insert(AuditEntry), rows)
