"""Who changed what, when: one row per changed field, same transaction.

Rows are written from the session's ``after_flush`` with one INSERT, so every
path that changes a record (web, CLI, jobs, plugins) is audited without help.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String, Text, inspect, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, utcnow


class AuditEntry(Base):
    __tablename__ = "core_audit"
    #: one record's history (the audit log filtered by record) without reading the whole log
    __table_args__ = (Index("ix_core_audit_record", "table_name", "row_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    table_name: Mapped[str] = mapped_column(String(80))
    row_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))  # create / update / delete
    field: Mapped[str | None] = mapped_column(String(80))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)


SKIPPED = {"created_at", "updated_at", "version", "password_hash"}


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
    for attr in state.mapper.column_attrs:
        if attr.key in SKIPPED:
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


def record_flush(session: Session, _flush_context) -> None:
    """``after_flush`` listener: write the audit rows of this flush."""
    actor = session.info.get("actor_id")
    changed = flush_changes(session)
    rows = []
    for obj in session.new:
        if getattr(obj, "__audited__", False):
            rows.append(dict(actor_id=actor, table_name=obj.__tablename__, row_id=obj.id,
                             action="create", field=None, old=None, new=None))
    for obj, changes in changed.items():
        if getattr(obj, "__audited__", False):
            for field, (old, new) in changes.items():
                rows.append(dict(actor_id=actor, table_name=obj.__tablename__, row_id=obj.id,
                                 action="update", field=field, old=_text(old), new=_text(new)))
    for obj in session.deleted:
        if getattr(obj, "__audited__", False):
            rows.append(dict(actor_id=actor, table_name=obj.__tablename__, row_id=obj.id,
                             action="delete", field=None, old=None, new=None))
    if rows:
        now = utcnow()
        for row in rows:
            row["at"] = now
        session.connection().execute(insert(AuditEntry), rows)
