"""The home page: what waits on me (workflow engine) and plugins' cards."""

from __future__ import annotations

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...follow_ups import FollowUp, open_for
from ...i18n import gettext as _
from ...models import Customer
from ...notifications import unread_count
from ...saved_views import shared_with, views_of
from ..endpoint import AUTHENTICATED, requires
from .waiting import waiting_row

#: records of "waiting on me" the dashboard shows; the rest are a click away
SHOWN = 10


@requires(AUTHENTICATED)
def dashboard(request: Request) -> Response:
    site = request.app.state.site
    db = request.state.db
    user = request.state.user
    tasks = site.workflows.waiting_on(db, user, limit=SHOWN + 1)
    waiting = [waiting_row(request, task) for task in tasks[:SHOWN]]
    # how many in all, counted only when there are more than the card shows
    waiting_total = len(tasks) if len(tasks) <= SHOWN else db.scalar(
        select(func.count()).select_from(site.workflows.waiting_query(user).subquery()))
    widgets = sorted(site.plugins.collect("dashboard_widgets", request=request), key=lambda w: w.order)
    due = []
    if user.can("core.customer.view"):  # my open follow-ups, the earliest due first
        due = db.execute(open_for(user.id).add_columns(Customer.name).join(Customer, Customer.id == FollowUp.customer_id)
                         .limit(SHOWN + 1)).all()
    return request.app.state.templates.render(
        request, "core/dashboard.html",
        {"waiting": waiting, "waiting_total": waiting_total, "widgets": widgets,
         "unread": unread_count(db, user.id), "views": views_of(db, user.id),
         "shared_views": shared_with(db, user), "title": _("Dashboard"),
         "follow_ups": due[:SHOWN], "more_follow_ups": len(due) > SHOWN, "today": site.day_of()})


def routes() -> list:
    return [Route("/", dashboard, name="dashboard")]
