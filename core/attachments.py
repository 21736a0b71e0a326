"""Files kept with a customer or one of its contracts (附件): the signed
contract's scan, a site photo, the customer's own requirement document;
and files kept with a plugin's own record (a claim's receipts), whose plugin
says who sees and changes them (a ``FileOwner``, hook ``register_file_owners``).

Files live in the database, not on a disk beside it: several app processes
on several machines see the same files, and ``fuwu db backup`` copies them
with everything else. The bytes are a deferred column, so listing files
never reads them.

What a file may be is decided by its content where the format has a
signature (a renamed ``.exe`` is no PDF), and by its name's extension from a
list the deployer keeps (``core.attachment_types``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, delete, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Model
from .i18n import lazy_gettext as _l
from .models import Contract, Staff

#: extension -> (media type sent back, signatures its content starts with; empty: plain text, none to check)
FILE_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", (b"RIFF",)),
    # Office formats since 2007 are zip files; the older ones OLE compound files
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (b"PK\x03\x04",)),
    "doc": ("application/msword", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    "xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    "ppt": ("application/vnd.ms-powerpoint", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    "zip": ("application/zip", (b"PK\x03\x04",)),
    "rar": ("application/vnd.rar", (b"Rar!\x1a\x07",)),
    "7z": ("application/x-7z-compressed", (b"7z\xbc\xaf\x27\x1c",)),
    "txt": ("text/plain", ()),
    "csv": ("text/csv", ()),
}
DEFAULT_TYPES = "pdf, jpg, jpeg, png, gif, webp, docx, xlsx, pptx, doc, xls, ppt, zip, rar, 7z, txt, csv"
#: a description shown beside the file's name
DESCRIPTION_LENGTH = 200
#: the longest file name kept (its end, which has the extension)
NAME_LENGTH = 200


def parse_types(value: str) -> list[str]:
    """The extensions of the ``core.attachment_types`` setting; ValueError
    (its message for people) on one fuwu does not know."""
    found = [part.strip().lower().lstrip(".") for part in value.replace("，", ",").split(",") if part.strip()]
    unknown = [ext for ext in found if ext not in FILE_TYPES]
    if unknown:
        raise ValueError(_l("Unknown file types: %(types)s. Known: %(known)s.",
                            types=", ".join(unknown), known=", ".join(FILE_TYPES)))
    if not found:
        raise ValueError(_l("Name at least one file type."))
    return found


def limits(site, db: Session) -> tuple[int, list[str]]:
    """The largest file (KB) and the extensions the deployer accepts, from the settings."""
    return (site.settings.get("core.attachment_max_kb", db),
            parse_types(site.settings.get("core.attachment_types", db)))


class Attachment(Model):
    __tablename__ = "core_attachment"
    __table_args__ = (Index("ix_core_attachment_record", "record_table", "record_id"),)
    __record_label__ = _l("File")  # the audit log's and a merge's name for it
    __audit_skip__ = frozenset({"data"})

    #: the customer of a customer's or a contract's file; none for a plugin record's
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True,
                                                    info={"label": _l("Customer")})
    #: set when the file belongs to one contract of the customer (its scan)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"), index=True,
                                                    info={"label": _l("Contract")})
    file_name: Mapped[str] = mapped_column(String(NAME_LENGTH), info={"label": _l("File name")})
    description: Mapped[str] = mapped_column(String(DESCRIPTION_LENGTH), default="",
                                             info={"label": _l("Description")})
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer, info={"label": _l("Size")})
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    #: the plugin record a file belongs to: its table (a ``FileOwner``'s) and id
    record_table: Mapped[str | None] = mapped_column(String(80))
    record_id: Mapped[int | None] = mapped_column(Integer)

    @property
    def __audit_parent__(self) -> tuple[str, str]:
        # listed in the history of its record: the plugin's, else the customer's
        return (self.record_table, "record_id") if self.record_table else ("customer", "customer_id")

    def __str__(self) -> str:
        return self.file_name


@dataclass
class Upload:
    """A file that passed the checks, ready to keep."""

    file_name: str
    media_type: str
    data: bytes


def checked(upload, *, max_kb: int, types: list[str]) -> Upload | str:
    """The uploaded form field as a file fit to keep, or why it is not (a
    message for the person who sent it)."""
    name = (getattr(upload, "filename", "") or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        return str(_l("Choose a file to upload."))
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in types:
        return str(_l("Files of this type are not accepted. Accepted: %(types)s.", types=", ".join(types)))
    data = upload.file.read(max_kb * 1024 + 1)
    if len(data) > max_kb * 1024:
        return str(_l("The file is larger than %(limit)s KB.", limit=max_kb))
    if not data:
        return str(_l("The file is empty."))
    media, signatures = FILE_TYPES[ext]
    # a format with a signature starts with it; plain text has no NUL bytes
    mismatch = (not data.startswith(signatures)) if signatures else (b"\0" in data[:8192])
    if mismatch:
        return str(_l("The file's content is not what its name says (.%(ext)s).", ext=ext))
    return Upload(name[-NAME_LENGTH:], media, data)


def keep(db: Session, upload: Upload, *, customer_id: int | None = None, contract_id: int | None = None,
         record=None, description: str = "", staff_id: int | None = None) -> Attachment:
    """Keep ``upload`` with a customer (and one of its contracts), or with
    ``record``, a row of a ``FileOwner``'s model."""
    if (customer_id is None) == (record is None):
        raise ValueError("a file belongs to a customer or to a record")
    attachment = Attachment(customer_id=customer_id, contract_id=contract_id, file_name=upload.file_name,
                            description=description[:DESCRIPTION_LENGTH], media_type=upload.media_type,
                            size=len(upload.data), sha256=hashlib.sha256(upload.data).hexdigest(),
                            uploaded_by_id=staff_id, data=upload.data,
                            record_table=record.__tablename__ if record is not None else None,
                            record_id=record.id if record is not None else None)
    db.add(attachment)
    db.flush()
    return attachment


@dataclass
class Listed:
    """A file as a list shows it (no bytes)."""

    attachment: Attachment
    uploaded_by: str
    contract_number: str | None


def listed(db: Session, *, customer_id: int | None = None, contract_id: int | None = None,
           record=None) -> list[Listed]:
    """The files of a customer (all, its contracts' too), of one of its
    contracts, or of a plugin's ``record``, newest first: one query, the
    bytes left unread."""
    query = (select(Attachment, Staff.name, Contract.number)
             .outerjoin(Staff, Staff.id == Attachment.uploaded_by_id)
             .outerjoin(Contract, Contract.id == Attachment.contract_id)
             .order_by(Attachment.id.desc()))
    if record is not None:
        query = query.where(Attachment.record_table == record.__tablename__, Attachment.record_id == record.id)
    else:
        query = query.where(Attachment.customer_id == customer_id)
    if contract_id is not None:
        query = query.where(Attachment.contract_id == contract_id)
    return [Listed(a, name or "", number) for a, name, number in db.execute(query)]


def _yes(request, record) -> bool:
    return True


@dataclass(frozen=True)
class FileOwner:
    """A plugin's model whose records keep files (hook ``register_file_owners``).

    Core lists, uploads, downloads and deletes them (``/records/<table>/<id>/files``,
    ``/files/<id>``); the plugin decides, per request, who may do what:

    - ``visible(request, record_id)``: the record if the reader may see it,
      else None (then its files are "not found", 404). Its record rule.
    - ``url(request, record)``: the record's page, where a change goes back to.
    - ``may_attach(request, record)``: whether the reader may add a file now
      (e.g. only the owner, only while a draft); default: whoever sees it.
    - ``may_delete(request, record, attachment)``: default: whoever attached
      it, while they may still attach.
    - ``render(request, record, error)``: the record's page with the panel's
      ``error`` shown, answered 422 when a file is refused; default: the
      error page with the message.
    - ``hint``: a line shown by the upload form ("scans of the invoices").
    """

    model: type
    visible: Callable[[Any, int], Any]
    url: Callable[[Any, Any], str]
    may_attach: Callable[[Any, Any], bool] = _yes
    may_delete: Callable[[Any, Any, Attachment], bool] | None = None
    render: Callable[[Any, Any, str], Any] | None = None
    hint: Any = ""

    @property
    def table(self) -> str:
        return self.model.__tablename__

    def deletable(self, request, record, attachment: Attachment) -> bool:
        if self.may_delete is not None:
            return self.may_delete(request, record, attachment)
        return attachment.uploaded_by_id == request.state.user.id and self.may_attach(request, record)


def owners(site) -> dict[str, FileOwner]:
    """The site's file owners by table (hook ``register_file_owners``), built once per site."""
    def build() -> dict[str, FileOwner]:
        from .errors import ConfigError

        registry: dict[str, FileOwner] = {}
        for owner in site.plugins.collect("register_file_owners"):
            if owner.table in registry:
                raise ConfigError(_l("Files of %(table)s are declared twice."), table=owner.table)
            registry[owner.table] = owner
            if not event.contains(owner.model, "after_delete", _forget_files):
                event.listen(owner.model, "after_delete", _forget_files)
        return registry

    return site.registry("file_owners", build)


def _forget_files(mapper, connection, record) -> None:
    """A deleted record's files go with it (the same for every site)."""
    connection.execute(delete(Attachment.__table__).where(Attachment.record_table == mapper.local_table.name,
                                                          Attachment.record_id == record.id))
