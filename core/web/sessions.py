"""Server-side sign-in sessions and the login throttle.

A session is a database row, so it is shared by every app process and can be
revoked ("sign out other sessions"). The cookie holds a random token; the
database keeps only its SHA-256, so a leaked table gives no usable cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, bindparam, delete, false, func, select, update
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from ..db import Base, utcnow
from ..i18n import lazy_gettext as _l
from ..epoch import mark_changed
from ..models import Role, RolePermission, Staff
from ..models.staff import staff_role
from .signin_cache import SignIn, staff_values

COOKIE = "fuwu_session"
#: refresh last_seen at most this often, so reading a page rarely writes
TOUCH_EVERY = timedelta(minutes=5)


class WebSession(Base):
    __tablename__ = "core_web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    staff: Mapped[Staff] = relationship(lazy="joined", innerjoin=True)

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > utcnow()


class LoginAttempt(Base):
    __tablename__ = "core_login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(60), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    success: Mapped[bool] = mapped_column(default=False)
    #: made while the account or address was paused: not checked, and not
    #: counted towards the pause (which would then last as long as the guessing)
    refused: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: who forgave this failure ("lift the pause"): it no longer counts
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    #: the password was right, the two-step code was not: whoever typed it knows the password
    wrong_code: Mapped[bool] = mapped_column(default=False, server_default=false())


#: what came of an attempt, as the sign-in history and the profile name it
ATTEMPT_RESULTS = {"succeeded": _l("Signed in"), "failed": _l("Failed"),
                   "wrong_code": _l("Right password, wrong code"), "refused": _l("Refused (paused)")}


def attempt_result(attempt) -> str:
    """The key in ``ATTEMPT_RESULTS`` of an attempt (or a row with its ``success``, ``refused`` and ``wrong_code``)."""
    if attempt.success:
        return "succeeded"
    return "refused" if attempt.refused else "wrong_code" if attempt.wrong_code else "failed"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(db: Session, staff: Staff, *, ip: str, user_agent: str, lifetime: timedelta) -> str:
    """Create a session row; returns the cookie token (shown once)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.add(WebSession(token_hash=token_hash(token), staff_id=staff.id, created_at=now, last_seen_at=now,
                      expires_at=now + lifetime, ip=ip[:64], user_agent=user_agent[:300]))
    return token


def lookup(db: Session, hashed: str) -> tuple[SignIn, Staff] | None:
    """The live session for a token's hash, with its user (one query) and
    their grants (one plain query)."""
    row = db.scalar(_LOOKUP, {"token_hash": hashed})
    if row is None or not row.active or not row.staff.active:
        return None
    grants = db.execute(_GRANTS, {"staff_id": row.staff_id}).all()
    role_keys = frozenset(g.key for g in grants)
    permissions = frozenset(g.permission for g in grants if g.permission and not g.revoked)
    staff = row.staff
    staff.set_grants(set(role_keys), set(permissions))
    sign_in = SignIn(session_id=row.id, staff_id=staff.id, token_hash=row.token_hash, expires_at=row.expires_at,
                     last_seen_at=row.last_seen_at, language=staff.language, role_keys=role_keys,
                     permissions=permissions, staff_values=staff_values(staff))
    return sign_in, staff


def valid_token(token: str | None) -> bool:
    return bool(token) and len(token) <= 100


# Built once: constructing a statement costs more than running it on SQLite,
# and these two run whenever a process has not cached the sign-in.
_LOOKUP = (select(WebSession).where(WebSession.token_hash == bindparam("token_hash"))
           .options(joinedload(WebSession.staff).lazyload(Staff.roles)))
# Grants in one plain query: the ORM's role and permission objects cost more
# than the rest of a small page.
_GRANTS = (select(Role.key, RolePermission.permission, RolePermission.revoked)
           .select_from(staff_role).join(Role, Role.id == staff_role.c.role_id)
           .outerjoin(RolePermission, RolePermission.role_id == Role.id)
           .where(staff_role.c.staff_id == bindparam("staff_id")))


def touch(db: Session, session_id: int, now: datetime) -> None:
    db.execute(update(WebSession).where(WebSession.id == session_id).values(last_seen_at=now))


def revoke(db: Session, staff_id: int, *, keep_id: int | None = None, only_id: int | None = None) -> int:
    stmt = update(WebSession).where(WebSession.staff_id == staff_id, WebSession.revoked_at.is_(None))
    if keep_id is not None:
        stmt = stmt.where(WebSession.id != keep_id)
    if only_id is not None:
        stmt = stmt.where(WebSession.id == only_id)
    count = db.execute(stmt.values(revoked_at=utcnow())).rowcount
    mark_changed(db)  # every process forgets its cached sign-ins at commit
    return count


def csrf_token(secret: str, session_token_hash: str) -> str:
    """The session's CSRF token: derived, so nothing extra is stored."""
    return hmac.new(secret.encode(), b"csrf:" + session_token_hash.encode(), hashlib.sha256).hexdigest()


def prune_sign_ins(site, db: Session, now: datetime) -> None:
    """Job ``core.prune_sign_ins``: forget attempts older than the days the
    sign-in history is kept (at least two, so never one a pause still counts)."""
    days = site.settings.get("core.sign_in_history_days", db)
    db.execute(delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(days=days)))


def pause_limits(site, db: Session) -> tuple[datetime, int, int]:
    """The sign-in pause as the settings have it: since when failures count,
    and how many of them pause an account and an address."""
    get = lambda key: site.settings.get(key, db)  # noqa: E731
    return (utcnow() - timedelta(minutes=get("core.login_lockout_minutes")),
            get("core.login_max_failures_account"), get("core.login_max_failures_address"))


def counted_failures(since: datetime) -> tuple:
    """The conditions of a failure that counts towards a pause: since
    ``since``, failed, checked (not refused) and not lifted."""
    return (LoginAttempt.at >= since, LoginAttempt.success.is_(False), LoginAttempt.refused.is_(False),
            LoginAttempt.lifted_by_id.is_(None))


def lift_pause(db: Session, site, by: int, *, username: str | None = None, ip: str | None = None) -> int:
    """Forgive the failures that pause an account or an address now; returns
    how many. The next attempt is checked as if there had been none."""
    window, _per_account, _per_address = pause_limits(site, db)
    match = LoginAttempt.username == username if username is not None else LoginAttempt.ip == ip
    return db.execute(update(LoginAttempt).where(match, *counted_failures(window)).values(lifted_by_id=by)).rowcount


def recent_failures(db: Session, *, username: str | None = None, ip: str | None = None,
                    since: datetime) -> int:
    query = select(func.count()).select_from(LoginAttempt).where(*counted_failures(since))
    if username is not None:
        query = query.where(LoginAttempt.username == username)
    if ip is not None:
        query = query.where(LoginAttempt.ip == ip)
    return db.scalar(query) or 0
