"""Sign in, sign out, language switch (the pages that need no permission)."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ... import i18n, two_factor
from ...i18n import lazy_gettext as _l
from ...models import Staff
from ...passwords import hash_password, needs_rehash, verify
from .. import sessions
from ..csrf import LOGIN_COOKIE
from ..endpoint import AUTHENTICATED, SESSION_LIFETIME, public, requires
from ..shell import flash
from ..urls import local_path

#: a dummy hash so an unknown username costs the same time as a wrong password
_DUMMY = hash_password("not a real password")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect to another host after sign-in."""
    return local_path(target) or "/"


def _render_login(request: Request, *, error=None, username: str = "", status: int = 200) -> Response:
    response = request.app.state.templates.render(
        request, "core/login.html",
        {"error": error, "username": username, "next": safe_next(request.query_params.get("next")
                                                               or request.state.form.get("next"))},
        status=status)
    cookie = getattr(request.state, "login_csrf_cookie", None)
    if cookie:
        response.set_cookie(LOGIN_COOKIE, cookie, httponly=True, samesite="lax",
                            secure=request.app.state.site.config.https, max_age=3600)
    return response


@public("the sign-in form", csrf=False)
def login_form(request: Request) -> Response:
    if request.state.user is not None:
        return RedirectResponse("/", status_code=303)
    return _render_login(request)


def paused(request: Request, username: str) -> Response | None:
    """The sign-in form's answer while the account or the address is paused (429), else None."""
    site, db, ip = request.app.state.site, request.state.db, client_ip(request)
    window, per_account, per_address = sessions.pause_limits(site, db)
    if (sessions.recent_failures(db, username=username, since=window) >= per_account
            or sessions.recent_failures(db, ip=ip, since=window) >= per_address):
        db.add(sessions.LoginAttempt(username=username, ip=ip, success=False, refused=True))  # for the history
        return _render_login(request, username=username, status=429, error=_l(
            "Too many failed sign-ins. Wait %(minutes)s minutes and try again.",
            minutes=site.settings.get("core.login_lockout_minutes", db)))
    return None


def start_session(request: Request, staff: Staff, response: Response) -> Response:
    """Sign ``staff`` in: a new session, its cookie on ``response``."""
    site = request.app.state.site
    token = sessions.start(request.state.db, staff, ip=client_ip(request),
                           user_agent=request.headers.get("user-agent", ""), lifetime=SESSION_LIFETIME)
    response.set_cookie(sessions.COOKIE, token, httponly=True, samesite="lax",
                        secure=site.config.https, max_age=int(SESSION_LIFETIME.total_seconds()))
    response.delete_cookie(LOGIN_COOKIE)
    response.delete_cookie(two_factor.COOKIE)
    return response


def signed_in(request: Request, staff: Staff, target: str | None) -> Response:
    """Start a session for ``staff`` and go on to ``target``."""
    return start_session(request, staff, RedirectResponse(safe_next(target), status_code=303))


@public("signing in (CSRF checked with the login token)")
def login(request: Request) -> Response:
    site = request.app.state.site
    db = request.state.db
    form = request.state.form
    username = str(form.get("username", "")).strip()[:60]
    password = str(form.get("password", ""))
    refused = paused(request, username)
    if refused is not None:
        return refused
    staff = db.scalar(select(Staff).where(Staff.username == username, Staff.active.is_(True))) if username else None
    ok = verify(staff.password_hash if staff else _DUMMY, password) and staff is not None
    if ok and needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
    second_step = None
    if ok and two_factor.of(db, staff.id) is not None:
        second_step = "/login/code"
    elif ok and two_factor.required(site, db, staff):
        second_step = "/login/setup"  # the site requires it of this person: set it up before going on
    if second_step:
        # the password was right; the attempt is recorded once the second step is done (or is not)
        response = RedirectResponse(f"{second_step}?next={quote(safe_next(form.get('next')))}", status_code=303)
        response.set_cookie(two_factor.COOKIE, two_factor.pending_token(site.config.secret_key, staff),
                            httponly=True, samesite="lax", secure=site.config.https,
                            max_age=two_factor.CODE_WINDOW)
        return response
    db.add(sessions.LoginAttempt(username=username, ip=client_ip(request), success=ok))
    if not ok:
        return _render_login(request, username=username, status=400,
                             error=_l("Wrong username or password."))
    return signed_in(request, staff, form.get("next"))


@requires(AUTHENTICATED)
def logout(request: Request) -> Response:
    row = request.state.web_session
    sessions.revoke(request.state.db, row.staff_id, only_id=row.id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sessions.COOKIE)
    return response


@public("choosing a language works before sign-in too")
def set_language(request: Request) -> Response:
    language = str(request.state.form.get("language", ""))
    target = safe_next(request.state.form.get("next"))
    response = RedirectResponse(target, status_code=303)
    if language not in i18n.LANGUAGES:
        return response
    user = request.state.user
    if user is not None:
        user.language = language
    response.set_cookie("fuwu_lang", language, samesite="lax", max_age=365 * 86400,
                        secure=request.app.state.site.config.https)
    with i18n.use_language(request.app.state.site.catalogs, language):
        return flash(request, response, i18n.gettext("Language changed."))


def routes() -> list:
    return [
        Route("/login", login_form, methods=["GET"], name="login"),
        Route("/login", login, methods=["POST"], name="login_post"),
        Route("/logout", logout, methods=["POST"], name="logout"),
        Route("/language", set_language, methods=["POST"], name="set_language"),
    ]
