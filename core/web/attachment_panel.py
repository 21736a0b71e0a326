"""The files panel of a record's page (``core/attachments/panel.html``): a
customer's, a contract's, or a plugin record's (``record_panel``)."""

from __future__ import annotations

from starlette.requests import Request

from .. import attachments
from ..attachments import Attachment
from ..i18n import gettext as _


def may_delete(user, attachment: Attachment) -> bool:
    """A customer's or a contract's file: whoever attached it may delete it,
    and so may who edits its record."""
    if attachment.uploaded_by_id == user.id:
        return True
    return user.can("core.contract.edit" if attachment.contract_id else "core.customer.edit")


def panel(request: Request, *, customer_id: int, contract_id: int | None = None, upload_url: str | None,
          error: str = "") -> dict:
    """What ``core/attachments/panel.html`` shows: the files of the customer
    (or of its one contract), which the reader may delete, and the upload
    form's action (None: no form)."""
    user = request.state.user
    files = attachments.listed(request.state.db, customer_id=customer_id, contract_id=contract_id)
    return _shown(request, files, {f.attachment.id for f in files if may_delete(user, f.attachment)},
                  upload_url, error, placeholder=_("e.g. signed contract, scanned"))


def record_panel(request: Request, record, *, error: str = "") -> dict:
    """The same for a record of a plugin's ``FileOwner`` model (hook
    ``register_file_owners``): its files, and the upload form if the reader
    may attach one now."""
    owner = attachments.owners(request.app.state.site)[record.__tablename__]
    files = attachments.listed(request.state.db, record=record)
    upload_url = (request.url_for("record_file_add", table=owner.table, record_id=record.id).path
                  if owner.may_attach(request, record) else None)
    return _shown(request, files, {f.attachment.id for f in files if owner.deletable(request, record, f.attachment)},
                  upload_url, error, hint=str(owner.hint))


def _shown(request: Request, files: list, deletable: set[int], upload_url: str | None, error: str,
           hint: str = "", placeholder: str = "") -> dict:
    max_kb, types = attachments.limits(request.app.state.site, request.state.db)
    return {"files": files, "deletable": deletable, "upload_url": upload_url, "error": error, "hint": hint,
            "placeholder": placeholder,
            "types": types, "max_kb": max_kb, "accept": ",".join("." + ext for ext in types)}
