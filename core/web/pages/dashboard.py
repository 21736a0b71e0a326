"""The home page: what waits on me (workflow engine) and plugins' cards."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...i18n import gettext as _
from ...notifications import unread_count
from ...workflow import WorkflowTask
from ..endpoint import AUTHENTICATED, requires
from ..templating import root_path


@dataclass(frozen=True)
class WaitingRow:
    """One record waiting on the reader, as the dashboard lists it."""

    task: WorkflowTask
    form: str  # the form's name, e.g. "Travel application"
    state: str
    title: str  # the record's, in the reader's language
    url: str  # its page, or "" when its workflow names none


@requires(AUTHENTICATED)
def dashboard(request: Request) -> Response:
    site = request.app.state.site
    db = request.state.db
    user = request.state.user
    waiting = [_row(request, site.workflows.get(task.workflow), task)
               for task in site.workflows.waiting_on(db, user, limit=20)]
    widgets = sorted(site.plugins.collect("dashboard_widgets", request=request), key=lambda w: w.order)
    return request.app.state.templates.render(
        request, "core/dashboard.html",
        {"waiting": waiting, "widgets": widgets,
         "unread": unread_count(db, user.id), "title": _("Dashboard")})


def _row(request: Request, wf, task: WorkflowTask) -> WaitingRow:
    if wf is None:  # its plugin has been disabled since
        return WaitingRow(task, task.workflow, task.state, task.text(_), "")
    state = wf.by_state.get(task.state)
    url = wf.record_url(task.record_id)
    return WaitingRow(task, str(wf.label), str(state.label) if state else task.state, task.text(_),
                      root_path(request) + url if url else "")


def routes() -> list:
    return [Route("/", dashboard, name="dashboard")]
