"""Two-step sign-in pages: the code after the password, turning it on and off
in one's profile, and a role manager turning it off for someone who lost
their phone. The codes themselves: ``fuwu.two_factor``."""

from __future__ import annotations

import hmac
from datetime import timedelta

from sqlalchemy import func, select

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ... import two_factor
from ...db import utcnow
from ...i18n import N_
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...models import Staff
from ...notifications import notify
from ...passwords import verify
from .. import sessions
from ..endpoint import AUTHENTICATED, public, requires
from ..shell import flash_redirect
from .auth import client_ip, paused, safe_next, signed_in, start_session
from .links import render_public
from .organisation import visible_staff

WRONG_CODE = _l("That code is not right. Type the code your app shows now, or one of your recovery codes.")


def _pending_staff(request: Request) -> Staff | None:
    """Whose password was just checked, from the signed cookie (None: start again)."""
    return two_factor.pending_staff(request.state.db, request.app.state.site.config.secret_key,
                                    request.cookies.get(two_factor.COOKIE))


def _code_page(request: Request, *, error=None, status: int = 200) -> Response:
    return render_public(request, "core/login_code.html",
                         {"error": error, "next": safe_next(request.query_params.get("next")
                                                            or request.state.form.get("next")),
                          "title": _("Two-step sign-in")}, status=status)


@public("the second step of signing in: the code, for the account whose password the signed cookie vouches for")
def login_code(request: Request) -> Response:
    staff = _pending_staff(request)
    record = two_factor.of(request.state.db, staff.id) if staff is not None else None
    if record is None:  # no password checked lately (or it changed): sign in again
        return RedirectResponse("/login", status_code=303)
    if request.method != "POST":
        return _code_page(request)
    refused = paused(request, staff.username)
    if refused is not None:
        return refused
    db = request.state.db
    ok = two_factor.check(record, str(request.state.form.get("code", "")))
    if not ok:
        _alert_owner(request, staff)
        db.add(sessions.LoginAttempt(username=staff.username, ip=client_ip(request), success=False, wrong_code=True))
        return _code_page(request, error=WRONG_CODE, status=400)
    db.add(sessions.LoginAttempt(username=staff.username, ip=client_ip(request), success=True))
    return signed_in(request, staff, request.state.form.get("next"))


@public("signing in where the site requires two-step sign-in of someone who has not set it up: "
        "the signed cookie vouches for the password just checked")
def login_setup(request: Request) -> Response:
    staff = _pending_staff(request)
    db = request.state.db
    if staff is None or two_factor.of(db, staff.id) is not None:
        return RedirectResponse("/login", status_code=303)
    target = safe_next(request.query_params.get("next") or request.state.form.get("next"))
    if request.method != "POST":
        return render_public(request, "core/login_setup.html", _setup_context(request, staff, next=target))
    record, error, status = _confirmed_setup(request, staff)
    if record is None:
        secret = request.state.form.get("secret") if status == 422 else None
        return render_public(request, "core/login_setup.html",
                             _setup_context(request, staff, secret=secret, error=error, next=target), status=status)
    db.add(sessions.LoginAttempt(username=staff.username, ip=client_ip(request), success=True))
    codes = two_factor.new_recovery_codes(record)
    page = render_public(request, "core/login_setup.html",
                         {"codes": codes, "next": target, "title": _("Two-step sign-in")})
    return start_session(request, staff, page)


def _alert_owner(request: Request, staff: Staff) -> None:
    """The first wrong code after a right password tells the account's owner, in the app
    and by e-mail: if it was not them, someone knows their password. Once per sign-in,
    so their own typing slip costs one notice, and a guesser's many tries one too."""
    db = request.state.db
    since = utcnow() - timedelta(seconds=two_factor.CODE_WINDOW)
    earlier = db.scalar(select(func.count()).select_from(sessions.LoginAttempt).where(
        sessions.LoginAttempt.username == staff.username, sessions.LoginAttempt.wrong_code.is_(True),
        sessions.LoginAttempt.at >= since))
    if not earlier:
        notify(db, staff, N_("Someone typed your password correctly but not the two-step code, from %(ip)s. "
                             "If it was not you, change your password now."),
               url=request.url_for("profile").path, email=True, ip=client_ip(request) or "—")


# --- My profile: turn it on, new recovery codes, turn it off ----------------------------------


def _setup_signature(request: Request, staff_id: int, secret: str) -> str:
    return two_factor.setup_signature(request.app.state.site.config.secret_key, staff_id, secret)


def _setup_context(request: Request, staff: Staff, *, secret: str | None = None, **context) -> dict:
    """A new key to scan (or the one the form carried back), its QR code and its signature."""
    secret = secret or two_factor.new_secret()
    uri = two_factor.setup_uri(secret, staff.username or staff.code)
    return {"secret": secret, "signature": _setup_signature(request, staff.id, secret), "qr": two_factor.qr_svg(uri),
            "spaced_secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
            "title": _("Two-step sign-in"), **context}


def _confirmed_setup(request: Request, staff: Staff) -> tuple[two_factor.TwoFactor | None, object, int]:
    """(the new key, saved, None, 200) once the form's code proves the app has it; else (None, why, status)."""
    posted = request.state.form
    secret = str(posted.get("secret", ""))
    if not hmac.compare_digest(_setup_signature(request, staff.id, secret), str(posted.get("signature", ""))):
        return None, _l("The page was out of date. Scan the new QR code."), 400
    step = two_factor.code_matches(secret, str(posted.get("code", "")))
    if step is None:
        return None, _l("That code is not right. Check that the phone's clock is right, and type the code the "
                        "app shows now."), 422
    record = two_factor.TwoFactor(staff_id=staff.id, totp_secret=secret, last_step=step)
    request.state.db.add(record)
    request.state.db.flush()
    return record, None, 200


def _page(request: Request, *, secret: str | None = None, codes: list[str] | None = None, error=None,
          status: int = 200) -> Response:
    user = request.state.user
    record = two_factor.of(request.state.db, user.id)
    context = {"record": record, "codes": codes, "error": error, "title": _("Two-step sign-in")}
    if record is None:
        context = _setup_context(request, user, secret=secret, **context)
    else:
        context["left"] = two_factor.recovery_left(record)
    return request.app.state.templates.render(request, "core/profile/two_factor.html", context, status=status)


@requires(AUTHENTICATED)
def settings_page(request: Request) -> Response:
    return _page(request)


@requires(AUTHENTICATED)
def turn_on(request: Request) -> Response:
    user = request.state.user
    if two_factor.of(request.state.db, user.id) is not None:
        return flash_redirect(request, request.url_for("two_factor").path, _("Two-step sign-in is already on."))
    record, error, status = _confirmed_setup(request, user)
    if record is None:
        secret = request.state.form.get("secret") if status == 422 else None
        return _page(request, secret=secret, status=status, error=error)
    return _page(request, codes=two_factor.new_recovery_codes(record))


def _own_record(request: Request) -> two_factor.TwoFactor | Response:
    """The user's own key once they confirmed their password, or the page saying why not."""
    record = two_factor.of(request.state.db, request.state.user.id)
    if record is None:
        return flash_redirect(request, request.url_for("two_factor").path, _("Two-step sign-in is off."))
    if not verify(request.state.user.password_hash, str(request.state.form.get("password", ""))):
        return _page(request, status=422, error=_l("This is not your current password."))
    return record


@requires(AUTHENTICATED)
def new_codes(request: Request) -> Response:
    record = _own_record(request)
    if isinstance(record, Response):
        return record
    return _page(request, codes=two_factor.new_recovery_codes(record))


@requires(AUTHENTICATED)
def turn_off(request: Request) -> Response:
    record = _own_record(request)
    if isinstance(record, Response):
        return record
    request.state.db.delete(record)
    return flash_redirect(request, request.url_for("profile").path,
                          _("Two-step sign-in is off: signing in asks for the password only."))


# --- A role manager, for someone who lost their phone and their recovery codes ---------------


@requires("core.role.manage")
def staff_turn_off(request: Request) -> Response:
    staff = visible_staff(request, request.path_params["staff_id"])
    record = two_factor.of(request.state.db, staff.id)
    if record is not None:
        request.state.db.delete(record)
    return flash_redirect(request, request.url_for("staff_detail", staff_id=staff.id).path + "#account",
                          _("Two-step sign-in is off for %(name)s: they sign in with their password and can turn "
                            "it on again in their profile.", name=staff.name))


def routes() -> list:
    return [
        Route("/login/code", login_code, methods=["GET", "POST"], name="login_code"),
        Route("/login/setup", login_setup, methods=["GET", "POST"], name="login_setup"),
        Route("/profile/two-factor", settings_page, name="two_factor"),
        Route("/profile/two-factor/on", turn_on, methods=["POST"], name="two_factor_on"),
        Route("/profile/two-factor/codes", new_codes, methods=["POST"], name="two_factor_codes"),
        Route("/profile/two-factor/off", turn_off, methods=["POST"], name="two_factor_off"),
        Route("/staff/{staff_id:int}/two-factor/off", staff_turn_off, methods=["POST"], name="staff_two_factor_off"),
    ]
