"""A customer's contacts (CORE-1): added, corrected in place and removed
from the customer's page, each change in the customer's service history."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import timeline
from ...errors import NotFound
from ...i18n import N_
from ...i18n import gettext as _
from ...models import Contact, Customer
from ..endpoint import requires
from ..forms import Form
from ..shell import flash_redirect
from .customers import contact_form, visible_customer


@requires("core.customer.edit")
def contact_add(request: Request) -> Response:
    db = request.state.db
    customer = visible_customer(request, request.path_params["customer_id"])
    form = contact_form()
    if not form.load(request.state.form):
        return request.app.state.templates.render(
            request, "core/customers/contact_form.html", {"customer": customer, "contact_form": form}, status=422)
    contact = Contact(customer=customer, **form.values)
    if contact.is_primary:
        for other in customer.contacts:
            other.is_primary = False
    db.add(contact)
    timeline.append(db, customer.id, N_("Contact %(name)s added"), kind="contact", name=contact.name)
    return flash_redirect(request, request.url_for("customer", customer_id=customer.id).path,
                          _("Contact %(name)s added.", name=contact.name))


def visible_contact(request: Request) -> tuple[Customer, Contact]:
    """The contact named in the URL, of a customer the user may see (404 otherwise)."""
    customer = visible_customer(request, request.path_params["customer_id"])
    contact = next((c for c in customer.contacts if c.id == request.path_params["contact_id"]), None)
    if contact is None:
        raise NotFound()
    return customer, contact


def _render_contact(request: Request, form: Form, customer: Customer, contact: Contact, *, status: int = 200,
                    conflict: Contact | None = None) -> Response:
    return request.app.state.templates.render(
        request, "core/customers/contact_edit.html",
        {"form": form, "customer": customer, "contact": contact, "conflict": conflict,
         "title": _("Contact %(name)s", name=contact.name)},
        status=status, fragment="form")


@requires("core.customer.edit")
def contact_edit(request: Request) -> Response:
    """Correct a contact's name, position, phone or e-mail, or make them the
    primary contact: the record (and links issued to it) stays the same."""
    db = request.state.db
    customer, contact = visible_contact(request)
    form = contact_form()
    if request.method == "GET":
        return _render_contact(request, form.fill(contact), customer, contact)
    form.load(request.state.form)
    if form.outdated(contact, request.state.form):
        return _render_contact(request, form, customer, contact, status=409, conflict=contact)
    if form.errors:
        return _render_contact(request, form, customer, contact, status=422)
    form.apply(contact)
    if contact.is_primary:
        for other in customer.contacts:
            if other is not contact:
                other.is_primary = False
    if db.is_modified(contact):
        timeline.append(db, customer.id, N_("Contact %(name)s updated"), kind="contact", ref=contact,
                        name=contact.name)
    return flash_redirect(request, request.url_for("customer", customer_id=customer.id).path,
                          _("Contact %(name)s saved.", name=contact.name))


@requires("core.customer.edit")
def contact_delete(request: Request) -> Response:
    db = request.state.db
    customer, contact = visible_contact(request)
    customer.contacts.remove(contact)
    timeline.append(db, customer.id, N_("Contact %(name)s removed"), kind="contact", name=contact.name)
    db.flush()
    return flash_redirect(request, request.url_for("customer", customer_id=customer.id).path,
                          _("Contact %(name)s removed.", name=contact.name))


def routes() -> list:
    return [
        Route("/customers/{customer_id:int}/contacts", contact_add, methods=["POST"], name="contact_add"),
        Route("/customers/{customer_id:int}/contacts/{contact_id:int}/edit", contact_edit, methods=["GET", "POST"],
              name="contact_edit"),
        Route("/customers/{customer_id:int}/contacts/{contact_id:int}/delete", contact_delete, methods=["POST"],
              name="contact_delete"),
    ]
