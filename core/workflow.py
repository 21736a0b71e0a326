"""Forms and approvals (CORE-5): states, transitions, sequential approval chains.

A plugin declares a ``Workflow`` for each of its forms (through the
``register_workflows`` hook) and gives the form's model ``WorkflowMixin``.
The engine then:

- refuses a transition from the wrong state or by someone without its
  permission, and a rejection without a reason;
- records every transition (who, when, from, to, comment) in
  ``core_workflow_log``;
- keeps one ``core_workflow_task`` row per record that waits on someone, so
  "waiting on me" across all plugins is a single query;
- makes records in read-only states (archived) unchangeable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, Integer, Select, String, Text, delete, inspect, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, utcnow
from .errors import ConfigError, Forbidden, ReadOnlyRecord, ValidationError
from .i18n import N_, stored_message, stored_params, stored_text
from .i18n import lazy_gettext as _l


@dataclass(frozen=True)
class State:
    name: str
    label: Any
    #: archived / closed: the record can no longer be edited (CORE-5).
    read_only: bool = False


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    permission: str
    label: Any
    #: a rejection must say why; the comment becomes the reason.
    needs_reason: bool = False
    #: only the record's owner (``owner_id``) may take it, e.g. "submit".
    owner_only: bool = False


@dataclass
class Workflow:
    """The state machine of one form, e.g. ``travel_expense.application``."""

    key: str
    label: Any
    model: type
    states: Sequence[State]
    transitions: Sequence[Transition]
    initial: str = ""
    #: the path of one record's page, ``{id}`` standing for its id (e.g.
    #: ``"/travel_expense/trip/{id}"``): "waiting on me" and the notification
    #: that a record waits for someone link there. Empty: no page to link.
    url: str = ""
    by_state: dict[str, State] = field(init=False)

    def __post_init__(self) -> None:
        self.by_state = {s.name: s for s in self.states}
        self.initial = self.initial or self.states[0].name
        seen: set[tuple[str, str]] = set()
        for t in self.transitions:
            for source in t.sources:
                if (source, t.name) in seen:
                    raise ConfigError(_l("Workflow %(key)s: transition %(name)s is ambiguous."),
                                      key=self.key, name=t.name)
                seen.add((source, t.name))
            for s in (*t.sources, t.target):
                if s not in self.by_state:
                    raise ConfigError(_l("Workflow %(key)s: transition %(name)s names unknown state %(state)s."),
                                      key=self.key, name=t.name, state=s)

    def record_url(self, record_id: int) -> str:
        """The path of the page of record ``record_id`` (see ``url``), or ""."""
        return self.url.format(id=record_id) if self.url else ""

    def is_read_only(self, state: str | None) -> bool:
        return bool(state and state in self.by_state and self.by_state[state].read_only)

    def from_state(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.sources]

    def find(self, state: str, name: str) -> Transition | None:
        return next((t for t in self.from_state(state) if t.name == name), None)

    @classmethod
    def approval_chain(
        cls, key: str, label: Any, model: type, *,
        submit_permission: str,
        steps: Sequence[tuple[str, Any, str]],
        draft_label: Any = _l("Draft"),
        done: tuple[str, Any] = ("archived", _l("Archived")),
        rejected_to: str = "draft",
        url: str = "",
    ) -> Workflow:
        """A sequential chain: draft -> step 1 -> ... -> step n -> done.

        ``steps`` are ``(state, label, permission)``: the record waits in
        ``state`` for someone with ``permission`` to approve it (to the next
        step) or send it back to ``rejected_to`` with a reason. The final
        state is read-only.
        """
        states = [State("draft", draft_label)]
        states += [State(name, lbl) for name, lbl, _perm in steps]
        states.append(State(done[0], done[1], read_only=True))
        transitions = [Transition("submit", ("draft",), steps[0][0], submit_permission, _l("Submit"), owner_only=True)]
        for i, (name, _lbl, perm) in enumerate(steps):
            target = steps[i + 1][0] if i + 1 < len(steps) else done[0]
            transitions.append(Transition("approve", (name,), target, perm, _l("Approve")))
            transitions.append(Transition("reject", (name,), rejected_to, perm, _l("Send back"), needs_reason=True))
        return cls(key, label, model, states, transitions, url=url)


class WorkflowMixin:
    """Columns a form under a workflow needs. Set ``__workflow__`` to its key."""

    __workflow__: ClassVar[str]
    state: Mapped[str] = mapped_column(String(40), index=True, default="draft")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))

    def workflow_title(self) -> Any:
        """How "waiting on me" and its notification name this record: plain
        text, or better a lazy string with parameters (``_l("%(place)s,
        departing %(day)s", place=..., day=...)``), which each reader then
        sees in their own language, a ``date`` in their date format."""
        return str(self)


class WorkflowLog(Base):
    __tablename__ = "core_workflow_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workflow: Mapped[str] = mapped_column(String(120))
    record_table: Mapped[str] = mapped_column(String(80))
    record_id: Mapped[int] = mapped_column(Integer)
    transition: Mapped[str] = mapped_column(String(60))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    comment: Mapped[str] = mapped_column(Text, default="")


class WorkflowTask(Base):
    """A record waiting for someone holding ``permission`` (or ``assignee``)."""

    __tablename__ = "core_workflow_task"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workflow: Mapped[str] = mapped_column(String(120))
    record_table: Mapped[str] = mapped_column(String(80))
    record_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(40))
    permission: Mapped[str] = mapped_column(String(120), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    #: the record's ``workflow_title()``: a msgid with ``title_params``, or
    #: plain text when ``title_params`` is None
    title: Mapped[str] = mapped_column(String(300))
    title_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    since: Mapped[datetime] = mapped_column(default=utcnow)

    def text(self, gettext) -> str:
        """The record's title in the reader's language."""
        return self.title if self.title_params is None else stored_text(gettext, self.title, self.title_params)


class Workflows:
    """The engine: every workflow of a site."""

    def __init__(self, declared: Iterable[Workflow], events=None):
        self.by_key: dict[str, Workflow] = {}
        for wf in declared:
            if wf.key in self.by_key:
                raise ConfigError(_l("Workflow %(key)s is declared twice."), key=wf.key)
            self.by_key[wf.key] = wf
        self.events = events

    def get(self, key: str) -> Workflow | None:
        return self.by_key.get(key)

    def of(self, record) -> Workflow:
        wf = self.by_key.get(getattr(record, "__workflow__", ""))
        if wf is None:
            raise ConfigError(_l("%(record)s is not under a declared workflow."), record=type(record).__name__)
        return wf

    def start(self, session: Session, record, actor=None) -> None:
        """Put a new record in its initial state and log it."""
        wf = self.of(record)
        record.state = wf.initial
        if actor is not None and getattr(record, "owner_id", None) is None:
            record.owner_id = actor.id
        session.add(record)
        session.flush()
        session.add(WorkflowLog(workflow=wf.key, record_table=record.__tablename__, record_id=record.id,
                                transition="create", from_state=None, to_state=wf.initial,
                                actor_id=getattr(actor, "id", None)))
        self._refresh_tasks(session, wf, record, actor)

    def allowed(self, record, actor) -> list[Transition]:
        """Transitions ``actor`` may take from the record's state now."""
        wf = self.of(record)
        return [t for t in wf.from_state(record.state) if self._may(t, record, actor)]

    @staticmethod
    def _may(t: Transition, record, actor) -> bool:
        if actor is None or not actor.can(t.permission):
            return False
        return not t.owner_only or getattr(record, "owner_id", None) == actor.id

    def transition(self, session: Session, record, name: str, actor, comment: str = "") -> Transition:
        wf = self.of(record)
        t = wf.find(record.state, name)
        if t is None:
            raise ValidationError(message=_l("This action is not possible while the form is “%(state)s”.",
                                             state=wf.by_state[record.state].label))
        if not self._may(t, record, actor):
            raise Forbidden()
        comment = (comment or "").strip()
        if t.needs_reason and not comment:
            raise ValidationError({"comment": _l("Please give a reason.")})
        source = record.state
        record.state = t.target
        session.add(WorkflowLog(workflow=wf.key, record_table=record.__tablename__, record_id=record.id,
                                transition=t.name, from_state=source, to_state=t.target,
                                actor_id=actor.id, comment=comment))
        self._refresh_tasks(session, wf, record, actor)
        if self.events is not None:
            self.events.emit(session, "workflow_transition", record=record, workflow=wf, transition=t,
                             actor=actor, comment=comment)
        return t

    def _refresh_tasks(self, session: Session, wf: Workflow, record, actor=None) -> None:
        session.execute(delete(WorkflowTask).where(WorkflowTask.record_table == record.__tablename__,
                                                   WorkflowTask.record_id == record.id))
        from .notifications import Notification

        seen = set()
        # nobody is told of what they did themselves: the step's actor, else the unit of work's
        notified = {getattr(actor, "id", None) or session.info.get("actor_id")}
        title = record.workflow_title()
        title_text, title_params = stored_message(title)
        for t in wf.from_state(record.state):
            if t.permission in seen or t.needs_reason:
                continue
            seen.add(t.permission)
            assignee = record.owner_id if t.owner_only else getattr(record, "assignee_id", None)
            session.add(WorkflowTask(
                workflow=wf.key, record_table=record.__tablename__, record_id=record.id, state=record.state,
                permission=t.permission, title=title_text[:300], title_params=title_params, assignee_id=assignee))
            # A named person is told; a task for a permission shows on the dashboard of all who hold it.
            if assignee and assignee not in notified and not wf.is_read_only(record.state):
                notified.add(assignee)
                session.add(Notification(staff_id=assignee, source=wf.key.split(".")[0],
                                         message=N_("%(form)s “%(title)s” is waiting for you"),
                                         params=stored_params({"form": wf.label,
                                                              "title": title if title_params is not None
                                                              else title_text[:200]}),
                                         url=wf.record_url(record.id)))

    def history(self, session: Session, record) -> list[WorkflowLog]:
        return list(session.scalars(select(WorkflowLog).where(
            WorkflowLog.record_table == record.__tablename__, WorkflowLog.record_id == record.id,
        ).order_by(WorkflowLog.id)))

    def waiting_query(self, user) -> Select:
        """The tasks waiting on ``user`` across all plugins, as one statement:
        those of the permissions the user holds, not assigned to someone else."""
        query = select(WorkflowTask).where(WorkflowTask.workflow.in_(list(self.by_key)))
        if not user.is_admin:
            query = query.where(WorkflowTask.permission.in_(sorted(user.permission_names) or [""]))
        return query.where(or_(WorkflowTask.assignee_id.is_(None), WorkflowTask.assignee_id == user.id))

    def waiting_on(self, session: Session, user, limit: int = 50) -> list[WorkflowTask]:
        """Everything waiting on ``user``, oldest first: one query."""
        query = self.waiting_query(user).order_by(WorkflowTask.since, WorkflowTask.id).limit(limit)
        return list(session.scalars(query))

    def refuse_archived_changes(self, session: Session) -> None:
        """``before_flush``: records in a read-only state cannot change (CORE-5)."""
        for obj in [*session.dirty, *session.deleted]:
            key = getattr(obj, "__workflow__", None)
            wf = self.by_key.get(key) if key else None
            if wf is None:
                continue
            if obj not in session.deleted and not session.is_modified(obj, include_collections=False):
                continue
            hist = inspect(obj).attrs.state.history
            committed = hist.deleted[0] if hist.deleted else obj.state
            if wf.is_read_only(committed):
                raise ReadOnlyRecord()
