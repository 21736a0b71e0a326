"""The audit log: who created, changed or deleted which record, and when.

Every save writes its audit rows (``fuwu.audit``); this page is where the
holders of ``core.audit.view`` read them, newest first, filtered by record
type, record, person, action and days, and export them. A record's page
links here with its own history selected.

The log covers every department's records: granting ``core.audit.view``
grants reading it whole, as its label says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, Date, and_, or_, select
from sqlalchemy.orm import RelationshipProperty
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...audit import SECRET_SUFFIXES, TITLE_COLUMNS, AuditEntry, list_keys
from ...dates import parse_date, parse_datetime
from ...i18n import format_day, format_moment, listed
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...db import AwareDateTime, Model
from ...models import Staff
from ..endpoint import requires
from ..export import MAX_ROWS, export_response
from ..forms import record_id, within_days
from ..pagination import keyset_page
from ..templating import root_path, translate

ACTIONS = {"create": _l("Record created"), "update": _l("Field changed"), "delete": _l("Record deleted")}


@dataclass(frozen=True)
class RecordType:
    label: str
    #: the path of a record's page with ``{id}`` for its id, or ""
    url: str = ""


def record_types(request: Request) -> dict[str, RecordType]:
    """Tables whose records have a name for people: the models that declare
    one (``Model.__record_label__``), then each workflow's form. Others show
    their table's name."""
    root = root_path(request)
    types = {}
    for mapper in Model.registry.mappers:
        model = mapper.class_
        if getattr(model, "__record_label__", None) is not None and hasattr(model, "__tablename__"):
            url = getattr(model, "__record_url__", "")  # a table of Base (not Model) may name itself only
            types[model.__tablename__] = RecordType(str(model.__record_label__), root + url if url else "")
    for wf in request.app.state.site.workflows.by_key.values():
        url = wf.url
        types.setdefault(wf.model.__tablename__, RecordType(str(wf.label), root + url if url else ""))
    return types


#: a row of the log: plain values, not entries (nothing to load per row)
LOG_COLUMNS = (AuditEntry.id, AuditEntry.at, AuditEntry.table_name, AuditEntry.row_id, AuditEntry.action,
               AuditEntry.field, AuditEntry.old, AuditEntry.new, Staff.name.label("actor_name"))


@dataclass(frozen=True)
class LogRow:
    #: a row of ``LOG_COLUMNS``
    entry: Any
    actor: str
    action: str
    #: its type's name for people, else its table's name (``named`` False)
    record_type: str
    named: bool
    #: the record's page, or ""
    url: str
    #: the column's label (``info["label"]``), else None: the page shows its name
    field: str | None
    old: str | None
    new: str | None


def _column(table_name: str, field: str | None):
    table = Model.metadata.tables.get(table_name)
    return table.c.get(field) if table is not None and field else None


def many_to_many_lists() -> dict[tuple[str, str], Any]:
    """{(table, key): relationship} of the lists the audit writes as ids
    (``fuwu.audit.list_changes``: a person's roles, a contract's software)."""
    return {(mapper.local_table.name, key): mapper.relationships[key] for mapper in Model.registry.mappers
            for key in list_keys(mapper)}


def _field(table_name: str, field: str | None, lists: dict):
    """The column a row changed, or the many-to-many list, or None."""
    column = _column(table_name, field)
    return column if column is not None else lists.get((table_name, field))


def _naming(table):
    """(table, the column naming its rows), or None."""
    return next(((table, table.c[name]) for name in TITLE_COLUMNS if name in table.c), None)


def _target(field):
    """The table a foreign-key column or a list points at and the column naming its rows, or None."""
    if isinstance(field, RelationshipProperty):
        return _naming(field.mapper.local_table)
    for key in field.foreign_keys:
        found = _naming(key.column.table)
        if found is not None:
            return found
    return None


def _ids(field, value: str | None) -> list[str]:
    if value is None:
        return []
    return value.split(",") if isinstance(field, RelationshipProperty) and value else [value]


def referenced_names(db, entries, lists: dict) -> dict[tuple[str, str], str]:
    """{(table, id as stored): the record's name} for the foreign keys and
    lists the rows changed: one query per table they point at, not one per row."""
    wanted: dict[Any, tuple[Any, set[int]]] = {}
    for entry in entries:
        field = _field(entry.table_name, entry.field, lists)
        target = _target(field) if field is not None else None
        if target is None:
            continue
        ids = wanted.setdefault(target[0].name, (target, set()))[1]
        ids.update(int(v) for value in (entry.old, entry.new) for v in _ids(field, value) if v.isdigit())
    translated = {mapper.local_table.name for mapper in Model.registry.mappers
                  if getattr(mapper.class_, "__name_is_msgid__", False)}
    names = {}
    for table_name, ((table, name), ids) in wanted.items():
        if ids:
            for row_id, text in db.execute(select(table.c.id, name).where(table.c.id.in_(sorted(ids)))):
                names[(table_name, str(row_id))] = translate(text) if table_name in translated else str(text)
    return names


def _shown(field, target, key: str | None, value: str | None, names: dict) -> str | None:
    """A stored value as people read it: a choice's label, a record's name
    (a list's names; ``target`` is ``_target(field)``), yes or no, a day in the reader's format."""
    if key and key.endswith(SECRET_SUFFIXES):
        # a secret or its digest (a password's, an API token's) is no one's business, even here:
        # the log keeps none now (``audit._kept``), rows written before may hold one
        return _("(hidden)")
    if value is None:
        return None
    if field is None:
        return value
    if isinstance(field, RelationshipProperty):
        return listed(sorted(names.get((target[0].name, i), f"#{i}") if target else f"#{i}"
                             for i in _ids(field, value)))
    choices = field.info.get("choices")
    if choices and value in choices:
        return str(choices[value])
    if target is not None:
        return names.get((target[0].name, value), f"#{value}")
    if isinstance(field.type, Boolean):
        return _("Yes") if value == "True" else _("No")
    if isinstance(field.type, AwareDateTime):
        moment = parse_datetime(value)
        return format_moment(moment) if moment and moment.tzinfo else value
    if isinstance(field.type, Date):
        day = parse_date(value)
        return format_day(day) if day else value
    return value


def log_row(entry, types: dict[str, RecordType], names: dict, lists: dict) -> LogRow:
    kind = types.get(entry.table_name)
    url = kind.url.format(id=entry.row_id) if kind and kind.url and entry.action != "delete" else ""
    field = _field(entry.table_name, entry.field, lists)
    label = field.info.get("label") if field is not None else None
    target = _target(field) if field is not None else None
    return LogRow(entry, entry.actor_name or _("System"), str(ACTIONS.get(entry.action, entry.action)),
                  kind.label if kind else entry.table_name, kind is not None, url,
                  str(label) if label is not None else None,
                  _shown(field, target, entry.field, entry.old, names),
                  _shown(field, target, entry.field, entry.new, names))


@requires("core.audit.view")
def audit_log(request: Request) -> Response:
    db = request.state.db
    site = request.app.state.site
    params = request.query_params
    types = record_types(request)
    query = select(*LOG_COLUMNS).outerjoin(Staff, Staff.id == AuditEntry.actor_id)
    table = (params.get("table") or "").strip()[:80]
    row = record_id(params.get("row"))
    if table and row:
        # one record's history: its own rows and those of the records that belong to it (its contacts, …)
        query = query.where(or_(and_(AuditEntry.table_name == table, AuditEntry.row_id == row),
                                and_(AuditEntry.parent_table == table, AuditEntry.parent_id == row)))
    elif table:
        query = query.where(AuditEntry.table_name == table)
    elif row:
        query = query.where(AuditEntry.row_id == row)
    actor = record_id(params.get("actor"))
    if actor:
        query = query.where(AuditEntry.actor_id == actor)
    if params.get("action") in ACTIONS:
        query = query.where(AuditEntry.action == params["action"])
    query = within_days(query, AuditEntry.at, params)
    if params.get("format") in ("csv", "xlsx"):
        found = db.execute(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(MAX_ROWS)).all()
        lists = many_to_many_lists()
        names = referenced_names(db, found, lists)
        rows = (log_row(entry, types, names, lists) for entry in found)
        return export_response(params["format"], _("Audit log"),
                               [_("Time"), _("By"), _("Action"), _("Record type"), _("Record no."), _("Field"),
                                _("Old value"), _("New value")],
                               ([r.entry.at, r.actor, r.action, r.record_type, r.entry.row_id,
                                 r.field or r.entry.field or "",
                                 r.old or "", r.new or ""] for r in rows))
    # no total: the log only grows, and counting it whole on every page would cost more than the page
    page = keyset_page(db, query, sort_col=AuditEntry.at, id_col=AuditEntry.id, descending=True,
                       after=params.get("after"), before=params.get("before"),
                       size=site.settings.get("core.page_size", db), count=False)
    lists = many_to_many_lists()
    names = referenced_names(db, page.rows, lists)
    people = db.execute(select(Staff.id, Staff.name).order_by(Staff.name)).all()
    choices = sorted(((key, t.label) for key, t in types.items()), key=lambda pair: pair[1])
    if table and table not in types:
        choices.append((table, table))  # a table with no name for people, chosen from a row
    return request.app.state.templates.render(
        request, "core/audit/list.html",
        {"page": page, "rows": [log_row(entry, types, names, lists) for entry in page.rows],
         "record_types": choices, "people": [(str(i), name) for i, name in people], "actions": ACTIONS,
         "row": row or "", "title": _("Audit log")},
        fragment="results")


def routes() -> list:
    return [Route("/audit", audit_log, name="audit_log")]
