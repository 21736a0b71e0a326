"""Importing rows from an uploaded CSV or XLSX file: the part every import shares.

An import reads its file here (size, format, text encoding, header row, row
count), then checks its own columns row by row, collecting a ``Problem`` per
bad cell, and writes all rows or none. Between the dry run and the user's
confirmation the upload waits in ``ImportFile``; one never confirmed is
deleted by the daily job ``core.prune_import_files``.

Files saved by Excel on Chinese Windows are GBK, so a CSV that is not UTF-8
(with or without BOM) is read as GB18030 (a superset of GBK).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column

from . import dates, i18n
from .db import Model
from .i18n import lazy_gettext as _l

#: column key -> (label, the headers accepted for it, in any of the three languages)
Columns = dict[str, tuple[object, tuple[str, ...]]]


class ImportFile(Model):
    """An uploaded file between its dry run and its import."""

    __tablename__ = "core_import_file"
    __audited__ = False  # a file waiting for a click; what it imports is audited

    #: which import it is for (``"customers"``, or a plugin's name for its own)
    kind: Mapped[str] = mapped_column(String(40))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    file_name: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime | None]


@dataclass
class Problem:
    row: int  # the file's line (CSV) or row (XLSX); 0: the file itself
    column: str  # a column key, or ""
    message: object  # lazy string with params applied at render time
    params: dict = field(default_factory=dict)
    label: object = ""  # the column's label

    def text(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)

    def column_label(self) -> str:
        return str(self.label)


@dataclass
class Result:
    """An import's checked rows, ready to write, and the problems found."""

    rows: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


@dataclass
class Table:
    """A file's data rows as ``(line, {column key: cell})``, or why it cannot be read."""

    rows: list[tuple[int, dict]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: column key -> its position in the file (for ``formula_cells``)
    positions: dict[str, int] = field(default_factory=dict)


def read(name: str, content: bytes, columns: Columns, required, *, max_bytes: int, max_rows: int) -> Table:
    """The rows of an uploaded file, each cell under its column's key; the
    file's own problems (too large, not CSV/XLSX, no header, too many rows)."""
    table = Table()

    def refuse(message, **params) -> Table:
        table.problems.append(Problem(0, "", message, params))
        return table

    if len(content) > max_bytes:
        return refuse(_l("The file is %(size)s KB; the limit is %(limit)s KB. Split it into smaller files."),
                      size=(len(content) + 1023) // 1024, limit=max_bytes // 1024)
    try:
        cells, lines = _cells(name, content)
    except ValueError:
        return refuse(_l("Upload a CSV (UTF-8 or GBK) or XLSX file."))
    except UnicodeDecodeError:
        return refuse(_l("The file's text is neither UTF-8 nor GBK."))
    if not cells:
        return refuse(_l("The file is empty."))
    header = [header_key(columns, h) for h in cells[0]]
    missing = [k for k in required if k not in header]
    unknown = [text(h) for h, k in zip(cells[0], header, strict=False) if k is None and text(h)]
    if missing or unknown:
        return refuse(_l("The header row must name the columns %(expected)s (missing: %(missing)s; "
                         "not recognised: %(unknown)s)."),
                      expected=i18n.listed(label for label, _names in columns.values()),
                      missing=i18n.listed(columns[k][0] for k in missing) or "—",
                      unknown=i18n.listed(unknown) or "—")
    if len(cells) - 1 > max_rows:
        return refuse(_l("The file has %(n)s rows; at most %(limit)s are imported at once."),
                      n=len(cells) - 1, limit=max_rows)
    table.positions = {k: i for i, k in enumerate(header) if k is not None}
    for row, line in zip(cells[1:], lines[1:], strict=True):
        table.rows.append((line, {k: row[i] if i < len(row) else None for k, i in table.positions.items()}))
    return table


def upload_of(posted, max_bytes: int) -> tuple[str, bytes] | None:
    """The file a form posted as ``file``: its name and at most ``max_bytes`` + 1
    bytes (one more than allowed, so ``read`` can tell it is too large); None if none."""
    upload = posted.get("file")
    if upload is None or not getattr(upload, "filename", ""):
        return None
    return upload.filename, upload.file.read(max_bytes + 1)


def header_key(columns: Columns, heading) -> str | None:
    """The column a header cell names (case, spaces and underscores aside)."""
    name = " ".join(str(heading or "").replace("_", " ").split()).lower()
    for key, (label, names) in columns.items():
        if name in {n.replace("_", " ").lower() for n in names} or name == str(label).lower():
            return key
    return None


def _decode(content: bytes) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("gb18030")  # GBK, as Excel saves CSV on Chinese Windows


def _cells(name: str, content: bytes) -> tuple[list[list], list[int]]:
    """Rows of cells (header first, empty rows dropped) and their line numbers."""
    lower = name.lower()
    if lower.endswith(".xlsx"):
        return _xlsx_cells(content)
    if not (lower.endswith(".csv") or lower.endswith(".txt")):
        raise ValueError("format")
    rows, numbers = [], []
    for i, row in enumerate(csv.reader(io.StringIO(_decode(content))), start=1):
        if any(str(c).strip() for c in row):
            rows.append(row)
            numbers.append(i)
    return rows, numbers


def _xlsx_cells(content: bytes) -> tuple[list[list], list[int]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # a corrupt or non-XLSX file
        raise ValueError("xlsx") from exc
    rows, numbers = [], []
    for i, row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
        if any(c is not None and str(c).strip() for c in row):
            rows.append(list(row))
            numbers.append(i)
    book.close()
    return rows, numbers


def formula_cells(content: bytes) -> set[tuple[int, int]]:
    """(row, column) of an XLSX file's cells that hold a formula. Read only
    when a required value is missing: Excel may not have saved its result."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    found = set()
    for r, row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
        for c, value in enumerate(row):
            if isinstance(value, str) and value.startswith("="):
                found.add((r, c))
    book.close()
    return found


FORMULA_WITHOUT_RESULT = _l("The cell holds a formula without a saved result: open the file in Excel, "
                            "save it and upload it again.")


class Formulas:
    """Which empty cells of a file are formulas Excel saved no result for; an
    XLSX file is read for them once, when a required value is first missing."""

    def __init__(self, name: str, content: bytes, positions: dict[str, int]):
        self.xlsx = name.lower().endswith(".xlsx")
        self.content, self.positions = content, positions
        self.cells: set[tuple[int, int]] | None = None

    def at(self, line: int, key: str) -> bool:
        if not self.xlsx:
            return False
        if self.cells is None:
            self.cells = formula_cells(self.content)
        return (line, self.positions[key]) in self.cells


def parse_cells(fields: dict, keys, line: int, cells: dict, bad, formulas: Formulas) -> dict:
    """The cells of ``keys`` read by the form fields of the same names, as the
    form would read them typed; each refused one is reported by ``bad(key, message)``."""
    values = {}
    for key in keys:
        try:
            values[key] = fields[key].parse(cells.get(key, ""))
        except ValueError as exc:
            empty_formula = not cells.get(key) and formulas.at(line, key)
            bad(key, FORMULA_WITHOUT_RESULT if empty_formula else exc.args[0])
    return values


def filled_over(record, values: dict, cells: dict) -> dict:
    """An update of ``record`` by a row: what the row fills in, and the
    record's own value where its cell is empty."""
    return {key: value if cells.get(key) not in (None, "") else getattr(record, key) for key, value in values.items()}


def text(value) -> str:
    """A cell as text: numbers typed into Excel come back as floats (``12.0``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def cell_date(value) -> date | None:
    """A date cell, or text as ``YYYY-MM-DD`` (also ``/`` or ``.``); None if neither."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    for sep in ("-", "/", "."):
        parts = text(value).split(sep)
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            try:
                found = date(int(parts[0]), int(parts[1]), int(parts[2]))
            except ValueError:
                return None
            return found if dates.accepted(found) else None
    return None


def hold(db: Session, kind: str, staff, file_name: str, content: bytes, rows: int) -> ImportFile:
    """Keep a file whose dry run passed until its uploader confirms it."""
    held_file = ImportFile(kind=kind, staff_id=staff.id, file_name=file_name[:200], content=content, rows=rows)
    db.add(held_file)
    db.flush()
    return held_file


def held(db: Session, kind: str, staff, file_id) -> ImportFile | None:
    """The file ``staff`` uploaded for this import and has not imported yet:
    another person's file, or one imported already, is not found."""
    return db.scalar(select(ImportFile).where(ImportFile.id == file_id, ImportFile.kind == kind,
                                              ImportFile.staff_id == staff.id, ImportFile.imported_at.is_(None)))


def imported(held_file: ImportFile, at: datetime) -> None:
    """Mark a held file imported; its rows are in their tables now, so its content goes."""
    held_file.imported_at = at
    held_file.content = b""


#: values per ``IN (...)`` list: a file's thousands of names are looked up in bounded statements
IN_CHUNK = 500


def in_chunks(values) -> list[list]:
    """A column's distinct, non-empty values from a file, sorted, in lists of ``IN_CHUNK``."""
    distinct = sorted({v for v in values if v})
    return [distinct[start:start + IN_CHUNK] for start in range(0, len(distinct), IN_CHUNK)]


def existing(db: Session, column, values) -> set:
    """Which of ``values`` ``column`` already holds (a file's names or numbers that are not new)."""
    taken: set = set()
    for chunk in in_chunks(values):
        taken.update(db.scalars(select(column).where(column.in_(chunk))))
    return taken


def prune_files(site, db: Session, now: datetime) -> None:
    """Job ``core.prune_import_files``: a dry run keeps the uploaded file for
    its confirmation; one not confirmed within a day is deleted (it may hold
    a whole customer list)."""
    db.execute(delete(ImportFile).where(ImportFile.imported_at.is_(None),
                                        ImportFile.created_at < now - timedelta(days=1)))
