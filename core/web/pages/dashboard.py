"""The home page: what waits on me (workflow engine) and plugins' cards."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...i18n import gettext as _
from ...notifications import unread_count
from ..endpoint import AUTHENTICATED, requires


@requires(AUTHENTICATED)
def dashboard(request: Request) -> Response:
    site = request.app.state.site
    db = request.state.db
    user = request.state.user
    waiting = site.workflows.waiting_on(db, user, limit=20)
    widgets = sorted(site.plugins.collect("dashboard_widgets", request=request), key=lambda w: w.order)
    return request.app.state.templates.render(
        request, "core/dashboard.html",
        {"waiting": waiting, "widgets": widgets, "workflows": site.workflows,
         "unread": unread_count(db, user.id), "title": _("Dashboard")})


def routes() -> list:
    return [Route("/", dashboard, name="dashboard")]
