"""Periodic jobs declared by plugins, run by ``fuwu jobs run`` (cron, any node).

Each job has a row in ``core_job``. A process claims a due job with one
conditional UPDATE (the row's lock must be free or expired); only the process
whose UPDATE changed the row runs it. This works the same on SQLite and on
PostgreSQL behind several app processes, so cron can call ``fuwu jobs run`` on
every node without a job running twice.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, utcnow

log = logging.getLogger("fuwu.jobs")


@dataclass(frozen=True)
class Job:
    """``run(site, session, now)`` does the work inside one unit of work."""

    name: str
    run: Callable
    every: timedelta = timedelta(days=1)
    label: object = ""
    #: how long a claim holds before another process may take over a crashed run.
    lease: timedelta = timedelta(minutes=30)


class JobState(Base):
    __tablename__ = "core_job"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    last_started: Mapped[datetime | None]
    last_finished: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    locked_by: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None]
    runs: Mapped[int] = mapped_column(Integer, default=0)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _ensure_rows(session: Session, jobs: list[Job]) -> None:
    known = set(session.scalars(select(JobState.name)))
    for job in jobs:
        if job.name not in known:
            session.add(JobState(name=job.name))


def claim(site, job: Job, now: datetime, *, force: bool = False, me: str | None = None) -> bool:
    """Take the job's lock if it is due (or ``force``) and not held."""
    me = me or worker_id()

    def work(session: Session) -> bool:
        due = or_(JobState.last_started.is_(None), JobState.last_started <= now - job.every)
        free = or_(JobState.locked_until.is_(None), JobState.locked_until < now)
        stmt = (update(JobState).where(JobState.name == job.name, free)
                .values(locked_by=me, locked_until=now + job.lease, last_started=now))
        if not force:
            stmt = stmt.where(due)
        return session.execute(stmt).rowcount == 1

    return site.db.run(work)


def run_due(site, *, only: str | None = None, force: bool = False, now: datetime | None = None) -> list[tuple[str, str]]:
    """Run every due job once; returns ``(name, outcome)`` pairs."""
    now = now or utcnow()
    jobs = [j for j in site.jobs if only is None or j.name == only]
    site.db.run(lambda s: _ensure_rows(s, jobs))
    results = []
    for job in jobs:
        if not claim(site, job, now, force=force):
            results.append((job.name, "skipped"))
            continue
        error = ""
        try:
            site.db.run(lambda s, job=job: job.run(site, s, now))
        except Exception:  # a failing job is recorded, the others still run
            error = traceback.format_exc(limit=5)
            log.exception("job %s failed", job.name)

        def release(session: Session, job=job, error=error) -> None:
            row = session.get(JobState, job.name)
            row.locked_by, row.locked_until = None, None
            row.last_finished, row.last_error = utcnow(), error
            row.runs = (row.runs or 0) + 1

        site.db.run(release)
        results.append((job.name, "failed" if error else "done"))
    return results
