"""Rows every site needs: built-in roles and the grants plugins ask for.

Run by ``fuwu init`` and after every ``fuwu db upgrade``. It only adds: a role
an admin renamed keeps its name, and a grant an admin removed (kept as a
``revoked`` row) is never given back.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .i18n import msgid
from .models import BUILTIN_ROLES, Role, RolePermission


def sync_roles(site, session: Session) -> int:
    """Create missing built-in roles and missing default grants; returns rows added."""
    added = 0
    roles = {r.key: r for r in session.scalars(select(Role))}
    for key, label in BUILTIN_ROLES.items():
        if key not in roles:
            roles[key] = Role(key=key, name=msgid(label), builtin=True)
            session.add(roles[key])
            added += 1
    session.flush()
    known = set(site.permissions.by_name)
    for _plugin, grants in site.plugins.collect_by_plugin("default_role_grants"):
        for role_key, names in grants.items():
            role = roles.get(role_key)
            if role is None:
                continue
            have = {p.permission for p in role.permissions}
            for name in names:
                if name in known and name not in have:
                    role.permissions.append(RolePermission(permission=name))
                    have.add(name)
                    added += 1
    return added
