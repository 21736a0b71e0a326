"""Domain events: hook calls inside the unit of work.

Two kinds:
- explicit: ``site.events.emit(session, "service_period_renewed", ...)`` calls
  the listeners at once;
- from the ORM: a model that sets ``__created_event__`` / ``__changed_event__``
  (Customer, Contract, Staff) has its event emitted for every insert or
  update, whichever code path made it. These are queued while flushing and
  delivered just before commit, where listeners may query, add and flush
  freely; their own changes can queue further events (bounded).

A listener that raises aborts the commit: nothing of the unit of work stays.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from . import audit

_QUEUE = "fuwu_events"
MAX_ROUNDS = 20


class Events:
    def __init__(self, plugins):
        self.plugins = plugins

    def emit(self, session: Session, name: str, **kwargs) -> list:
        """Call every listener of ``name`` now; returns their answers."""
        hook = getattr(self.plugins.pm.hook, name)
        return hook(session=session, **kwargs)

    def install(self, sessions: sessionmaker, read_only_check) -> None:
        """Attach audit, read-only check and ORM events to a session factory."""
        event.listen(sessions, "before_flush", lambda s, ctx, inst: read_only_check(s))
        event.listen(sessions, "after_flush", audit.record_flush)
        event.listen(sessions, "after_flush", self._queue_orm_events)
        event.listen(sessions, "after_flush_postexec", audit.forget_flush_changes)
        event.listen(sessions, "after_soft_rollback", audit.forget_deleted)
        event.listen(sessions, "before_commit", self._deliver)

    @staticmethod
    def _queue_orm_events(session: Session, _ctx) -> None:
        queue = session.info.setdefault(_QUEUE, [])
        for obj in session.new:
            name = getattr(obj, "__created_event__", None)
            if name:
                queue.append((name, obj, None))
        for obj, changes in audit.flush_changes(session).items():
            name = getattr(obj, "__changed_event__", None)
            if name and changes:
                queue.append((name, obj, changes))

    def _deliver(self, session: Session) -> None:
        for _round in range(MAX_ROUNDS):
            session.flush()
            queue = session.info.pop(_QUEUE, [])
            if not queue:
                return
            for name, obj, changes in queue:
                kwargs = {obj.__event_arg__: obj}
                if changes is not None:
                    kwargs["changes"] = changes
                self.emit(session, name, **kwargs)
        raise RuntimeError("domain events keep causing further events; stopped after %d rounds" % MAX_ROUNDS)
