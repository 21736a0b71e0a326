"""The files panel of a customer's or a contract's page (``core/attachments/panel.html``)."""

from __future__ import annotations

from starlette.requests import Request

from .. import attachments
from ..attachments import Attachment


def may_delete(user, attachment: Attachment) -> bool:
    """Whoever attached a file may delete it, and so may who edits its record."""
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
    max_kb, types = attachments.limits(request.app.state.site, request.state.db)
    return {"files": files, "deletable": {f.attachment.id for f in files if may_delete(user, f.attachment)},
            "upload_url": upload_url, "error": error, "types": types, "max_kb": max_kb,
            "accept": ",".join("." + ext for ext in types)}
