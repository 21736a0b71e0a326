"""How every page runs: permission, sign-in, CSRF, language, one transaction.

A page is a plain (synchronous) function ``handler(request) -> Response``
decorated with the permission it needs::

    @requires("core.customer.view")
    def customer_list(request): ...

The decorator makes an async Starlette endpoint that reads the form (with size
limits), then in a worker thread opens the unit of work, loads the signed-in
user from the session cookie, checks CSRF on unsafe methods, sets the
language, checks the permission, calls the handler and commits. Domain errors
become error pages in the user's language; PostgreSQL serialization failures
are retried (bounded).

``request.state`` then holds ``db`` (the ORM session), ``user`` (``Staff`` or
None), ``staff_id``, ``web_session`` (a ``SignIn``), ``form`` (a MultiDict,
for unsafe methods), ``site``. ``db`` and ``user`` are made on first use.
"""

from __future__ import annotations

import functools
import hmac
import logging
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .. import i18n
from ..db import INTEGER_LIMIT, _is_retryable, utcnow
from ..errors import Forbidden, FuwuError, NotFound
from . import sessions
from .csrf import FORM_FIELD, HEADER, login_csrf_ok
from .routing import RouteTable, find_route
from .signin_cache import SignIn

log = logging.getLogger("fuwu.web")

AUTHENTICATED = "@authenticated"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class CsrfError(FuwuError):
    status = 403
    default_message = i18n.lazy_gettext(
        "Your form has expired or did not come from this site. Reload the page and try again.")


class TooLarge(FuwuError):
    status = 413
    default_message = i18n.lazy_gettext("What you sent is too large.")


def requires(permission: str, *, write: bool | None = None) -> Callable:
    """Protect a page with ``permission`` (``<plugin>.<object>.<action>``).

    Use ``AUTHENTICATED`` for pages every signed-in user may open.
    ``write`` forces a write transaction (default: for unsafe methods).
    """

    def decorate(handler: Callable) -> Callable:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            return await run(request, handler, permission=permission, write=write)

        endpoint.__fuwu_permission__ = permission
        return endpoint

    return decorate


def may_open(request: Request, name: str) -> bool:
    """Whether the signed-in user holds the permission the page named
    ``name`` declares, so a page can leave out a link that would only answer
    403 (record rules still apply once it is opened). False for no such page."""
    routes = request.app.router.routes
    found = routes[0].route(name) if isinstance(routes[0], RouteTable) else find_route(routes, name)
    if found is None:
        return False
    permission = getattr(found[0].endpoint, "__fuwu_permission__", None)
    if permission is None or permission == AUTHENTICATED:
        return True
    user = request.state.user
    return user is not None and user.can(permission)


def public(reason: str, *, csrf: bool = True) -> Callable:
    """A page anyone may open: sign-in, and signed one-time links (the link
    itself is the authorisation). ``reason`` says why, for the route audit."""

    def decorate(handler: Callable) -> Callable:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            return await run(request, handler, permission=None, write=None, csrf=csrf)

        endpoint.__fuwu_public__ = reason
        return endpoint

    return decorate


async def read_form(request: Request) -> FormData:
    config = request.app.state.site.config
    length = request.headers.get("content-length")
    content_type = request.headers.get("content-type", "")
    limit = config.max_upload_bytes if content_type.startswith("multipart/") else config.max_form_bytes
    if length and length.isdigit() and int(length) > limit:
        raise TooLarge()
    try:
        return await request.form(max_files=20, max_fields=2000, max_part_size=limit)
    except HTTPException as exc:
        if exc.status_code == 413:
            raise TooLarge() from None
        raise FuwuError(i18n.lazy_gettext("The form could not be read.")) from None


class RequestState(dict):
    """What ``request.state`` stores. ``db`` and ``user`` are made on first
    use (as Django makes ``request.user``), so a page that needs neither opens
    no transaction: most requests find their sign-in in the process cache."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.loaders: dict[str, Callable[[], object]] = {}

    def __missing__(self, key: str):
        loader = self.loaders.pop(key, None)
        if loader is None:
            raise KeyError(key)
        value = self[key] = loader()
        return value


async def run(request: Request, handler: Callable, *, permission: str | None, write: bool | None,
              csrf: bool = True) -> Response:
    # Before anything reads ``request.state`` (which wraps this dict).
    request.scope["state"] = RequestState(request.scope.get("state") or {})
    unsafe = request.method not in SAFE_METHODS
    try:
        request.state.form = await read_form(request) if unsafe else FormData()
    except FuwuError as exc:
        return await run_in_threadpool(error_response, request, exc)
    return await run_in_threadpool(_run_sync, request, handler, permission,
                                   unsafe if write is None else write, unsafe and csrf)


def _run_sync(request: Request, handler: Callable, permission: str | None, write: bool,
              check_csrf: bool) -> Response:
    site = request.app.state.site
    for attempt in range(site.db.retries + 1):
        try:
            return _attempt(request, handler, permission, write, check_csrf)
        except DBAPIError as exc:
            if attempt >= site.db.retries or not _is_retryable(exc):
                raise
            time.sleep(0.01 * 2**attempt)
    raise AssertionError("unreachable")


def _attempt(request: Request, handler: Callable, permission: str | None, write: bool,
             check_csrf: bool) -> Response:
    site = request.app.state.site
    state: RequestState = request.scope["state"]
    for key in ("db", "user"):
        state.pop(key, None)  # a retry starts afresh
    state.update(site=site, web_session=None, csrf_token=None, staff_id=None)
    language = None  # chosen once the sign-in is known
    try:
        with ExitStack() as unit_of_work:
            def open_db() -> Session:
                return unit_of_work.enter_context(site.db.session(write=write, actor_id=state["staff_id"]))

            state.loaders["db"] = open_db
            sign_in = _sign_in(request, state, site)
            if sign_in is None:
                state["user"] = None
            else:
                state.update(web_session=sign_in, staff_id=sign_in.staff_id,
                             csrf_token=sessions.csrf_token(site.config.secret_key, sign_in.token_hash))
            language = state["language"] = pick_language(request, sign_in)
            try:
                with i18n.use_language(site.catalogs, language, site.config.timezone):
                    if check_csrf and not csrf_ok(request):
                        raise CsrfError()
                    if permission is not None:
                        if sign_in is None:
                            return login_redirect(request)
                        if permission != AUTHENTICATED and not sign_in.can(permission):
                            raise Forbidden()
                    if not _ids_fit(request.path_params):
                        raise NotFound()
                    response = handler(request)
                    if sign_in is not None:
                        _touch(state, site, sign_in)
                return response
            finally:
                # Nothing may open a transaction once this one has ended.
                state.loaders.clear()
    except FuwuError as exc:
        state["language"] = language or pick_language(request, None)
        return error_response(request, exc)


def _ids_fit(path_params: dict) -> bool:
    """Every number in the path fits a database INTEGER. Starlette's ``int``
    convertor takes any run of digits; a larger one names no record, and
    sent to the database it would fail the page instead of finding nothing."""
    return all(v < INTEGER_LIMIT for v in path_params.values() if isinstance(v, int))


def _sign_in(request: Request, state: RequestState, site) -> SignIn | None:
    """The request's sign-in: from this process's cache, else the database
    (the signed-in ``Staff`` then comes with it)."""
    token = request.cookies.get(sessions.COOKIE)
    if not sessions.valid_token(token):
        return None
    hashed = sessions.token_hash(token)
    cache = site.sign_ins
    sign_in = cache.get(hashed, utcnow())
    if sign_in is not None:
        state.loaders["user"] = lambda: sign_in.attach_staff(state["db"])
        return sign_in
    stamp = cache.stamp()  # before the read: a change after it voids the entry
    found = sessions.lookup(state["db"], hashed)
    if found is None:
        return None
    sign_in, staff = found
    state["user"] = staff
    state["db"].info["actor_id"] = staff.id
    cache.put(stamp, sign_in)
    return sign_in


def _touch(state: RequestState, site, sign_in: SignIn) -> None:
    """Refresh ``last_seen_at`` at most every ``TOUCH_EVERY``, so reading a page rarely writes."""
    now = utcnow()
    if now - sign_in.last_seen_at > sessions.TOUCH_EVERY:
        sessions.touch(state["db"], sign_in.session_id, now)
        site.sign_ins.seen(sign_in, now)


def pick_language(request: Request, user) -> str:
    """The user's choice, else their cookie, else Accept-Language, else the site's."""
    if user is not None and user.language in i18n.LANGUAGES:
        return user.language
    cookie = request.cookies.get("fuwu_lang")
    if cookie in i18n.LANGUAGES:
        return cookie
    default = request.app.state.site.config.language
    return i18n.negotiate(request.headers.get("accept-language"), default)


def csrf_ok(request: Request) -> bool:
    sent = request.headers.get(HEADER) or request.state.form.get(FORM_FIELD) or ""
    expected = request.state.csrf_token
    if expected is None:
        return login_csrf_ok(request, str(sent))
    return hmac.compare_digest(expected, str(sent))


#: sent (``hx-headers``) by a request a page makes on its own, such as a poll
BACKGROUND_HEADER = "x-fuwu-background"


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = f"{request.url_for('login').path}?next={target}" if request.method == "GET" else "/login"
    if request.headers.get("hx-request"):
        if request.headers.get(BACKGROUND_HEADER):
            # what a page asks on its own (the bell's count) never moves the page, nor races the reader
            return Response(status_code=204)
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def error_response(request: Request, exc: FuwuError) -> Response:
    """Render a domain error as a page in the user's language (a fresh read
    transaction: the failed one has been rolled back)."""
    from .errors import render_error

    return render_error(request, exc.status, str_in_language(request, exc))


def str_in_language(request: Request, exc: FuwuError) -> str:
    site = request.app.state.site
    language = getattr(request.state, "language", None) or pick_language(request, None)
    request.state.language = language
    with i18n.use_language(site.catalogs, language, site.config.timezone):
        return str(exc)


SESSION_LIFETIME = timedelta(days=14)
