"""Permissions: ``<plugin>.<object>.<action>`` names granted to roles (CORE-3)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import ConfigError
from .i18n import lazy_gettext as _l

NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Permission:
    name: str
    label: object  # a lazy translatable string
    plugin: str = ""

    @property
    def group(self) -> str:
        return self.name.split(".", 1)[0]


class Permissions:
    """Every permission the enabled plugins declared."""

    def __init__(self, declared: Iterable[Permission]):
        self.by_name: dict[str, Permission] = {}
        for perm in declared:
            if not NAME.match(perm.name):
                raise ConfigError(_l("Permission %(name)s must look like plugin.object.action."), name=perm.name)
            if perm.name in self.by_name:
                raise ConfigError(_l("Permission %(name)s is declared twice."), name=perm.name)
            self.by_name[perm.name] = perm

    def __contains__(self, name: str) -> bool:
        return name in self.by_name

    def __iter__(self):
        return iter(sorted(self.by_name.values(), key=lambda p: p.name))
