"""Who is signed in, remembered per app process between requests.

Reading the session row and the user's grants costs more than a small page,
so each process keeps what it read, for at most ``[site]
session_cache_seconds`` (default 60), stamped with the site's change epoch
(``fuwu.epoch``). Anything that decides a sign-in (a session signed out or
revoked, a person edited: deactivated, new password, language, roles; a role
or grant changed) increments the epoch when it commits, in whichever
process, so the very next request of every process reads the database
again, as if nothing were cached. On PostgreSQL there is no cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from ..epoch import Epoch
from ..models import Role, RolePermission, Staff
from ..models.staff import grants_allow

#: at most this many sign-ins per process; when full the cache starts afresh
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class SignIn:
    """A live session and what its user may do: enough for the permission
    check, the language and the CSRF token without touching the database."""

    session_id: int
    staff_id: int
    token_hash: str
    expires_at: datetime
    last_seen_at: datetime
    language: str | None
    role_keys: frozenset[str]
    permissions: frozenset[str]
    #: the person's column values, to attach a ``Staff`` to a request's unit of work
    staff_values: tuple[tuple[str, Any], ...]

    @property
    def id(self) -> int:  # pages use ``request.state.web_session.id``
        return self.session_id

    def can(self, permission: str) -> bool:
        return grants_allow(self.role_keys, self.permissions, permission)

    def attach_staff(self, db: Session) -> Staff:
        """The signed-in person as an object of ``db``, without a query."""
        mapper = inspect(Staff)
        staff = db.identity_map.get(mapper.identity_key_from_primary_key((self.staff_id,)))
        if staff is None:  # the page has not loaded this person itself
            staff = mapper.class_manager.new_instance()
            staff.__dict__.update(self.staff_values)
            make_transient_to_detached(staff)
            db.add(staff)
        staff.set_grants(set(self.role_keys), set(self.permissions))
        return staff


def staff_values(staff: Staff) -> tuple[tuple[str, Any], ...]:
    return tuple((attr.key, getattr(staff, attr.key)) for attr in inspect(Staff).column_attrs)


class SignInCache:
    """The per-process cache of one site's sign-ins (see the module docstring)."""

    def __init__(self, epoch: Epoch, *, seconds: float):
        from .sessions import WebSession

        self.seconds = seconds
        self._epoch = epoch
        self._entries: dict[str, tuple[int, float, SignIn]] = {}
        epoch.watch(Role, RolePermission)
        epoch.watch(Staff, WebSession, inserts=False)  # a new person or session is in no cache
        epoch.on_change(self._entries.clear)

    @property
    def enabled(self) -> bool:
        return self.seconds > 0 and self._epoch.enabled

    def stamp(self) -> int:
        return self._epoch.read()

    def get(self, token_hash: str, now: datetime) -> SignIn | None:
        found = self._entries.get(token_hash)
        if found is None:
            return None
        stamp, stored_at, sign_in = found
        if not self._epoch.is_current(stamp, stored_at, self.seconds) or sign_in.expires_at <= now:
            self._entries.pop(token_hash, None)
            return None
        return sign_in

    def put(self, stamp: int, sign_in: SignIn) -> None:
        if not self.enabled:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[sign_in.token_hash] = (stamp, time.monotonic(), sign_in)

    def seen(self, sign_in: SignIn, at: datetime) -> None:
        """This process wrote ``last_seen_at``; keep the entry's stamp."""
        found = self._entries.get(sign_in.token_hash)
        if found is not None:
            self._entries[sign_in.token_hash] = (found[0], found[1], replace(sign_in, last_seen_at=at))
