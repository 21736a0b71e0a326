"""The `fuwu` command as a deployer runs it (a real process, real exit codes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_URL, THIRDPARTY


def fuwu(home, *args, input=None, env_extra=None):
    env = {**os.environ, "FUWU_HOME": str(home), "PYTHONPATH": str(THIRDPARTY)}
    env.pop("FUWU_DEBUG", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "fuwu", *args], capture_output=True, text=True,
                          env=env, input=input, timeout=120)


@pytest.fixture
def home(tmp_path, databases):
    home = tmp_path / "var"
    home.mkdir()
    url = databases.new_url(home)
    r = fuwu(home, "init", "--database-url", url)
    assert r.returncode == 0, r.stderr
    return home


def test_init_is_idempotent_and_db_current_shows_branches(home):
    again = fuwu(home, "init")
    assert again.returncode == 0 and "using" in again.stdout
    current = fuwu(home, "db", "current")
    assert current.returncode == 0
    core_line = current.stdout.splitlines()[0].split()
    assert core_line[0] == "core" and core_line[2] == "head"


def test_plugins_enable_upgrade_disable_keeps_data(home):
    listed = fuwu(home, "plugins", "list")
    assert "hotline" in listed.stdout and "1.0" in listed.stdout and "disabled" in listed.stdout
    assert fuwu(home, "plugins", "enable", "hotline").returncode == 0
    up = fuwu(home, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    assert "hotline" in fuwu(home, "db", "current").stdout
    assert fuwu(home, "settings", "set", "hotline.callback_minutes", "45").returncode == 0
    assert "= 45" in fuwu(home, "settings", "list", "--plugin", "hotline").stdout
    assert fuwu(home, "plugins", "disable", "hotline").returncode == 0
    current = fuwu(home, "db", "current").stdout
    assert "0002_hotline_urgency" in current and "[plugin disabled]" in current


def test_errors_are_one_line_without_traceback(home, tmp_path):
    cases = [
        fuwu(home, "plugins", "enable", "ghost"),
        fuwu(home, "settings", "set", "core.page_size", "lots"),
        fuwu(home, "settings", "set", "no.such.key", "1"),
        fuwu(home, "user", "add", "x", "--password", "short"),
        fuwu(home, "user", "add", "x", "--password", "long enough pw", "--role", "wizard"),
        fuwu(tmp_path / "nowhere", "db", "current"),
        fuwu(home, "jobs", "run", "--name", "nope"),
        fuwu(home, "plugins", "disable", "core"),
    ]
    for r in cases:
        assert r.returncode != 0
        assert "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    # enabling a plugin that is not there says so (not that fuwu.toml enables it)
    assert "ghost" in cases[0].stderr and "fuwu.toml" not in cases[0].stderr
    assert "core" in cases[-1].stderr  # core is no plugin: nothing to disable


def test_a_time_zone_the_machine_does_not_know_stops_start_up_with_a_message(home):
    config = home / "fuwu.toml"
    text = config.read_text(encoding="utf-8")
    assert 'timezone = "Asia/Shanghai"' in text
    config.write_text(text.replace('timezone = "Asia/Shanghai"', 'timezone = "Asia/Shanghia"'), encoding="utf-8")
    r = fuwu(home, "db", "current")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "Asia/Shanghia" in r.stderr and "time zone" in r.stderr, r.stderr


def test_a_public_url_that_is_no_web_address_stops_start_up_with_a_message(home):
    config = home / "fuwu.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('timezone = "Asia/Shanghai"',
                                   'timezone = "Asia/Shanghai"\npublic_url = "fuwu.example.com"'), encoding="utf-8")
    r = fuwu(home, "db", "current")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "fuwu.example.com is not a web address" in r.stderr, r.stderr


def test_the_upload_limit_is_read_from_fuwu_toml_and_a_wrong_one_stops_start_up(home):
    from fuwu.config import Config

    config = home / "fuwu.toml"
    text = config.read_text(encoding="utf-8")
    with_limit = lambda value: text.replace('timezone = "Asia/Shanghai"',  # noqa: E731
                                            f'timezone = "Asia/Shanghai"\nmax_upload_bytes = {value}')
    for wrong in ("1000", '"20 MB"'):
        config.write_text(with_limit(wrong), encoding="utf-8")
        r = fuwu(home, "db", "current")
        assert r.returncode != 0 and "Traceback" not in r.stderr
        assert "max_upload_bytes must be a whole number of bytes" in r.stderr, r.stderr
    config.write_text(with_limit(20 * 1024 * 1024), encoding="utf-8")
    assert fuwu(home, "db", "current").returncode == 0
    assert Config.load(home).max_upload_bytes == 20 * 1024 * 1024


def test_user_add_and_passwd_hash_with_argon2id(home):
    r = fuwu(home, "user", "add", "li.qiang", "--name", "李强", "--role", "engineer", "--password", "correct horse")
    assert r.returncode == 0, r.stderr
    assert fuwu(home, "user", "add", "li.qiang", "--password", "correct horse").returncode == 1
    assert fuwu(home, "user", "passwd", "li.qiang", input="new password 1\nnew password 1\n").returncode == 0
    from fuwu.config import Config
    from fuwu.models import Staff
    from fuwu.passwords import verify
    from fuwu.site import Site
    from sqlalchemy import select

    site = Site(Config.load(home))
    with site.db.session(write=False) as s:
        staff = s.scalar(select(Staff).where(Staff.username == "li.qiang"))
        assert staff.password_hash.startswith("$argon2id$")
        assert verify(staff.password_hash, "new password 1")
        assert [r.key for r in staff.roles] == ["engineer"]
    site.close()


def test_demo_load_twice_adds_nothing_and_prints_logins(home):
    first = fuwu(home, "demo", "load")
    assert first.returncode == 0, first.stderr
    assert "admin" in first.stdout
    from fuwu.config import Config
    from fuwu.models import Contract, Customer, Staff
    from fuwu.site import Site
    from sqlalchemy import func, select

    def counts():
        site = Site(Config.load(home))
        with site.db.session(write=False) as s:
            result = [s.scalar(select(func.count()).select_from(m)) for m in (Customer, Contract, Staff)]
        site.close()
        return result

    before = counts()
    assert before[0] >= 15 and before[1] >= 30 and before[2] >= 10
    assert fuwu(home, "demo", "load").returncode == 0
    assert counts() == before


def test_help_everywhere(home):
    for args in (["--help"], ["db", "--help"], ["plugins", "enable", "--help"], ["jobs", "run", "--help"]):
        r = fuwu(home, *args)
        assert r.returncode == 0 and "Usage:" in r.stdout


def test_database_url_used_is_the_test_database(home):
    text = (home / "fuwu.toml").read_text()
    assert ("postgresql" in text) == bool(PG_URL)


def _staff_in(copy, url) -> str:
    """The staff table of a backup file, as text."""
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(copy) as conn:
            return "\n".join(str(row) for row in conn.execute("SELECT * FROM staff"))
    return subprocess.run(["pg_restore", "--data-only", "--table=staff", "--file=-", str(copy)],
                          capture_output=True, text=True, check=True).stdout


def test_backups_by_hand_before_an_upgrade_and_kept_to_a_number(home):
    from fuwu.config import Config

    url = Config.load(home).database_url
    assert fuwu(home, "user", "add", "kept.user", "--password", "kept-password-1").returncode == 0
    made = fuwu(home, "db", "backup")
    assert made.returncode == 0, made.stderr
    copy = Path(made.stdout.split("copied to", 1)[1].strip())
    assert copy.parent == home / "backups" and "kept.user" in _staff_in(copy, url)

    # an upgrade that changes a schema copies the database first; one with nothing to do does not
    assert fuwu(home, "plugins", "enable", "hotline").returncode == 0
    up = fuwu(home, "db", "upgrade")
    assert up.returncode == 0 and "copied to" in up.stdout, up.stdout + up.stderr
    again = fuwu(home, "db", "upgrade")
    assert again.returncode == 0 and "copied to" not in again.stdout
    assert len(list((home / "backups").glob("fuwu-*"))) == 2

    (home / "backups" / "mine.txt").write_text("not a backup")
    kept = fuwu(home, "db", "backup", "--keep", "2")
    assert kept.returncode == 0 and kept.stdout.count("deleted") == 1
    assert len(list((home / "backups").glob("fuwu-*"))) == 2 and not copy.exists()  # the oldest went
    assert (home / "backups" / "mine.txt").exists()  # files it did not write stay
    refused = fuwu(home, "db", "backup", "--to", str(home / "backups" / "mine.txt"))
    assert refused.returncode != 0 and "already exists" in refused.stderr and "Traceback" not in refused.stderr
