"""Signed one-time links: the public page ``/l/<token>`` and the staff side.

The public page checks the token (``fuwu.links.verify``) and hands the visit
to the handler of the link's purpose (registry: ``fuwu.links.purposes``; see
the docstring of ``fuwu/links.py`` for adding one). A refused link gets a page
naming only the reason — never the record — with status 403 (not a link we
issued) or 410 (expired, used, withdrawn).

Core's purpose ``core.contact_confirm``: a customer's contact confirms or
corrects their own phone and e-mail. Staff who may edit the customer issue
the link from the customer page, copy it or have it e-mailed, and withdraw it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import object_session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import i18n, links, timeline
from ...db import utcnow
from ...errors import Forbidden, NotFound
from ...i18n import N_
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...links import LinkGone, LinkInvalid, LinkPurpose, LinkRefused, LinkVisit, SignedLink
from ...models import Contact, Customer, Staff
from ...notifications import notify, queue_mail
from .. import scope
from ..urls import absolute_url
from ..csrf import LOGIN_COOKIE
from ..endpoint import AUTHENTICATED, public, requires
from ..forms import Field, Form
from ..shell import flash_redirect

#: a link's URL is its key: keep it out of caches and search engines
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


def render_public(request: Request, template: str, context: dict, *, status: int = 200) -> Response:
    """Render a page for someone without an account; its forms get the
    double-submit CSRF cookie the sign-in form uses."""
    response = request.app.state.templates.render(request, template, context, status=status, headers=PRIVATE)
    cookie = getattr(request.state, "login_csrf_cookie", None)
    if cookie:
        response.set_cookie(LOGIN_COOKIE, cookie, httponly=True, samesite="lax",
                            secure=request.app.state.site.config.https, max_age=3600)
    return response


def render_refused(request: Request, exc: LinkRefused) -> Response:
    title = _("This link is not valid") if exc.status == 403 else _("This link no longer works")
    return render_public(request, "core/links/refused.html",
                         {"status": exc.status, "message": str(exc), "title": title}, status=exc.status)


@public("signed one-time link: the token is the authorisation")
def link_page(request: Request) -> Response:
    site = request.app.state.site
    db = request.state.db
    now = utcnow()
    try:
        link = links.verify(db, site.config.secret_key, request.path_params["token"], now=now)
        purpose = links.purposes(site).get(link.purpose)
        if purpose is None or purpose.model.__tablename__ != link.record_table:
            raise LinkInvalid(links.INVALID)  # its plugin is no longer enabled
        record = db.get(purpose.model, link.record_id)
        if record is None:
            raise LinkGone(_l("What this link was for no longer exists."))
        # A savepoint: a handler refused half-way (e.g. the link used meanwhile) leaves nothing behind.
        with db.begin_nested():
            return purpose.handler(LinkVisit(request, link, record, purpose, now))
    except LinkRefused as exc:
        return render_refused(request, exc)


# --- core.contact_confirm ----------------------------------------------------------


def contact_confirm_form() -> Form:
    return Form([
        Field("phone", _l("Phone"), kind="phone", required=True, max_length=40),
        Field("email", _l("E-mail"), kind="email"),
    ])


def contact_confirm(visit: LinkVisit) -> Response:
    contact: Contact = visit.record
    request = visit.request
    form = contact_confirm_form()
    context = {"form": form, "contact": contact, "company": contact.customer.name,
               "title": _("Your contact details")}
    if request.method != "POST":
        form.fill(contact)
        return visit.render("core/links/contact_confirm.html", context)
    if not form.load(request.state.form):
        return visit.render("core/links/contact_confirm.html", context, status=422)
    visit.use()
    db = visit.db
    changed = (form.values["phone"], form.values["email"]) != (contact.phone, contact.email)
    contact.phone, contact.email = form.values["phone"], form.values["email"]
    if changed:
        message = N_("Contact %(name)s corrected their details through a link: phone %(phone)s, e-mail %(email)s")
        note = N_("Contact %(name)s of %(customer)s corrected their phone and e-mail")
    else:
        message = N_("Contact %(name)s confirmed their phone and e-mail through a link")
        note = N_("Contact %(name)s of %(customer)s confirmed their phone and e-mail")
    timeline.append(db, contact.customer_id, message, kind="contact", ref=contact, name=contact.name,
                    phone=contact.phone, email=contact.email or "—")
    issuer = db.get(Staff, visit.link.created_by_id) if visit.link.created_by_id else None
    if issuer is not None and issuer.active:
        notify(db, issuer, note, url=request.url_for("customer", customer_id=contact.customer_id).path,
               name=contact.name, customer=contact.customer.name)
    return visit.render("core/links/contact_done.html", {"changed": changed, "title": _("Thank you")})


def _contact_visible(user, contact: Contact) -> bool:
    db = object_session(contact)
    return db.scalar(select(Customer.id).where(Customer.id == contact.customer_id, scope.customers(user))) is not None


def core_purposes() -> list[LinkPurpose]:
    from .password_reset import purposes as password_purposes

    return password_purposes() + [LinkPurpose(
        key="core.contact_confirm", label=_l("Contact confirms their phone and e-mail"), model=Contact,
        handler=contact_confirm, permission="core.customer.edit", visible=_contact_visible,
        describe=lambda c: f"{c.name} · {c.customer.name}",
        staff_page=lambda c: ("customer", {"customer_id": c.customer_id}))]


# --- Staff: issue, look at, withdraw -----------------------------------------------


@requires("core.customer.edit")
def contact_link_issue(request: Request) -> Response:
    site = request.app.state.site
    db = request.state.db
    contact = db.scalar(select(Contact).join(Customer, Contact.customer_id == Customer.id).where(
        Contact.id == request.path_params["contact_id"], Customer.id == request.path_params["customer_id"],
        scope.customers(request.state.user)))
    if contact is None:
        raise NotFound()
    token = links.issue_for(site, db, "core.contact_confirm", contact, created_by_id=request.state.user.id)
    link = links.verify(db, site.config.secret_key, token)  # the row of the link just issued
    message, kind = _("Link created. Copy it below or send it by e-mail."), "success"
    if request.state.form.get("send_email"):
        if contact.email:
            _mail_link(request, contact, link, absolute_url(request, "link", token=token))
            message = _("Link created and e-mailed to %(email)s.", email=contact.email)
        else:
            message, kind = _("Link created. %(name)s has no e-mail address: copy it below.",
                              name=contact.name), "warning"
    return flash_redirect(request, request.url_for("link_detail", link_id=link.id).path, message, kind)


def _mail_link(request: Request, contact: Contact, link: SignedLink, url: str) -> None:
    """In the site's language: the customer has no language preference of their own."""
    site = request.app.state.site
    with i18n.use_language(site.catalogs, site.config.language, site.config.timezone):
        subject = _("Please confirm your contact details")
        body = _("Dear %(name)s,\n\nplease check the phone number and e-mail address we keep for you at "
                 "%(customer)s, and correct them if needed:\n\n%(url)s\n\nThe link works once, until %(date)s.",
                 name=contact.name, customer=contact.customer.name, url=url,
                 date=link.expires_at.date().isoformat())
    queue_mail(request.state.db, contact.email, subject, body)


def _managed_link(request: Request) -> tuple[SignedLink, LinkPurpose, object]:
    """A link the user may manage: its purpose's permission (403) and record rule (404)."""
    db = request.state.db
    link = db.get(SignedLink, request.path_params["link_id"])
    purpose = links.purposes(request.app.state.site).get(link.purpose) if link else None
    record = db.get(purpose.model, link.record_id) if purpose else None
    if record is None:
        raise NotFound()
    if not request.state.user.can(purpose.permission):
        raise Forbidden()
    if not purpose.visible(request.state.user, record):
        raise NotFound()
    return link, purpose, record


@requires(AUTHENTICATED)
def link_detail(request: Request) -> Response:
    """An issued link (permission: its purpose's, checked in ``_managed_link``)."""
    link, purpose, record = _managed_link(request)
    state = links.status(link)
    url = None
    if state == "usable":
        url = absolute_url(request, "link", token=links.token_of(request.app.state.site.config.secret_key, link))
    staff_page = None
    if purpose.staff_page:
        name, params = purpose.staff_page(record)
        staff_page = request.url_for(name, **params).path
    creator = request.state.db.get(Staff, link.created_by_id) if link.created_by_id else None
    return request.app.state.templates.render(
        request, "core/links/detail.html",
        {"link": link, "purpose": purpose, "what": purpose.describe(record), "state": state,
         "states": links.STATUSES, "url": url, "staff_page": staff_page, "creator": creator,
         "title": _("Link for %(what)s", what=purpose.describe(record))},
        headers=PRIVATE)


@requires(AUTHENTICATED)
def link_revoke(request: Request) -> Response:
    link, _purpose, _record = _managed_link(request)
    links.revoke(request.state.db, link.id)
    return flash_redirect(request, request.url_for("link_detail", link_id=link.id).path,
                          _("Link withdrawn: it no longer opens anything."))


def routes() -> list:
    return [
        Route("/l/{token}", link_page, methods=["GET", "POST"], name="link"),
        Route("/customers/{customer_id:int}/contacts/{contact_id:int}/link", contact_link_issue, methods=["POST"],
              name="contact_link_issue"),
        Route("/links/{link_id:int}", link_detail, name="link_detail"),
        Route("/links/{link_id:int}/revoke", link_revoke, methods=["POST"], name="link_revoke"),
    ]
