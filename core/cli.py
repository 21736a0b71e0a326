"""The ``fuwu`` command: set up, migrate, manage plugins, users, jobs, settings.

Every failure is one line on stderr and a non-zero exit; set FUWU_DEBUG=1 to
see the traceback instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from .config import Config
from .errors import FuwuError, ValidationError
from .i18n import lazy_gettext as _l
from .plugins import PluginError, available, with_dependencies

# Heavy modules (SQLAlchemy sessions, Alembic) are imported by the commands
# that need them, so `fuwu --help` and `fuwu plugins list` start fast.


class Context:
    def __init__(self, home: str | None):
        self.home = home

    def config(self) -> Config:
        return Config.load(self.home)

    def site(self):
        from .site import Site

        config = self.config()
        if not config.path.exists():
            raise click.ClickException(
                f"no site at {config.home.resolve()}: run `fuwu init` first (or set FUWU_HOME)")
        return Site(config)


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", envvar="FUWU_HOME", default=None, metavar="DIR",
              help="Site folder holding fuwu.toml (default ./var, or $FUWU_HOME).")
@click.version_option(package_name="fuwu")
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """fuwu: after-sales service ERP with plugins."""
    ctx.obj = Context(home)


# --- init / serve -------------------------------------------------------------


@cli.command()
@click.option("--database-url", default="", help="SQLAlchemy URL; default: SQLite in the site folder.")
@click.option("--plugins", "plugin_choice", type=click.Choice(["builtin", "none"]), default="builtin",
              show_default=True, help="Which plugins to enable in a new fuwu.toml.")
@pass_ctx
def init(ctx: Context, database_url: str, plugin_choice: str) -> None:
    """Create the site folder and fuwu.toml (if missing), then upgrade the schema.

    Safe to run again: an existing fuwu.toml and database are kept.
    """
    config = ctx.config()
    if not config.path.exists():
        config.secret_key = config.secret_key or Config.new_secret()
        if database_url:
            config.database_url = database_url
        if plugin_choice == "builtin":
            config.plugins = [a.name for a in available() if a.distribution == "fuwu" and a.plugin]
        config.home.mkdir(parents=True, exist_ok=True)
        config.save()
        click.echo(f"created {config.path}")
    else:
        click.echo(f"using {config.path}")
    from .site import Site

    _upgrade(Site(Config.load(ctx.home)))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="App processes (PostgreSQL for more than 1).")
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@pass_ctx
def serve(ctx: Context, host: str, port: int, workers: int, reload: bool) -> None:
    """Serve the web app with uvicorn."""
    import uvicorn

    site = ctx.site()
    if workers > 1 and site.db.dialect == "sqlite":
        raise click.ClickException("several workers need PostgreSQL; SQLite serves one process")
    site.close()
    os.environ["FUWU_HOME"] = str(Path(ctx.config().home).resolve())
    click.echo(f"serving on http://{host}:{port}")
    uvicorn.run("fuwu.web.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                reload=reload, proxy_headers=True, log_level="info")


# --- db -----------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Schema migrations (Alembic: core + one branch per plugin)."""


def _upgrade(site, *, keep_copy: bool = True) -> None:
    from . import backup, migrate
    from .seed import sync_roles

    if keep_copy and migrate.behind(site):
        click.echo(f"database copied to {backup.backup(site)} before upgrading")
    done = migrate.upgrade(site)
    added = site.db.run(lambda s: sync_roles(site, s))
    click.echo(f"schema upgraded: {', '.join(t.split('@')[0] for t in done)}"
               + (f"; {added} role rows added" if added else ""))


@db.command("upgrade")
@click.option("--no-backup", is_flag=True, help="Do not copy the database first (you have a copy of your own).")
@pass_ctx
def db_upgrade(ctx: Context, no_backup: bool) -> None:
    """Bring core and every enabled plugin to the newest schema (keeps data).

    When a schema would change, the database is first copied into the site's
    backups folder (see `fuwu db backup`).
    """
    _upgrade(ctx.site(), keep_copy=not no_backup)


@db.command("backup")
@click.option("--to", "target", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: backups/fuwu-<date>-<time> in the site folder).")
@click.option("--keep", type=click.IntRange(min=1), default=None,
              help="Then delete all but the newest KEEP backups in the site's backups folder.")
@pass_ctx
def db_backup(ctx: Context, target: Path | None, keep: int | None) -> None:
    """Copy the database while the app keeps running (SQLite), or dump it
    with pg_dump (PostgreSQL; restore with pg_restore)."""
    from . import backup

    site = ctx.site()
    click.echo(f"database copied to {backup.backup(site, target)}")
    if keep:
        for path in backup.prune(site, keep):
            click.echo(f"deleted {path}")


@db.command("current")
@pass_ctx
def db_current(ctx: Context) -> None:
    """Show each branch's revision and whether it is at head."""
    from . import migrate

    site = ctx.site()
    enabled = {"core", *site.plugins.names}
    for branch, rev in migrate.current(site).items():
        head = migrate.head_of(site, branch)
        state = "not installed" if rev is None else ("head" if rev == head else f"behind (head {head})")
        flag = "" if branch in enabled else "  [plugin disabled]"
        click.echo(f"{branch:20} {rev or '-':24} {state}{flag}")


@db.command("revision")
@click.argument("branch")
@click.option("-m", "--message", required=True)
@click.option("--empty", is_flag=True, help="Do not autogenerate from the models.")
@pass_ctx
def db_revision(ctx: Context, branch: str, message: str, empty: bool) -> None:
    """(Developers) create a migration on BRANCH (core or a plugin name)."""
    from . import migrate

    migrate.revision(ctx.site(), message, branch=branch, autogenerate=not empty)


# --- plugins ------------------------------------------------------------------


@cli.group()
def plugins() -> None:
    """List, enable and disable plugins (enable/disable edit fuwu.toml)."""


@plugins.command("list")
@pass_ctx
def plugins_list(ctx: Context) -> None:
    """Installed plugins with version, dependencies and state."""
    config = ctx.config()
    enabled = set(config.plugins)
    items = available()
    if not items:
        click.echo("no plugins installed")
    for item in items:
        state = "enabled" if item.name in enabled else "disabled"
        if item.plugin is None:
            click.echo(f"{item.name:18} {'?':8} {state:9} BROKEN: {item.error}")
            continue
        m = item.plugin.manifest
        deps = ", ".join(m.depends) or "-"
        click.echo(f"{m.name:18} {m.version:8} {state:9} depends: {deps:24} {m.summary}")


@plugins.command("enable")
@click.argument("names", nargs=-1, required=True)
@click.option("--with-deps", is_flag=True, help="Also enable what they depend on.")
@pass_ctx
def plugins_enable(ctx: Context, names: tuple[str, ...], with_deps: bool) -> None:
    """Enable plugins; then run `fuwu db upgrade`."""
    config = ctx.config()
    if with_deps:
        wanted = with_dependencies(names)  # which refuses a plugin that is not installed
    else:
        installed = {item.name for item in available()}
        for name in names:
            if name not in installed:
                raise PluginError(_l("Plugin %(plugin)s is not installed."), plugin=name)
        wanted = list(names)
    new = [*config.plugins, *[n for n in wanted if n not in config.plugins]]
    from .plugins import discover

    discover(new)  # refuse now, with the reason, rather than at the next start
    config.plugins = new
    config.save()
    click.echo(f"enabled: {', '.join(wanted)}; now run `fuwu db upgrade`")


@plugins.command("disable")
@click.argument("names", nargs=-1, required=True)
@pass_ctx
def plugins_disable(ctx: Context, names: tuple[str, ...]) -> None:
    """Disable plugins. Their tables and data are kept."""
    config = ctx.config()
    for name in names:
        if name not in config.plugins:
            raise PluginError(_l("Plugin %(plugin)s is not enabled."), plugin=name)
    remaining = [n for n in config.plugins if n not in names]
    for item in available():
        if item.plugin and item.name in remaining:
            needs = {r.name for r in item.plugin.manifest.requirements()} & set(names)
            if needs:
                raise PluginError(f"Plugin {item.name} depends on {', '.join(sorted(needs))}; disable it first.")
    config.plugins = remaining
    config.save()
    click.echo(f"disabled: {', '.join(names)} (data kept)")


# --- users --------------------------------------------------------------------


@cli.group()
def user() -> None:
    """Sign-in accounts of staff."""


def _password(value: str | None) -> str:
    from .passwords import MIN_LENGTH

    if value is None:
        value = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(value) < MIN_LENGTH:
        raise click.ClickException(f"the password must have at least {MIN_LENGTH} characters")
    return value


@user.command("add")
@click.argument("username")
@click.option("--name", "full_name", default=None, help="Full name (default: the username).")
@click.option("--role", "roles", multiple=True, help="Role key, repeatable (e.g. admin, engineer).")
@click.option("--password", default=None, help="Omit to be asked.")
@click.option("--department", default=None, help="Department name.")
@pass_ctx
def user_add(ctx: Context, username: str, full_name: str | None, roles: tuple[str, ...],
             password: str | None, department: str | None) -> None:
    """Create a staff member who can sign in."""
    from sqlalchemy import select

    from .models import Department, Role, Staff
    from .passwords import hash_password

    site = ctx.site()
    secret = hash_password(_password(password))

    def work(session):
        if session.scalar(select(Staff).where(Staff.username == username)):
            raise click.ClickException(f"user {username} already exists")
        found = list(session.scalars(select(Role).where(Role.key.in_(roles)))) if roles else []
        missing = set(roles) - {r.key for r in found}
        if missing:
            raise click.ClickException(f"unknown role(s): {', '.join(sorted(missing))}")
        dept = None
        if department:
            dept = session.scalar(select(Department).where(Department.name == department))
            if dept is None:
                raise click.ClickException(f"unknown department: {department}")
        session.add(Staff(code=username, name=full_name or username, username=username,
                          password_hash=secret, roles=found, department=dept))

    site.db.run(work)
    click.echo(f"user {username} added")


@user.command("passwd")
@click.argument("username")
@click.option("--password", default=None, help="Omit to be asked.")
@pass_ctx
def user_passwd(ctx: Context, username: str, password: str | None) -> None:
    """Set a user's password and sign them out everywhere."""
    from sqlalchemy import select

    from .models import Staff
    from .passwords import hash_password
    from .web import sessions

    site = ctx.site()
    secret = hash_password(_password(password))

    def work(session):
        staff = session.scalar(select(Staff).where(Staff.username == username))
        if staff is None:
            raise click.ClickException(f"no user {username}")
        staff.password_hash = secret
        return sessions.revoke(session, staff.id)

    signed_out = site.db.run(work)
    click.echo(f"password of {username} changed; {signed_out} session(s) signed out")


# --- demo, jobs, settings -----------------------------------------------------


@cli.group()
def demo() -> None:
    """Demo data."""


@demo.command("load")
@pass_ctx
def demo_load(ctx: Context) -> None:
    """Load a believable department (idempotent) and print the demo logins."""
    from .demo import DEMO_LOGINS, load

    site = ctx.site()
    load(site)
    click.echo("demo data loaded; sign in with:")
    for username, password, role in DEMO_LOGINS:
        click.echo(f"  {username:14} {password:14} {role}")


@cli.group()
def jobs() -> None:
    """Periodic jobs declared by plugins (call `fuwu jobs run` from cron)."""


@jobs.command("list")
@pass_ctx
def jobs_list(ctx: Context) -> None:
    site = ctx.site()
    if not site.jobs:
        click.echo("no jobs declared")
    for job in site.jobs:
        click.echo(f"{job.name:40} every {job.every}")


@jobs.command("run")
@click.option("--name", default=None, help="Run only this job.")
@click.option("--force", is_flag=True, help="Run even if not due (never while another process holds it).")
@pass_ctx
def jobs_run(ctx: Context, name: str | None, force: bool) -> None:
    """Run every due job once, each under a database lock."""
    from .jobs import run_due

    site = ctx.site()
    if name and name not in {j.name for j in site.jobs}:
        raise click.ClickException(f"no job named {name}")
    failed = False
    for job_name, outcome in run_due(site, only=name, force=force):
        click.echo(f"{job_name}: {outcome}")
        failed |= outcome == "failed"
    if failed:
        sys.exit(1)


@cli.group()
def settings() -> None:
    """Settings declared by core and plugins."""


@settings.command("list")
@click.option("--plugin", default=None)
@pass_ctx
def settings_list(ctx: Context, plugin: str | None) -> None:
    from .i18n import use_language

    site = ctx.site()
    with site.db.session(write=False) as session, use_language(site.catalogs, "en", site.config.timezone):
        for key, setting in sorted(site.settings.declared.items()):
            if plugin and setting.plugin != plugin:
                continue
            value = setting.format(site.settings.get(key, session))
            rule = f"[{setting.rule}] " if setting.rule else ""
            click.echo(f"{key:44} = {value:24} ({site.settings.source(key, session)}) {rule}{setting.label}")


@settings.command("set")
@click.argument("key")
@click.argument("value")
@pass_ctx
def settings_set(ctx: Context, key: str, value: str) -> None:
    site = ctx.site()
    stored = site.db.run(lambda s: site.settings.set(s, key, value))
    click.echo(f"{key} = {site.settings.setting(key).format(stored)}")


@settings.command("reset")
@click.argument("key")
@pass_ctx
def settings_reset(ctx: Context, key: str) -> None:
    site = ctx.site()
    site.db.run(lambda s: site.settings.reset(s, key))
    click.echo(f"{key} reset")


@cli.group()
def i18n() -> None:
    """Translation catalogs (one Babel domain per plugin; see docs/translate.md)."""


@i18n.command("update")
@click.option("--domain", default=None, help="Only this domain (fuwu = core, or a plugin name).")
def i18n_update(domain: str | None) -> None:
    """Extract messages and merge them into every language's .po file."""
    from . import i18n_tools

    for d in i18n_tools.domains():
        if domain and d.name != domain:
            continue
        missing = i18n_tools.update(d)
        click.echo(f"{d.name}: " + ", ".join(f"{lang} {n} to translate" for lang, n in missing.items()))


@i18n.command("compile")
def i18n_compile() -> None:
    """Compile .po files to .mo (optional: catalogs also load from .po)."""
    from . import i18n_tools

    click.echo(f"{i18n_tools.compile_all()} catalogs compiled")


@i18n.command("check")
def i18n_check() -> None:
    """List untranslated, fuzzy or missing messages; exit 1 if any."""
    from . import i18n_tools

    problems = list(i18n_tools.check())
    for problem in problems:
        click.echo(str(problem))
    if problems:
        raise click.ClickException(f"{len(problems)} translation problems")
    click.echo("all catalogs complete")


def main() -> None:
    """Console entry point: one line per error, never a traceback."""
    if os.environ.get("FUWU_DEBUG"):
        cli()
        return
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (ValidationError,) as exc:
        details = "; ".join(f"{k}: {v!s}" for k, v in exc.errors.items())
        click.echo(f"Error: {details or exc}", err=True)
        sys.exit(1)
    except FuwuError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:
        from sqlalchemy.exc import OperationalError, ProgrammingError

        if not isinstance(exc, OperationalError | ProgrammingError):
            click.echo(f"Error: {type(exc).__name__}: {exc} (set FUWU_DEBUG=1 for details)", err=True)
            sys.exit(1)
        reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
        click.echo(f"Error: database: {reason} (is the schema up to date? run `fuwu db upgrade`)", err=True)
        sys.exit(1)

