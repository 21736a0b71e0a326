"""Settings registry precedence and job locking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fuwu import jobs
from fuwu.errors import ValidationError


def test_setting_precedence_database_then_file_then_default(thirdparty_path, make_site):
    site = make_site(["hotline"], settings={"hotline.callback_minutes": 20})
    setting = site.settings.setting("hotline.callback_minutes")
    assert (setting.default, setting.rule, setting.plugin) == (30, "SD-3", "hotline")
    with site.db.session(write=False) as s:
        assert site.settings.get("hotline.callback_minutes", s) == 20
    site.db.run(lambda s: site.settings.set(s, "hotline.callback_minutes", "15"))
    with site.db.session(write=False) as s:
        assert site.settings.get("hotline.callback_minutes", s) == 15
        assert site.settings.source("hotline.callback_minutes", s) == "database"
    with pytest.raises(ValidationError):
        site.db.run(lambda s: site.settings.set(s, "hotline.callback_minutes", "0"))
    site.db.run(lambda s: site.settings.reset(s, "hotline.callback_minutes"))
    with site.db.session(write=False) as s:
        assert site.settings.get("hotline.callback_minutes", s) == 20


def test_job_runs_once_when_two_processes_claim_it(site):
    ran = []
    job = jobs.Job("test.tick", lambda site, session, now: ran.append(now), every=timedelta(hours=1))
    site.jobs.append(job)
    now = datetime(2026, 11, 25, 10, tzinfo=UTC)
    site.db.run(lambda s: jobs._ensure_rows(s, [job]))
    assert jobs.claim(site, job, now, me="node-a") is True
    assert jobs.claim(site, job, now, me="node-b") is False  # held by node-a
    assert jobs.claim(site, job, now, me="node-b", force=True) is False  # force never steals a lock


def test_due_jobs_run_and_failures_are_recorded(site):
    ran = []

    def boom(site, session, now):
        raise RuntimeError("smtp down")

    site.jobs = [jobs.Job("test.ok", lambda site, s, now: ran.append(1)), jobs.Job("test.boom", boom)]
    now = datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert jobs.run_due(site, now=now) == [("test.ok", "done"), ("test.boom", "failed")]
    assert jobs.run_due(site, now=now + timedelta(hours=1)) == [("test.ok", "skipped"), ("test.boom", "skipped")]
    assert jobs.run_due(site, now=now + timedelta(days=1, seconds=1))[0] == ("test.ok", "done")
    assert ran == [1, 1]
