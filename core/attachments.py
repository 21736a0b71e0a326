"""Files kept with a customer or one of its contracts (附件): the signed
contract's scan, a site photo, the customer's own requirement document.

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
from dataclasses import dataclass

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, select
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
    __record_label__ = _l("File")  # the audit log's and a merge's name for it
    __audit_parent__ = ("customer", "customer_id")
    __audit_skip__ = frozenset({"data"})

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True,
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


def keep(db: Session, upload: Upload, *, customer_id: int, contract_id: int | None = None,
         description: str = "", staff_id: int | None = None) -> Attachment:
    attachment = Attachment(customer_id=customer_id, contract_id=contract_id, file_name=upload.file_name,
                            description=description[:DESCRIPTION_LENGTH], media_type=upload.media_type,
                            size=len(upload.data), sha256=hashlib.sha256(upload.data).hexdigest(),
                            uploaded_by_id=staff_id, data=upload.data)
    db.add(attachment)
    db.flush()
    return attachment


@dataclass
class Listed:
    """A file as a list shows it (no bytes)."""

    attachment: Attachment
    uploaded_by: str
    contract_number: str | None


def listed(db: Session, *, customer_id: int, contract_id: int | None = None) -> list[Listed]:
    """The files of a customer (all, its contracts' too) or of one of its
    contracts, newest first: one query, the bytes left unread."""
    query = (select(Attachment, Staff.name, Contract.number)
             .outerjoin(Staff, Staff.id == Attachment.uploaded_by_id)
             .outerjoin(Contract, Contract.id == Attachment.contract_id)
             .where(Attachment.customer_id == customer_id)
             .order_by(Attachment.id.desc()))
    if contract_id is not None:
        query = query.where(Attachment.contract_id == contract_id)
    return [Listed(a, name or "", number) for a, name, number in db.execute(query)]
