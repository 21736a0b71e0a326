"""Copies of a site's database: before each upgrade, and whenever the
deployer's cron asks (``fuwu db backup``).

SQLite is copied with its online backup API, which takes a consistent
snapshot while the app keeps serving (a plain file copy of a database in WAL
mode can miss what the ``-wal`` file holds). PostgreSQL is dumped with
``pg_dump --format=custom`` (restore with ``pg_restore``), which must be
installed on the machine running the command.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from .errors import FuwuError
from .i18n import lazy_gettext as _l

#: name of the files this module writes in a site's backup folder
PREFIX = "fuwu-"


class BackupError(FuwuError):
    status = 500


def folder(site) -> Path:
    return Path(site.config.home) / "backups"


def default_target(site, now: datetime | None = None) -> Path:
    """``backups/fuwu-<date>-<time>``, in the site's time zone."""
    stamp = (now or datetime.now(site.zone)).strftime("%Y%m%d-%H%M%S")
    suffix = ".sqlite3" if site.db.dialect == "sqlite" else ".dump"
    target, n = folder(site) / f"{PREFIX}{stamp}{suffix}", 1
    while target.exists():  # two within a second
        n += 1
        target = folder(site) / f"{PREFIX}{stamp}-{n}{suffix}"
    return target


def backup(site, target: Path | None = None) -> Path:
    """Copy the site's database to ``target`` (default: a new file in the
    site's ``backups`` folder); returns the file written."""
    target = Path(target) if target else default_target(site)
    if target.exists():
        raise BackupError(_l("%(path)s already exists; choose another file."), path=target)
    target.parent.mkdir(parents=True, exist_ok=True)
    url = make_url(site.db.url)
    if url.get_backend_name() == "sqlite":
        _sqlite(url.database, target)
    elif url.get_backend_name() == "postgresql":
        _pg_dump(url, target)
    else:
        raise BackupError(_l("Backups of %(backend)s databases are not supported."), backend=url.get_backend_name())
    return target


def _sqlite(database: str | None, target: Path) -> None:
    if not database or database == ":memory:":
        raise BackupError(_l("An in-memory database has nothing to back up."))
    source = sqlite3.connect(database)
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy)
        # one self-contained file: the copy would otherwise inherit WAL mode and grow -wal/-shm files beside it
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
        source.close()


def _pg_dump(url, target: Path) -> None:
    program = shutil.which("pg_dump")
    if program is None:
        raise BackupError(_l("pg_dump was not found: install the PostgreSQL client tools to back up PostgreSQL."))
    env = dict(os.environ)
    if url.password:  # not on the command line, where other users of the machine could read it
        env["PGPASSWORD"] = str(url.password)
    dsn = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    done = subprocess.run([program, "--format=custom", "--file", str(target), dsn], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        raise BackupError(_l("pg_dump failed: %(error)s"), error=done.stderr.strip()[-500:])


def prune(site, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups this module wrote in the
    site's folder (files of other names are left alone); returns those deleted."""
    files = sorted(folder(site).glob(f"{PREFIX}*"), key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
    gone = files[keep:]
    for path in gone:
        path.unlink()
    return gone
