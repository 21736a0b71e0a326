"""Setting a password through an e-mailed link: "forgot your password?" on the
sign-in page, and the link a role manager sends a new colleague.

The link is a signed one-time link (``fuwu.links``) of the purpose
``core.password_reset`` naming one staff member. Asking for one answers the
same whatever was typed, so the form tells nobody which usernames or e-mail
addresses exist; each account gets at most ``core.password_reset_per_hour``
links an hour, and a new link withdraws the unused ones before it. Setting
the password signs the person out everywhere and lifts a sign-in pause on
their account: whoever opened the mail owns the account.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select, update
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import i18n, links
from ...db import utcnow
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...links import LinkGone, LinkPurpose, LinkVisit, SignedLink
from ...models import Staff
from ...notifications import queue_mail
from ...passwords import hash_password
from .. import sessions
from ..endpoint import public, requires
from ..forms import Field, Form
from ..shell import flash_redirect
from ..urls import absolute_url
from .links import render_public
from .organisation import visible_staff
from .roles import password_form, read_new_password

PURPOSE = "core.password_reset"


def request_form() -> Form:
    return Form([Field("who", _l("Username or e-mail address"), required=True, max_length=200)])


def _links_of(staff_id: int) -> tuple:
    """The conditions of ``staff_id``'s password links."""
    return (SignedLink.purpose == PURPOSE, SignedLink.record_table == Staff.__tablename__,
            SignedLink.record_id == staff_id)


def _pending(staff_id: int) -> tuple:
    return (*_links_of(staff_id), SignedLink.used_at.is_(None), SignedLink.revoked_at.is_(None))


def issue(request: Request, staff: Staff, valid_for: timedelta, *, created_by_id: int | None = None) -> SignedLink:
    """A new link for ``staff``, mailed to them if they have an address; older unused ones are withdrawn."""
    db, site = request.state.db, request.app.state.site
    db.execute(update(SignedLink).where(*_pending(staff.id)).values(revoked_at=utcnow()))
    token = links.issue(db, site.config.secret_key, purpose=PURPOSE, record=staff, valid_for=valid_for,
                        created_by_id=created_by_id)
    link = links.verify(db, site.config.secret_key, token)
    if staff.email:
        with i18n.use_reader_language(site, staff):
            queue_mail(db, staff.email, _("Set your password for fuwu"), _(
                "Dear %(name)s,\n\nto set a new password for your account %(username)s, open this link:\n\n"
                "%(url)s\n\nThe link works once, until %(time)s. If you did not ask for it, ignore this "
                "e-mail: your password stays as it is.", name=staff.name, username=staff.username,
                url=absolute_url(request, "link", token=token), time=i18n.format_moment(link.expires_at)))
    return link


@public("the sign-in page's 'forgot your password?': asks for a link by e-mail, and says the same for any input")
def forgot(request: Request) -> Response:
    form = request_form()
    context = {"form": form, "sent": False, "title": _("Forgot your password?")}
    if request.method != "POST":
        return render_public(request, "core/password/forgot.html", context)
    if not form.load(request.state.form):
        return render_public(request, "core/password/forgot.html", context, status=422)
    db, site = request.state.db, request.app.state.site
    who = form.values["who"]
    accounts = db.scalars(select(Staff).where(
        Staff.active.is_(True), Staff.username.is_not(None), Staff.email != "",
        or_(Staff.username == who, func.lower(Staff.email) == who.lower())))
    minutes = site.settings.get("core.password_reset_minutes", db)
    per_hour = site.settings.get("core.password_reset_per_hour", db)
    for staff in accounts:
        recent = db.scalar(select(func.count()).select_from(SignedLink).where(
            *_links_of(staff.id), SignedLink.created_at > utcnow() - timedelta(hours=1)))
        if recent < per_hour:  # else its mailbox has had enough for this hour; the answer stays the same
            issue(request, staff, timedelta(minutes=minutes))
    return render_public(request, "core/password/forgot.html", {**context, "sent": True, "minutes": minutes})


def set_password(visit: LinkVisit) -> Response:
    """The page a password link opens: the new password, twice."""
    staff: Staff = visit.record
    request = visit.request
    if not (staff.active and staff.username):
        raise LinkGone(_l("This account is deactivated. Ask your administrator."))
    form = password_form()
    context = {"form": form, "staff": staff, "title": _("Set your password")}
    if request.method != "POST":
        return visit.render("core/password/set.html", context)
    if not read_new_password(form, request.state.form):
        return visit.render("core/password/set.html", context, status=422)
    visit.use()
    db = visit.db
    staff.password_hash = hash_password(form.values["password"])
    db.execute(update(SignedLink).where(*_pending(staff.id)).values(revoked_at=visit.now))
    sessions.revoke(db, staff.id)  # whoever knew the old password is signed out
    sessions.lift_pause(db, visit.site, staff.id, username=staff.username)
    return visit.render("core/password/done.html", {"title": _("Password set"), "staff": staff})


def purposes() -> list[LinkPurpose]:
    return [LinkPurpose(
        key=PURPOSE, label=_l("Staff member sets their password"), model=Staff, handler=set_password,
        permission="core.role.manage", describe=lambda staff: staff.name,
        staff_page=lambda staff: ("staff_detail", {"staff_id": staff.id}))]


@requires("core.role.manage")
def send_link(request: Request) -> Response:
    """A role manager sends a colleague (a new one, say) a link to set their own password."""
    db, site = request.state.db, request.app.state.site
    staff = visible_staff(request, request.path_params["staff_id"])
    back = request.url_for("staff_detail", staff_id=staff.id).path + "#account"
    if not staff.username:
        return flash_redirect(request, back, _("Give %(name)s a username first.", name=staff.name), "error")
    if not staff.active:
        return flash_redirect(request, back, _("The account of %(name)s is deactivated.", name=staff.name), "error")
    days = site.settings.get("core.link_valid_days", db)
    link = issue(request, staff, timedelta(days=days), created_by_id=request.state.user.id)
    if staff.email:
        message, kind = _("A link to set the password was e-mailed to %(email)s.", email=staff.email), "success"
    else:
        message, kind = _("Link created. %(name)s has no e-mail address: copy it below.", name=staff.name), "warning"
    return flash_redirect(request, request.url_for("link_detail", link_id=link.id).path, message, kind)


def routes() -> list:
    return [
        Route("/password/forgot", forgot, methods=["GET", "POST"], name="password_forgot"),
        Route("/staff/{staff_id:int}/password-link", send_link, methods=["POST"], name="staff_password_link"),
    ]
