"""Files on the customer's and the contract's page: attach, download, delete.

Whoever may see a customer sees its files and may attach one (an engineer's
site photo, a requirement document), as with notes; a contract's files
(its signed scan) are attached by those who edit contracts. A file is
deleted by whoever attached it, or by those who edit its customer or
contract. Each attachment and deletion goes into the customer's service
history and the audit log.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import attachments, timeline
from ...attachments import Attachment
from ...errors import Forbidden
from ...i18n import N_
from ...i18n import gettext as _
from .. import scope
from ..attachment_panel import may_delete
from ..endpoint import requires
from ..shell import flash_redirect
from .contracts import render_contract, visible_contract
from .customers import render_detail, visible_customer


def _attach(request: Request, *, customer_id: int, contract=None, refused, back: str) -> Response:
    """Keep the posted file with the customer (and its contract), or answer
    ``refused(message)`` (the page again, 422) when it is no fit file."""
    db, user = request.state.db, request.state.user
    max_kb, types = attachments.limits(request.app.state.site, db)
    upload = attachments.checked(request.state.form.get("file"), max_kb=max_kb, types=types)
    if isinstance(upload, str):
        return refused(upload)
    attachment = attachments.keep(db, upload, customer_id=customer_id, contract_id=contract.id if contract else None,
                                  description=str(request.state.form.get("description") or "").strip(),
                                  staff_id=user.id)
    if contract is None:
        timeline.append(db, customer_id, N_("%(staff)s attached the file %(file)s"), kind="file", ref=attachment,
                        staff=user.name, file=attachment.file_name)
    else:
        timeline.append(db, customer_id, N_("%(staff)s attached the file %(file)s to contract %(number)s"),
                        kind="file", ref=attachment, staff=user.name, file=attachment.file_name,
                        number=contract.number)
    return flash_redirect(request, back + "#files", _("File %(name)s attached.", name=attachment.file_name))


@requires("core.customer.view")
def customer_file_add(request: Request) -> Response:
    customer = visible_customer(request, request.path_params["customer_id"])
    return _attach(request, customer_id=customer.id, back=request.url_for("customer", customer_id=customer.id).path,
                   refused=lambda message: render_detail(request, customer, file_error=message, status=422))


@requires("core.contract.edit")
def contract_file_add(request: Request) -> Response:
    contract = visible_contract(request, request.path_params["contract_id"])
    return _attach(request, customer_id=contract.customer_id, contract=contract,
                   back=request.url_for("contract", contract_id=contract.id).path,
                   refused=lambda message: render_contract(request, contract, file_error=message, status=422))


def visible_file(request: Request) -> Attachment:
    """The file named in the URL, of a customer the reader may see (404 otherwise)."""
    return scope.customer_record(request, Attachment, request.path_params["file_id"])


def _disposition(name: str) -> str:
    """``attachment`` with the name in UTF-8 (RFC 6266) and an ASCII stand-in
    for clients that read only ``filename``."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@requires("core.customer.view")
def file_download(request: Request) -> Response:
    found = visible_file(request)
    # Always a download: a file a customer sent is never shown as a page of this site.
    return Response(found.data, media_type=found.media_type,
                    headers={"Content-Disposition": _disposition(found.file_name),
                             "Cache-Control": "private, no-store"})


@requires("core.customer.view")
def file_delete(request: Request) -> Response:
    db = request.state.db
    found = visible_file(request)
    user = request.state.user
    if not may_delete(user, found):
        raise Forbidden(_("Only whoever attached a file, or who may edit its record, may delete it."))
    timeline.append(db, found.customer_id, N_("%(staff)s deleted the file %(file)s"), kind="file",
                    staff=user.name, file=found.file_name)
    back = (request.url_for("contract", contract_id=found.contract_id) if found.contract_id
            else request.url_for("customer", customer_id=found.customer_id)).path + "#files"
    db.delete(found)
    return flash_redirect(request, back, _("File %(name)s deleted.", name=found.file_name))


def routes() -> list:
    return [
        Route("/customers/{customer_id:int}/files", customer_file_add, methods=["POST"], name="customer_file_add"),
        Route("/contracts/{contract_id:int}/files", contract_file_add, methods=["POST"], name="contract_file_add"),
        Route("/files/{file_id:int}", file_download, name="file"),
        Route("/files/{file_id:int}/delete", file_delete, methods=["POST"], name="file_delete"),
    ]
