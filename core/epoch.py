"""A change counter shared by every process of a site, for caches that must
never serve what another process has changed.

Some data is read on nearly every request and changes rarely: who is signed
in and what they may do, the settings overrides. A process may keep such
data between requests if it learns at once when any process changes it. The
*epoch* is how: a counter that a commit changing watched tables increments
(after the commit), and that a cache reads before it reads the database and
stamps its copy with; a copy whose stamp differs from the counter is stale.

- SQLite (every process on one machine, as SQLite itself requires): the
  counter is 8 bytes in a file next to the database, memory-mapped, so
  reading it is a memory read. Increments hold a file lock, so none is lost.
- In-memory SQLite: the counter lives in this process.
- PostgreSQL: the app processes may run on several machines with nothing in
  common but the database, so there is no counter and the caches are off:
  every request reads the database.

Changes made with plain SQL outside fuwu do not increment the counter; each
cache bounds how long it keeps a copy.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

#: ``session.info`` flag: this transaction changed watched data
_CHANGED = "fuwu_epoch_changed"


class LocalCounter:
    """The counter of one process (an in-memory database has no other)."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def read(self) -> int:
        return self._value

    def bump(self) -> None:
        with self._lock:
            self._value += 1

    def close(self) -> None:
        pass


class FileCounter:
    """The counter shared by every process using one SQLite file."""

    def __init__(self, path: Path):
        import fcntl  # POSIX; without it there is no counter and no cache

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


def counter_for(database_url: str) -> LocalCounter | FileCounter | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if url.database in (None, "", ":memory:") or url.query.get("mode") == "memory":
        return LocalCounter()
    try:
        return FileCounter(Path(f"{url.database}-epoch"))
    except (ImportError, OSError):
        return None  # no shared counter: correctness first, no cache


class Epoch:
    """The site's counter, and which tables' changes increment it."""

    def __init__(self, sessions: sessionmaker, database_url: str):
        self._counter = counter_for(database_url)
        #: the watched classes, and those of them whose new rows count as a
        #: change (a new grant does, a new sign-in session does not)
        self._watched: tuple[type, ...] = ()
        self._inserts: tuple[type, ...] = ()
        self._on_change: list[Callable[[], None]] = []
        event.listen(sessions, "after_flush", self._note_changes)
        event.listen(sessions, "after_commit", self._after_commit)
        event.listen(sessions, "after_soft_rollback", _forget_changes)

    @property
    def enabled(self) -> bool:
        return self._counter is not None

    def read(self) -> int:
        """Read *before* the database: a copy stamped with this value is
        valid until the next change anywhere."""
        return self._counter.read() if self._counter is not None else 0

    def watch(self, *classes: type, inserts: bool = True) -> None:
        self._watched += classes
        if inserts:
            self._inserts += classes

    def is_current(self, stamp: int, stored_at: float, max_age: float) -> bool:
        """Whether a copy stamped ``stamp`` at ``stored_at`` (``time.monotonic``)
        may still be used: no change anywhere since, and younger than ``max_age``."""
        return (self._counter is not None and stamp == self._counter.read()
                and time.monotonic() - stored_at < max_age)

    def on_change(self, callback: Callable[[], None]) -> None:
        """``callback()`` after this process commits a change (to drop its copies at once)."""
        self._on_change.append(callback)

    def _note_changes(self, session: Session, _flush_context) -> None:
        if session.info.get(_CHANGED):
            return
        if any(isinstance(obj, self._watched) for obj in (*session.dirty, *session.deleted)) \
                or any(isinstance(obj, self._inserts) for obj in session.new):
            session.info[_CHANGED] = True

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(_CHANGED, False):
            for callback in self._on_change:
                callback()
            if self._counter is not None:
                self._counter.bump()

    def close(self) -> None:
        if self._counter is not None:
            self._counter.close()
        self._counter = None


def mark_changed(session: Session) -> None:
    """Say that this transaction changes watched data the ORM has not flushed
    (plain SQL, or rows about to change); the ORM's flushes are noticed by
    themselves."""
    session.info[_CHANGED] = True


def changed_in(session: Session) -> bool:
    """Whether ``session`` changes watched data (its reads may then show what
    is not committed: cache none of them)."""
    return bool(session.info.get(_CHANGED))


def _forget_changes(session: Session, _previous_transaction) -> None:
    session.info.pop(_CHANGED, None)
