"""Files on the customer's, the contract's and a plugin record's page:
attach, download, delete.

Whoever may see a customer sees its files and may attach one (an engineer's
site photo, a requirement document), as with notes; a contract's files
(its signed scan) are attached by those who edit contracts. A file is
deleted by whoever attached it, or by those who edit its customer or
contract. Each attachment and deletion goes into the customer's service
history and the audit log.

A plugin record's files follow what its ``FileOwner`` says (who sees the
record, who may attach and delete now); they go into the audit log under
the record, not into a customer's history.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import attachments, timeline
from ...attachments import Attachment
from ...errors import Forbidden, NotFound, ValidationError
from ...i18n import N_
from ...i18n import gettext as _
from .. import scope
from ..attachment_panel import may_delete
from ..endpoint import AUTHENTICATED, requires
from ..shell import flash_redirect
from .contracts import render_contract, visible_contract
from .customers import render_detail, visible_customer


def _attach(request: Request, *, refused, back: str, history=None, **belongs_to) -> Response:
    """Keep the posted file with what ``belongs_to`` names (``attachments.keep``'s
    ``customer_id`` and ``contract_id``, or ``record``), then let ``history(attachment)``
    write what else that means; or answer ``refused(message)`` (the page
    again, 422) when it is no fit file."""
    db, user = request.state.db, request.state.user
    max_kb, types = attachments.limits(request.app.state.site, db)
    upload = attachments.checked(request.state.form.get("file"), max_kb=max_kb, types=types)
    if isinstance(upload, str):
        return refused(upload)
    attachment = attachments.keep(db, upload, description=str(request.state.form.get("description") or "").strip(),
                                  staff_id=user.id, **belongs_to)
    if history is not None:
        history(attachment)
    return flash_redirect(request, back + "#files", _("File %(name)s attached.", name=attachment.file_name))


def _customer_history(request: Request, contract=None):
    """The customer's service history entry of a file attached to it (or to ``contract``)."""
    def write(attachment: Attachment) -> None:
        params = dict(kind="file", ref=attachment, staff=request.state.user.name, file=attachment.file_name)
        if contract is None:
            timeline.append(request.state.db, attachment.customer_id, N_("%(staff)s attached the file %(file)s"),
                            **params)
        else:
            timeline.append(request.state.db, attachment.customer_id,
                            N_("%(staff)s attached the file %(file)s to contract %(number)s"),
                            number=contract.number, **params)
    return write


@requires("core.customer.view")
def customer_file_add(request: Request) -> Response:
    customer = visible_customer(request, request.path_params["customer_id"])
    return _attach(request, customer_id=customer.id, back=request.url_for("customer", customer_id=customer.id).path,
                   history=_customer_history(request),
                   refused=lambda message: render_detail(request, customer, file_error=message, status=422))


@requires("core.contract.edit")
def contract_file_add(request: Request) -> Response:
    contract = visible_contract(request, request.path_params["contract_id"])
    return _attach(request, customer_id=contract.customer_id, contract_id=contract.id,
                   back=request.url_for("contract", contract_id=contract.id).path,
                   history=_customer_history(request, contract),
                   refused=lambda message: render_contract(request, contract, file_error=message, status=422))


def _owner_and_record(request: Request, table: str, row_id: int):
    """A plugin's ``FileOwner`` of ``table`` and its record ``row_id``, if the reader may see it (404 otherwise)."""
    owner = attachments.owners(request.app.state.site).get(table)
    record = owner.visible(request, row_id) if owner is not None else None
    if record is None:
        raise NotFound()
    return owner, record


@requires(AUTHENTICATED)
def record_file_add(request: Request) -> Response:
    """Keep the posted file with a plugin's record (hook ``register_file_owners``)."""
    owner, record = _owner_and_record(request, request.path_params["table"], request.path_params["record_id"])
    if not owner.may_attach(request, record):
        raise Forbidden(_("Files cannot be attached to this record now."))

    def refused(message: str) -> Response:
        if owner.render is None:
            raise ValidationError(message=message)
        return owner.render(request, record, message)

    return _attach(request, record=record, back=owner.url(request, record), refused=refused)


def visible_file(request: Request) -> tuple[Attachment, object, object]:
    """The file named in the URL, with the ``FileOwner`` and record it belongs
    to (None, None for a customer's or a contract's file), if the reader may
    see that record: 404 otherwise. A customer's file needs ``core.customer.view`` (403)."""
    found = request.state.db.get(Attachment, request.path_params["file_id"])
    if found is not None and found.record_table:
        return (found, *_owner_and_record(request, found.record_table, found.record_id))
    if not request.state.user.can("core.customer.view"):
        raise Forbidden()
    return scope.customer_record(request, Attachment, request.path_params["file_id"]), None, None


def _disposition(name: str) -> str:
    """``attachment`` with the name in UTF-8 (RFC 6266) and an ASCII stand-in
    for clients that read only ``filename``."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@requires(AUTHENTICATED)
def file_download(request: Request) -> Response:
    found, _owner, _record = visible_file(request)
    # Always a download: a file a customer sent is never shown as a page of this site.
    return Response(found.data, media_type=found.media_type,
                    headers={"Content-Disposition": _disposition(found.file_name),
                             "Cache-Control": "private, no-store"})


@requires(AUTHENTICATED)
def file_delete(request: Request) -> Response:
    db = request.state.db
    found, owner, record = visible_file(request)
    user = request.state.user
    if owner is not None:
        if not owner.deletable(request, record, found):
            raise Forbidden(_("This file cannot be deleted now, or not by you."))
        back = owner.url(request, record)
    else:
        if not may_delete(user, found):
            raise Forbidden(_("Only whoever attached a file, or who may edit its record, may delete it."))
        timeline.append(db, found.customer_id, N_("%(staff)s deleted the file %(file)s"), kind="file",
                        staff=user.name, file=found.file_name)
        back = (request.url_for("contract", contract_id=found.contract_id) if found.contract_id
                else request.url_for("customer", customer_id=found.customer_id)).path
    db.delete(found)
    return flash_redirect(request, back + "#files", _("File %(name)s deleted.", name=found.file_name))


def routes() -> list:
    return [
        Route("/customers/{customer_id:int}/files", customer_file_add, methods=["POST"], name="customer_file_add"),
        Route("/contracts/{contract_id:int}/files", contract_file_add, methods=["POST"], name="contract_file_add"),
        Route("/records/{table}/{record_id:int}/files", record_file_add, methods=["POST"], name="record_file_add"),
        Route("/files/{file_id:int}", file_download, name="file"),
        Route("/files/{file_id:int}/delete", file_delete, methods=["POST"], name="file_delete"),
    ]
