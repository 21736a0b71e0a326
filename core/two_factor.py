"""Two-step sign-in: after the password, a code from an authenticator app.

A person turns it on in their profile by scanning a QR code into an app
(Microsoft or Google Authenticator, 腾讯身份验证器, …) and typing the code it
shows; the app then makes a new six-digit code every 30 seconds (TOTP, RFC
6238, by ``pyotp``). Ten recovery codes, each good once, stand in for a lost
phone; a role manager can also turn it off for someone.

A code is accepted from the current 30 seconds and the ones just before and
after (clocks drift), and each only once: the last step used is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

import pyotp
import segno
from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import INTEGER_LIMIT, Model
from .i18n import lazy_gettext as _l
from .models import Staff

ISSUER = "fuwu"
RECOVERY_CODES = 10
#: letters and digits nobody confuses when reading a code off paper (no 0/o, 1/l/i)
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
#: how long, after the password, the code may be typed (seconds)
CODE_WINDOW = 300


class TwoFactor(Model):
    """A person's authenticator key: while the row exists, signing in asks for a code."""

    __tablename__ = "core_two_factor"
    __record_label__ = _l("Two-step sign-in")  # the audit log's name for it
    __audit_parent__ = ("staff", "staff_id")  # listed in the person's history
    __audit_skip__ = frozenset({"last_step"})  # changes at every sign-in

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), unique=True)
    #: the shared key (base32); ``_secret``: the audit log copies no value of it
    totp_secret: Mapped[str] = mapped_column(String(64), info={"label": _l("Authenticator key")})
    #: the 30-second step of the last code accepted, so none is accepted twice
    last_step: Mapped[int] = mapped_column(Integer, default=0)
    #: SHA-256 of each unused recovery code, as a JSON list
    recovery_hash: Mapped[str] = mapped_column(Text, default="[]", info={"label": _l("Recovery codes")})


def new_secret() -> str:
    return pyotp.random_base32()


def setup_uri(secret: str, account: str) -> str:
    """What the QR code holds: the key, the account and who issued it."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG (no image request, nothing for the CSP to allow)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#1f2933", light="#ffffff")


def code_matches(secret: str, code: str, *, after_step: int = 0, now: float | None = None) -> int | None:
    """The step of ``code`` if it is the app's code for now (or 30 s either side)
    and later than ``after_step``; None otherwise."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // totp.interval)
    for step in (current - 1, current, current + 1):
        if step > after_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _digest(code: str) -> str:
    return hashlib.sha256("".join(code.lower().replace("-", "").split()).encode()).hexdigest()


def new_recovery_codes(record: TwoFactor) -> list[str]:
    """Ten new codes (shown once; only their digests are kept), replacing any before."""
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(8)) for _ in range(RECOVERY_CODES)]
    codes = [f"{c[:4]}-{c[4:]}" for c in codes]
    record.recovery_hash = json.dumps([_digest(c) for c in codes])
    return codes


def recovery_left(record: TwoFactor) -> int:
    return len(json.loads(record.recovery_hash or "[]"))


def use_recovery_code(record: TwoFactor, code: str) -> bool:
    """Accept an unused recovery code, and strike it off."""
    digests = json.loads(record.recovery_hash or "[]")
    wanted = _digest(code)
    for i, digest in enumerate(digests):
        if hmac.compare_digest(digest, wanted):
            record.recovery_hash = json.dumps(digests[:i] + digests[i + 1:])
            return True
    return False


def check(record: TwoFactor, code: str) -> bool:
    """A sign-in's code: the app's (once) or a recovery code (once)."""
    step = code_matches(record.totp_secret, code, after_step=record.last_step)
    if step is not None:
        record.last_step = step
        return True
    return use_recovery_code(record, code)


#: holding any of these, someone manages others' access (``core.two_factor_for_managers``)
MANAGING_PERMISSIONS = ("core.role.manage", "core.settings.manage")


def required(site, db: Session, staff) -> bool:
    """Whether the site's settings make ``staff`` use two-step sign-in."""
    if site.settings.get("core.two_factor_for_everyone", db):
        return True
    return site.settings.get("core.two_factor_for_managers", db) and (
        staff.is_admin or any(staff.can(p) for p in MANAGING_PERMISSIONS))


def of(db: Session, staff_id: int) -> TwoFactor | None:
    return db.scalar(select(TwoFactor).where(TwoFactor.staff_id == staff_id))


# --- Between the password and the code: a signed, short-lived token in a cookie ---------------

COOKIE = "fuwu_2fa"


def _sign(secret_key: str, *parts) -> str:
    return hmac.new(secret_key.encode(), "|".join(map(str, parts)).encode(), hashlib.sha256).hexdigest()


def pending_token(secret_key: str, staff, *, now: float | None = None) -> str:
    """Vouches, for ``CODE_WINDOW`` seconds, that ``staff`` typed the right password. The
    password's hash is signed too: a password changed meanwhile voids the token."""
    expires = int((time.time() if now is None else now) + CODE_WINDOW)
    return f"{staff.id}.{expires}.{_sign(secret_key, 'two-factor', staff.id, expires, staff.password_hash or '')}"


def pending_staff(db: Session, secret_key: str, token: str | None, *, now: float | None = None) -> Staff | None:
    """The active member of staff an unexpired, untampered ``pending_token`` vouches for, else None."""
    try:
        staff_id, expires, signature = str(token or "").split(".")
        staff_id, expires = int(staff_id), int(expires)
    except ValueError:
        return None
    if expires < (time.time() if now is None else now) or not 0 < staff_id < INTEGER_LIMIT:
        return None
    staff = db.get(Staff, staff_id)
    if staff is None or not staff.active:
        return None
    expected = _sign(secret_key, "two-factor", staff.id, expires, staff.password_hash or "")
    return staff if hmac.compare_digest(expected, signature) else None


def setup_signature(secret_key: str, staff_id: int, secret: str) -> str:
    """Binds a key offered on a setup page to the person it was offered to (the form carries both)."""
    return _sign(secret_key, "two-factor-setup", staff_id, secret)
