"""Saved views: a person keeps a list page as they filtered and sorted it
(the open complaints of one region, the contracts ending within 90 days)
under a name of their own, and opens it again from the dashboard. They may
share it with their department or with everyone, who then find it there too.

A view is a path and a query string of this app; opening it is following a
link, so it works for every list page of core and of every plugin without
their doing anything, and the page checks the permission as it always does.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from sqlalchemy import ForeignKey, String, UniqueConstraint, and_, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Model
from .i18n import lazy_gettext as _l
from .models import Staff

#: the views one person may keep: a short list to choose from, not an archive
MAX_VIEWS = 30
#: query parameters that are not part of a view: a page of it, an export
TRANSIENT = frozenset({"after", "before", "format", "page"})
#: who sees a view besides the person who saved it
SHARING = {"me": _l("Only me"), "department": _l("My department"), "everyone": _l("Everyone")}


class SavedView(Model):
    __tablename__ = "core_saved_view"
    __audited__ = False  # one's own bookmarks, not the company's records
    __table_args__ = (UniqueConstraint("staff_id", "name"),)

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), info={"label": _l("Name")})
    path: Mapped[str] = mapped_column(String(300))
    query: Mapped[str] = mapped_column(String(2000), default="")
    shared: Mapped[str] = mapped_column(String(20), default="me", server_default="me",
                                        info={"label": _l("Who sees it"), "choices": SHARING})

    @property
    def url(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")


def clean_query(query: str) -> str:
    """The filters and sort of a list's query string, without its page or export."""
    return urlencode([(k, v) for k, v in parse_qsl(query, keep_blank_values=False) if k not in TRANSIENT])


def views_of(db: Session, staff_id: int) -> list[SavedView]:
    return list(db.scalars(select(SavedView).where(SavedView.staff_id == staff_id).order_by(SavedView.name)
                           .limit(MAX_VIEWS)))


def shared_with(db: Session, user) -> list[tuple[SavedView, str]]:
    """The views others share with ``user`` (with everyone, or with the
    department they are in), and who shared each, by name."""
    shared = SavedView.shared == "everyone"
    if user.department_id is not None:
        shared = or_(shared, and_(SavedView.shared == "department", Staff.department_id == user.department_id))
    return [(view, name) for view, name in db.execute(
        select(SavedView, Staff.name).join(Staff, Staff.id == SavedView.staff_id)
        .where(shared, SavedView.staff_id != user.id, Staff.active)
        .order_by(SavedView.name, SavedView.id).limit(MAX_VIEWS))]
