"""Error pages in the user's language; a 500 shows a request id, never a trace."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from .. import i18n
from ..i18n import lazy_gettext as _l
from ..models import Staff
from .urls import local_path

log = logging.getLogger("fuwu.web")

TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Too large"),
    422: _l("Invalid input"),
    500: _l("Something went wrong"),
}

MESSAGES = {
    403: _l("You do not have permission to open this page."),
    404: _l("The page or record you asked for does not exist, or is not visible to you."),
    405: _l("This page cannot be used that way."),
    413: _l("What you sent is too large."),
    500: _l("The error has been logged. Please try again, and quote the request id if it persists."),
}


def came_from(request: Request) -> str | None:
    """The page of this site the person came from (the form they sent, the
    page with the link), to offer going back to; the referrer policy is
    ``same-origin``, so another site's address never arrives here."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or local_path(referer.path) is None or referer.path == request.url.path:
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


def render_error(request: Request, status: int, message: str | None = None) -> Response:
    site = request.app.state.site
    language = getattr(request.state, "language", None)
    # The failed unit of work is over: take the signed-in person afresh.
    user_id = getattr(request.state, "staff_id", None)
    try:
        with site.db.session(write=False) as db:
            request.state.db = db
            request.state.user = db.get(Staff, user_id) if user_id else None
            if language is None:
                from .endpoint import pick_language

                language = pick_language(request, request.state.user)
            with i18n.use_language(site.catalogs, language, site.config.timezone):
                text = message or str(MESSAGES.get(status, TITLES.get(status, "")))
                context = {"status": status, "title": TITLES.get(status, ""), "message": text,
                           "back": came_from(request)}
                return request.app.state.templates.render(request, "error.html", context, status=status,
                                                          fragment="content")
    except Exception:  # the error page itself must never fail
        log.exception("error page failed")
        return PlainTextResponse(f"{status}", status_code=status)


async def http_exception(request: Request, exc: HTTPException) -> Response:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(render_error, request, exc.status_code, None)


async def server_error(request: Request, exc: Exception) -> Response:
    if request.scope.get("state", {}).get("fuwu_error_answered"):
        return PlainTextResponse("", status_code=500)  # SecurityMiddleware already answered (and logged)
    request_id = request.scope.get("state", {}).get("request_id", "")
    log.error("request %s failed: %s %s", request_id, request.method, request.url.path, exc_info=exc)
    from starlette.concurrency import run_in_threadpool

    try:
        return await run_in_threadpool(render_error, request, 500, None)
    except Exception:
        return PlainTextResponse(f"500 (request id {request_id})", status_code=500)
