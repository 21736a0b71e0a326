"""Schema migrations: one Alembic environment, core as the base branch and
one branch per plugin, labelled with the plugin's name.

``upgrade`` brings core and each enabled plugin to its head. Branches of
installed but disabled plugins stay where they are (their tables and data are
kept) and their revision files stay known, so the version table always
resolves.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .plugins import CORE, available, folders

MIGRATIONS = Path(__file__).parent / "migrations"


def _all_locations(site) -> dict[str, Path]:
    """Version folders of core, the enabled plugins and installed disabled ones."""
    locations = {CORE: MIGRATIONS / "versions"}
    locations.update(site.migration_locations())
    for item in available():
        if item.plugin is not None and item.name not in locations:
            for folder in folders(item.plugin, "migration_locations"):
                locations[item.name] = Path(folder)
    return locations


def alembic_config(site, connection=None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations",
                        os.pathsep.join(str(p) for p in _all_locations(site).values() if p.exists()))
    cfg.attributes["connection"] = connection
    cfg.attributes["site"] = site
    return cfg


def upgrade(site, targets: list[str] | None = None) -> list[str]:
    """Upgrade core and every enabled plugin (or ``targets``) to head."""
    if not targets:
        script = ScriptDirectory.from_config(alembic_config(site))
        labelled = {label for rev in script.walk_revisions() for label in rev.branch_labels}
        # a plugin whose folder has no revision yet has no tables to create
        targets = [f"{CORE}@head"] + [f"{name}@head" for name in site.migration_locations()
                                      if name != CORE and name in labelled]
    with site.db.engine.begin() as connection:
        cfg = alembic_config(site, connection)
        for target in targets:
            command.upgrade(cfg, target)
    return targets


def current(site) -> dict[str, str | None]:
    """``{branch: applied revision or None}`` for core and every known branch.

    Alembic stores only heads, and a plugin head that depends on core hides
    core's row, so walk every head's ancestors (dependencies included).
    """
    with site.db.engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    script = ScriptDirectory.from_config(alembic_config(site))
    applied: dict[str, object] = {}
    todo = list(heads)
    while todo:
        rev = script.get_revision(todo.pop())
        if rev is None or rev.revision in applied:
            continue
        applied[rev.revision] = rev
        for parent in (*_as_tuple(rev.down_revision), *_as_tuple(rev.dependencies)):
            todo.append(parent)
    result: dict[str, str | None] = {name: None for name in _all_locations(site)}
    parents = {p for rev in applied.values() for p in _as_tuple(rev.down_revision)}
    for rev in applied.values():
        if rev.revision in parents:
            continue
        for label in rev.branch_labels:
            result[label] = rev.revision
    return result


def _as_tuple(value) -> tuple[str, ...]:
    if not value:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def behind(site) -> list[str]:
    """The enabled branches an upgrade would change, in a database that has a
    schema already (an empty one has nothing to lose)."""
    applied = current(site)
    if applied.get(CORE) is None:
        return []
    enabled = {CORE, *site.plugins.names}
    return [branch for branch, rev in applied.items() if branch in enabled and rev != head_of(site, branch)]


def head_of(site, branch: str) -> str | None:
    script = ScriptDirectory.from_config(alembic_config(site))
    try:
        return script.get_revision(f"{branch}@head").revision
    except Exception:
        return None


def revision(site, message: str, *, branch: str, autogenerate: bool = True, rev_id: str | None = None) -> None:
    """Create a new revision on ``branch`` (developer tool behind ``fuwu db revision``)."""
    with site.db.engine.begin() as connection:
        cfg = alembic_config(site, connection)
        locations = _all_locations(site)
        kwargs = dict(message=message, autogenerate=autogenerate, rev_id=rev_id,
                      version_path=str(locations[branch]))
        if head_of(site, branch) is None:
            kwargs.update(head="base", branch_label=branch,
                          depends_on=None if branch == CORE else head_of(site, CORE))
        else:
            kwargs["head"] = f"{branch}@head"
        command.revision(cfg, **kwargs)
