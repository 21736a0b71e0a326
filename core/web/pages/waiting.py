"""What waits on me: every record under a workflow that the signed-in
person may move on (CORE-5), oldest first, each linked to its page. The
dashboard shows the first of them; this page lists them all, by form."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...i18n import gettext as _
from ...workflow import Workflow, WorkflowTask
from ..endpoint import AUTHENTICATED, requires
from ..export import MAX_ROWS, export_response
from ..pagination import keyset_page
from ..templating import root_path


@dataclass(frozen=True)
class WaitingRow:
    """One record waiting on the reader, as the pages list it."""

    task: WorkflowTask
    form: str  # the form's name, e.g. "Travel application"
    state: str
    title: str  # the record's, in the reader's language
    url: str  # its page, or "" when its workflow names none


def waiting_row(request: Request, task: WorkflowTask) -> WaitingRow:
    wf: Workflow | None = request.app.state.site.workflows.get(task.workflow)
    if wf is None:  # its plugin has been disabled since
        return WaitingRow(task, task.workflow, task.state, task.text(_), "")
    state = wf.by_state.get(task.state)
    url = wf.record_url(task.record_id)
    return WaitingRow(task, str(wf.label), str(state.label) if state else task.state, task.text(_),
                      root_path(request) + url if url else "")


@requires(AUTHENTICATED)
def waiting_list(request: Request) -> Response:
    db = request.state.db
    site = request.app.state.site
    params = request.query_params
    forms = {key: str(wf.label) for key, wf in sorted(site.workflows.by_key.items(), key=lambda kv: str(kv[1].label))}
    query = site.workflows.waiting_query(request.state.user)
    form = params.get("form")
    if form in forms:
        query = query.where(WorkflowTask.workflow == form)
    if params.get("format") in ("csv", "xlsx"):
        tasks = db.scalars(query.order_by(WorkflowTask.since, WorkflowTask.id).limit(MAX_ROWS))
        rows = (waiting_row(request, t) for t in tasks)
        return export_response(params["format"], _("Waiting on me"),
                               [_("Since"), _("Form"), _("Record"), _("State")],
                               ([r.task.since, r.form, r.title, r.state] for r in rows))
    page = keyset_page(db, query, sort_col=WorkflowTask.since, id_col=WorkflowTask.id,
                       after=params.get("after"), before=params.get("before"),
                       size=site.settings.get("core.page_size", db))
    return request.app.state.templates.render(
        request, "core/waiting/list.html",
        {"page": page, "rows": [waiting_row(request, t) for t in page.rows], "forms": forms,
         "title": _("Waiting on me")},
        fragment="results")


def routes() -> list:
    return [Route("/waiting", waiting_list, name="waiting")]
