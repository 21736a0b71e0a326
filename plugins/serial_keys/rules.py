"""SK-1..5 as plain functions of values (no database, no I/O)."""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import date

#: letters, digits and - _ / . : what is printed on labels and dongles
NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{2,79}$")


def normalise(number: str | None) -> str:
    """Numbers are typed from labels: ignore surrounding blanks and case, and read
    the full-width letters and digits of a Chinese keyboard as ASCII."""
    return unicodedata.normalize("NFKC", number or "").strip().upper()


def valid_number(number: str) -> bool:
    return bool(NUMBER_RE.match(number))


def key_state(*, revoked: bool, expires_on: date | None, today: date) -> str:
    """SK-2/SK-3: a key is valid until its period's end; after it, "expired"
    everywhere, whatever else is stored."""
    if revoked:
        return "revoked"
    if expires_on is not None and expires_on < today:
        return "expired"
    return "active"


def new_serial(product_code: str, year: int, scheme: str) -> str:
    """SK-3: the next serial number under the deployer's numbering scheme.

    ``scheme`` is a pattern with ``{product}``, ``{year}`` and ``{random}``
    (8 hex digits from a CSPRNG), e.g. ``{product}-{year}-{random}``.
    """
    text = scheme.replace("{product}", normalise(product_code) or "SN").replace("{year}", str(year))
    return normalise(text.replace("{random}", secrets.token_hex(4)))


def renewal_changes_serial(numbering: str) -> bool:
    """SK-3 (000 §7.4 "update the software's serial number"): ``new`` issues a
    new serial number on every renewal, ``keep`` only extends the expiry."""
    return numbering == "new"
