"""What plugins hand the web shell: menu entries, dashboard cards, customer panels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class MenuItem:
    label: Any
    url: str
    #: groups entries under one heading in the navigation
    section: Any = ""
    order: int = 100
    icon: str = ""


@dataclass(frozen=True)
class Widget:
    """A dashboard card: ``template`` rendered with ``context``."""

    title: Any
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100


@dataclass(frozen=True)
class Panel:
    """A section on the customer page."""

    title: Any
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100
