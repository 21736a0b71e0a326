"""Who is signed in, remembered per app process between requests.

Reading the session row and the user's grants costs more than a small page,
so each process keeps what it read, for at most ``[site]
session_cache_seconds`` (default 60), and forgets all of it as soon as
anything that decides a sign-in changes in *any* process: a session signed
out or revoked, a person edited (deactivated, new password, language,
roles), a role or a grant changed.

How processes learn of a change: an *epoch* counter. A process reads it
before it reads a session from the database and stamps the cache entry with
it; a commit that changed sign-in data increments it afterwards; an entry
whose stamp differs from the counter is not used. So a revocation is seen by
the very next request of every process, as when every request read the
database.

- SQLite (every process on one machine, as SQLite itself requires): the
  counter is 8 bytes in a file next to the database, memory-mapped, so a
  request reads it without a system call. Increments hold a file lock, so
  none is lost.
- In-memory SQLite: the counter lives in this process.
- PostgreSQL: the app processes may run on several machines with nothing in
  common but the database, so there is no cache; each request reads its
  session (two indexed queries).

Changes made with plain SQL outside fuwu do not increment the counter; the
expiry bounds how long a process can miss them.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker

from ..models import Role, RolePermission, Staff

#: ``session.info`` flag: this transaction changed sign-in data
_CHANGED = "fuwu_signin_changed"
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
        return "admin" in self.role_keys or permission in self.permissions

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


class LocalEpoch:
    """The counter of one process (an in-memory database has no other)."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def read(self) -> int:
        return self._value

    def bump(self) -> None:
        with self._lock:
            self._value += 1


class FileEpoch:
    """The counter shared by every process using one SQLite file."""

    def __init__(self, path: Path):
        import fcntl  # POSIX; SignInCache falls back to no cache without it

        self._fcntl = fcntl
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size < 8:
            os.ftruncate(self._fd, 8)  # zero-fills; never shrinks a counter another process wrote
        self._map = mmap.mmap(self._fd, 8)
        self._lock = threading.Lock()

    def read(self) -> int:
        return struct.unpack_from("<Q", self._map)[0]

    def bump(self) -> None:
        with self._lock:
            self._fcntl.flock(self._fd, self._fcntl.LOCK_EX)
            try:
                struct.pack_into("<Q", self._map, 0, self.read() + 1)
            finally:
                self._fcntl.flock(self._fd, self._fcntl.LOCK_UN)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)


def epoch_for(database_url: str) -> LocalEpoch | FileEpoch | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if url.database in (None, "", ":memory:") or url.query.get("mode") == "memory":
        return LocalEpoch()
    try:
        return FileEpoch(Path(f"{url.database}-signin"))
    except (ImportError, OSError):
        return None  # no shared counter: correctness first, no cache


class SignInCache:
    """The per-process cache of one site (see the module docstring)."""

    def __init__(self, sessions: sessionmaker, database_url: str, *, seconds: float):
        self.seconds = seconds
        self._epoch = epoch_for(database_url) if seconds > 0 else None
        self._entries: dict[str, tuple[int, float, SignIn]] = {}
        event.listen(sessions, "after_flush", _note_changes)
        event.listen(sessions, "after_commit", self._after_commit)
        event.listen(sessions, "after_soft_rollback", _forget_changes)

    @property
    def enabled(self) -> bool:
        return self._epoch is not None

    def stamp(self) -> int:
        """Read before the database: an entry stored with it is valid until
        the next change anywhere."""
        return self._epoch.read() if self._epoch is not None else 0

    def get(self, token_hash: str, now: datetime) -> SignIn | None:
        if self._epoch is None:
            return None
        found = self._entries.get(token_hash)
        if found is None:
            return None
        stamp, stored_at, sign_in = found
        if stamp != self._epoch.read() or time.monotonic() - stored_at > self.seconds \
                or sign_in.expires_at <= now:
            self._entries.pop(token_hash, None)
            return None
        return sign_in

    def put(self, stamp: int, sign_in: SignIn) -> None:
        if self._epoch is None:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[sign_in.token_hash] = (stamp, time.monotonic(), sign_in)

    def seen(self, sign_in: SignIn, at: datetime) -> None:
        """This process wrote ``last_seen_at``; keep the entry's stamp."""
        found = self._entries.get(sign_in.token_hash)
        if found is not None:
            self._entries[sign_in.token_hash] = (found[0], found[1], replace(sign_in, last_seen_at=at))

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(_CHANGED, False):
            self._entries.clear()
            if self._epoch is not None:
                self._epoch.bump()

    def close(self) -> None:
        if isinstance(self._epoch, FileEpoch):
            self._epoch.close()
        self._epoch = None


def mark_changed(db: Session) -> None:
    """Say that this transaction changed sign-in data with plain SQL (the
    ORM's changes are noticed by themselves)."""
    db.info[_CHANGED] = True


def _note_changes(session: Session, _flush_context) -> None:
    from .sessions import WebSession

    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, (Staff, Role, RolePermission, WebSession)):
            session.info[_CHANGED] = True
            return
    # A new grant or role changes what existing members may do; a new
    # person or session changes nothing cached.
    if any(isinstance(obj, (Role, RolePermission)) for obj in session.new):
        session.info[_CHANGED] = True


def _forget_changes(session: Session, _previous_transaction) -> None:
    session.info.pop(_CHANGED, None)
