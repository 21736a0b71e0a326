"""What plugins hand the web shell: menu entries, dashboard cards, customer panels, search results."""

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


#: hits a section of the search page shows; read one more to know whether there are others
SEARCH_HITS = 5


@dataclass(frozen=True)
class SearchHit:
    """One record found by the search box: what it is called, a line that
    tells it from its namesakes (its customer, its phone), and its page."""

    title: str
    url: str
    detail: str = ""

    @classmethod
    def of(cls, title: str, url: str, *details: Any) -> SearchHit:
        """A hit whose detail line is ``details`` that are not empty, joined by " · "."""
        return cls(title, url, " · ".join(str(d) for d in details if d))


@dataclass(frozen=True)
class SearchSection:
    """What one kind of record found for the search box (``search_results``)."""

    title: Any
    hits: list[SearchHit]
    #: the list page with every match, offered when there are more than ``SEARCH_HITS``
    more_url: str = ""
    order: int = 100

    @classmethod
    def of(cls, title: Any, hits: list[SearchHit], *, more_url: str = "", order: int = 100) -> SearchSection:
        """A section from up to ``SEARCH_HITS + 1`` hits: it shows ``SEARCH_HITS``
        and offers ``more_url`` only when there was one more."""
        return cls(title, hits[:SEARCH_HITS], more_url if len(hits) > SEARCH_HITS else "", order)
