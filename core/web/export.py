"""CSV and XLSX export of list pages (same columns as the page shows)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from .. import i18n

#: an export is bounded: a list page is for people, not for dumping the database
MAX_ROWS = 50000


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        # as the page shows it: in the site's time zone (not the server's), to the second
        local = value.astimezone(i18n.current_zone()) if value.tzinfo else value
        return local.replace(tzinfo=None, microsecond=0)
    if isinstance(value, Decimal | date | int | float) or value is None:
        return value
    text = str(value)
    # Spreadsheet formula injection: a cell starting with = + - @ would run.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def export_response(fmt: str, filename: str, headers: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Response:
    names = [str(h) for h in headers]
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(names)
        for row in rows:
            sheet.append([_cell(v) for v in row])
        buf = io.BytesIO()
        book.save(buf)
        body, media = buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(names)
        for row in rows:
            writer.writerow(["" if v is None else _cell(v) for v in row])
        # BOM so Excel opens Chinese text as UTF-8
        body, media, fmt = ("\ufeff" + buf.getvalue()).encode("utf-8"), "text/csv; charset=utf-8", "csv"
    disposition = f"attachment; filename=export.{fmt}; filename*=UTF-8''{quote(filename)}.{fmt}"
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})
