"""The user's notifications: newest first, unread marked, opened through a
link that marks them read. Only the owner's rows are ever read or changed
(another user's id is "not found")."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ...db import utcnow
from ...errors import NotFound
from ...i18n import gettext as _
from ...notifications import Notification, mark_read, unread_count
from ..endpoint import AUTHENTICATED, requires
from ..pagination import keyset_page
from ..shell import flash_redirect
from .auth import safe_next


@requires(AUTHENTICATED)
def notification_list(request: Request) -> Response:
    db = request.state.db
    user = request.state.user
    params = request.query_params
    query = select(Notification).where(Notification.staff_id == user.id)
    unread_only = params.get("unread") == "1"
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    page = keyset_page(db, query, sort_col=Notification.id, id_col=Notification.id, descending=True,
                       after=params.get("after"), before=params.get("before"),
                       size=request.app.state.site.settings.get("core.page_size", db))
    return request.app.state.templates.render(
        request, "core/notifications/list.html",
        {"page": page, "unread_only": unread_only, "unread": unread_count(db, user.id),
         "gettext_plain": _, "title": _("Notifications")},
        fragment="results")


@requires(AUTHENTICATED)
def notification_badge(request: Request) -> Response:
    """The count on the bell in every page's frame. The frame fetches it
    (htmx: when the page loads, then every minute) instead of each page
    counting: a page left open all morning shows what arrived since, and a
    page costs one query less."""
    html = request.app.state.templates.render_string(
        "core/notifications/badge.html", {"count": unread_count(request.state.db, request.state.user.id)})
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@requires(AUTHENTICATED)
def notifications_read(request: Request) -> Response:
    count = mark_read(request.state.db, request.state.user.id)
    return flash_redirect(request, request.url_for("notifications").path,
                          _("%(n)s notifications marked read.", n=count))


@requires(AUTHENTICATED, write=True)
def notification_open(request: Request) -> Response:
    """Mark one read and go where it points (same-site paths only)."""
    db = request.state.db
    note = db.scalar(select(Notification).where(Notification.id == request.path_params["notification_id"],
                                                Notification.staff_id == request.state.user.id))
    if note is None:
        raise NotFound()
    if note.read_at is None:
        note.read_at = utcnow()
    target = safe_next(note.url) if note.url else request.url_for("notifications").path
    return RedirectResponse(target, status_code=303)


def routes() -> list:
    return [
        Route("/notifications", notification_list, name="notifications"),
        Route("/notifications/badge", notification_badge, name="notification_badge"),
        Route("/notifications/read", notifications_read, methods=["POST"], name="notifications_read"),
        Route("/notifications/{notification_id:int}/open", notification_open, name="notification_open"),
    ]
