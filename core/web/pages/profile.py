"""The signed-in user's own settings: language, contact details, password, sign-in sessions."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ... import i18n, two_factor
from ...db import utcnow
from ...errors import NotFound
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...passwords import MIN_LENGTH, hash_password, verify
from .. import sessions
from ..endpoint import AUTHENTICATED, requires
from ..forms import Field, Form
from ...notifications import queue_mail
from ..shell import flash, flash_redirect
from ..templating import LANGUAGE_NAMES

#: a bound on the list: a person has a handful of browsers, not thousands
MAX_SESSIONS = 50
#: the last attempts to sign in as you shown on your profile, failed ones too
RECENT_SIGN_INS = 10


def password_form() -> Form:
    return Form([
        Field("current", _l("Current password"), kind="password", required=True),
        Field("new", _l("New password"), kind="password", required=True,
              help=_l("At least %(n)s characters.", n=MIN_LENGTH)),
        Field("repeat", _l("New password again"), kind="password", required=True),
    ])


def contact_form() -> Form:
    return Form([
        Field("phone", _l("Phone"), kind="phone", max_length=40),
        Field("email", _l("E-mail"), kind="email",
              help=_l("Notifications and password links go to this address.")),
        Field("current", _l("Current password"), kind="password",
              help=_l("Needed only to change the e-mail address.")),
    ])


def _render(request: Request, *, password: Form | None = None, contact: Form | None = None,
            conflict: bool = False, status: int = 200) -> Response:
    db = request.state.db
    user = request.state.user
    rows = db.scalars(select(sessions.WebSession).where(
        sessions.WebSession.staff_id == user.id, sessions.WebSession.revoked_at.is_(None),
        sessions.WebSession.expires_at > utcnow()).order_by(sessions.WebSession.last_seen_at.desc(),
                                                            sessions.WebSession.id.desc()).limit(MAX_SESSIONS))
    attempts = db.execute(select(sessions.LoginAttempt.at, sessions.LoginAttempt.ip, sessions.LoginAttempt.success,
                                 sessions.LoginAttempt.refused, sessions.LoginAttempt.wrong_code)
                          .where(sessions.LoginAttempt.username == user.username)
                          .order_by(sessions.LoginAttempt.at.desc(), sessions.LoginAttempt.id.desc())
                          .limit(RECENT_SIGN_INS)).all()
    return request.app.state.templates.render(
        request, "core/profile/profile.html",
        {"password_form": password or password_form(), "contact_form": contact or contact_form().fill(user),
         "contact_conflict": conflict, "sessions": list(rows), "sign_ins": attempts,
         "results": sessions.ATTEMPT_RESULTS, "result_of": sessions.attempt_result,
         "current_session_id": request.state.web_session.id, "languages": LANGUAGE_NAMES,
         "chosen_language": user.language, "two_factor_on": two_factor.of(db, user.id) is not None,
         "title": _("My profile")},
        status=status)


@requires(AUTHENTICATED)
def profile(request: Request) -> Response:
    return _render(request)


@requires(AUTHENTICATED)
def profile_language(request: Request) -> Response:
    language = str(request.state.form.get("language", ""))
    response = RedirectResponse(request.url_for("profile").path, status_code=303)
    if language not in i18n.LANGUAGES:
        return flash(request, response, _("Choose a language from the list."), "error")
    request.state.user.language = language
    response.set_cookie("fuwu_lang", language, samesite="lax", max_age=365 * 86400,
                        secure=request.app.state.site.config.https)
    with i18n.use_language(request.app.state.site.catalogs, language):
        return flash(request, response, i18n.gettext("Language changed."))


@requires(AUTHENTICATED)
def profile_contact(request: Request) -> Response:
    """One's own phone and e-mail address. A new address takes the password:
    password links go to it, so whoever finds a signed-in browser must not be
    able to send them to themselves. The old address is told of the change."""
    db, user = request.state.db, request.state.user
    form = contact_form()
    form.load(request.state.form)
    if form.outdated(user, request.state.form):  # someone in HR saved the staff record meanwhile
        return _render(request, contact=form, conflict=True, status=409)
    old_email = user.email
    changing = "email" not in form.errors and form.values["email"].lower() != old_email.lower()
    if changing and not verify(user.password_hash, str(request.state.form.get("current", ""))):
        form.error("current", _l("Type your current password to change the e-mail address."))
    if form.errors:
        return _render(request, contact=form, status=422)
    user.phone, user.email = form.values["phone"], form.values["email"]
    if changing and old_email:
        site = request.app.state.site
        with i18n.use_reader_language(site, user):
            queue_mail(db, old_email, i18n.gettext("Your e-mail address in fuwu was changed"),
                       i18n.gettext("The e-mail address of your fuwu account %(username)s was changed from "
                                    "%(old)s to %(new)s. If you did not do this, tell your administrator at once.",
                                    username=user.username, old=old_email, new=user.email or "—"))
    return flash_redirect(request, request.url_for("profile").path, _("Contact details saved."))


@requires(AUTHENTICATED)
def profile_password(request: Request) -> Response:
    """Passwords are taken as typed (no trimming) and never shown again."""
    user = request.state.user
    posted = request.state.form
    form = password_form()
    current, new, repeat = (str(posted.get(name, "")) for name in ("current", "new", "repeat"))
    if not verify(user.password_hash, current):
        form.error("current", _l("This is not your current password."))
    if len(new) < MIN_LENGTH:
        form.error("new", _l("At least %(n)s characters.", n=MIN_LENGTH))
    elif len(new) > 200:
        form.error("new", _l("At most %(n)s characters.", n=200))
    elif new == current:
        form.error("new", _l("Choose a password different from the current one."))
    if new != repeat:
        form.error("repeat", _l("The two new passwords differ."))
    if form.errors:
        return _render(request, password=form, status=422)
    user.password_hash = hash_password(new)
    # Whoever knew the old password may hold a session: only this one stays.
    others = sessions.revoke(request.state.db, user.id, keep_id=request.state.web_session.id)
    return flash_redirect(request, request.url_for("profile").path,
                          _("Password changed. %(n)s other sessions were signed out.", n=others))


@requires(AUTHENTICATED)
def sign_out_others(request: Request) -> Response:
    count = sessions.revoke(request.state.db, request.state.user.id, keep_id=request.state.web_session.id)
    return flash_redirect(request, request.url_for("profile").path, _("%(n)s other sessions signed out.", n=count))


@requires(AUTHENTICATED)
def sign_out_session(request: Request) -> Response:
    session_id = request.path_params["session_id"]
    if not sessions.revoke(request.state.db, request.state.user.id, only_id=session_id):
        raise NotFound()  # not one of this user's live sessions
    if session_id == request.state.web_session.id:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(sessions.COOKIE)
        return response
    return flash_redirect(request, request.url_for("profile").path, _("Session signed out."))


def routes() -> list:
    return [
        Route("/profile", profile, name="profile"),
        Route("/profile/language", profile_language, methods=["POST"], name="profile_language"),
        Route("/profile/contact", profile_contact, methods=["POST"], name="profile_contact"),
        Route("/profile/password", profile_password, methods=["POST"], name="profile_password"),
        Route("/profile/sessions/sign-out-others", sign_out_others, methods=["POST"],
              name="profile_sign_out_others"),
        Route("/profile/sessions/{session_id:int}/sign-out", sign_out_session, methods=["POST"],
              name="profile_sign_out_session"),
    ]
