"""Signed one-time links for people without an account.

A link names one record and one purpose (a customer rating a service, a
trainee taking an exam, a customer following a complaint). Its token is
``<id>.<nonce>.<signature>``: HMAC-SHA256 with the site secret over the row's
id, nonce, purpose, record and expiry. The row makes links revocable and
single-use; the signature means a guessed or edited token is refused before
anything of the record is read.

What a link opens is its *purpose*: a ``LinkPurpose`` in the site's registry
(``purposes(site)``), whose handler the page ``/l/<token>`` calls once the
token is valid. Core registers ``core.contact_confirm`` (a customer's contact
confirms or corrects their own phone and e-mail). A plugin adds its own::

    from fuwu.links import LinkPurpose, register_purpose

    def rate_service(visit):                      # a fuwu.links.LinkVisit
        if visit.request.method == "GET":
            return visit.render("survey/rate.html", {"order": visit.record})
        ...validate visit.request.state.form...
        visit.use()                               # consume first, then write
        visit.record.rating = ...
        return visit.render("survey/thanks.html", {})

    @hookimpl
    def register_link_purposes():
        return [LinkPurpose(
            key="survey.rate", label=_l("Rate a service"), model=ServiceOrder, handler=rate_service,
            permission="survey.order.edit",       # staff who may see and withdraw such links
            visible=lambda user, order: ...,      # the staff record rule (default: everyone)
            describe=lambda order: order.number)]

and issues a link with ``issue_for(site, session, "survey.rate", order, created_by_id=...)``,
which returns the token for the address ``fuwu.web.urls.absolute_url(request, "link", token=token)``.
(``register_purpose(site, purpose)`` adds one at run time, e.g. in tests.)

The handler runs inside the request's transaction (``visit.db``). It never
sees a refused link: a tampered token (403), or an expired, used or withdrawn
one (410) gets a page that names no record. ``visit.use()`` marks a
single-use link used atomically; call it before writing anything, so a second
submission racing the first changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from .db import Base, utcnow
from .errors import FuwuError
from .i18n import lazy_gettext as _l


class LinkRefused(FuwuError):
    """Why a link gives no data; shown on a clear page (status 403 or 410)."""

    status = 403


class LinkInvalid(LinkRefused):
    """Not a link we issued (edited, truncated, guessed, or for another purpose)."""

    status = 403


class LinkGone(LinkRefused):
    """A real link that no longer works: expired, used or withdrawn."""

    status = 410


class SignedLink(Base):
    __tablename__ = "core_signed_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(80))
    record_table: Mapped[str] = mapped_column(String(80))
    record_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    single_use: Mapped[bool] = mapped_column(default=True)
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


def _signature(secret: str, link: SignedLink) -> str:
    payload = f"{link.id}|{link.nonce}|{link.purpose}|{link.record_table}|{link.record_id}|{int(link.expires_at.timestamp())}"
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def issue(session: Session, secret: str, *, purpose: str, record, valid_for: timedelta,
          single_use: bool = True, created_by_id: int | None = None, now: datetime | None = None) -> str:
    """Create a link for ``record`` and return its token (put it in a URL)."""
    link = SignedLink(nonce=secrets.token_urlsafe(16), purpose=purpose, record_table=record.__tablename__,
                      record_id=record.id, expires_at=((now or utcnow()) + valid_for).replace(microsecond=0),
                      single_use=single_use, created_by_id=created_by_id)
    session.add(link)
    session.flush()
    return token_of(secret, link)


def token_of(secret: str, link: SignedLink) -> str:
    """The token of an issued link (derived, so staff can copy it again later)."""
    return f"{link.id}.{link.nonce}.{_signature(secret, link)}"


INVALID = _l("This link is not valid. Check that you copied all of it.")
WITHDRAWN = _l("This link has been withdrawn. Ask us for a new one if you still need it.")
EXPIRED = _l("This link has expired. Ask us for a new one if you still need it.")
USED = _l("This link has already been used.")


def verify(session: Session, secret: str, token: str, *, now: datetime | None = None) -> SignedLink:
    """The link row for a valid token of any purpose; LinkInvalid / LinkGone otherwise."""
    now = now or utcnow()
    try:
        link_id, nonce, signature = str(token).split(".")
        link = session.get(SignedLink, int(link_id)) if len(link_id) < 12 else None
    except (ValueError, AttributeError):
        link = None
    if link is None or not hmac.compare_digest(link.nonce.encode(), nonce.encode()) or \
            not hmac.compare_digest(_signature(secret, link).encode(), signature.encode()):
        raise LinkInvalid(INVALID)
    if link.revoked_at is not None:
        raise LinkGone(WITHDRAWN)
    if link.expires_at <= now:
        raise LinkGone(EXPIRED)
    if link.single_use and link.used_at is not None:
        raise LinkGone(USED)
    return link


def check(session: Session, secret: str, token: str, *, purpose: str, now: datetime | None = None) -> SignedLink:
    """The link row for a valid token of ``purpose``; LinkRefused with the reason otherwise."""
    link = verify(session, secret, token, now=now)
    if link.purpose != purpose:
        raise LinkInvalid(INVALID)
    return link


def status(link: SignedLink, now: datetime | None = None) -> str:
    """``usable``, ``used``, ``withdrawn`` or ``expired`` (for staff pages)."""
    now = now or utcnow()
    if link.revoked_at is not None:
        return "withdrawn"
    if link.single_use and link.used_at is not None:
        return "used"
    if link.expires_at <= now:
        return "expired"
    return "usable"


STATUSES = {"usable": _l("Usable"), "used": _l("Used"), "withdrawn": _l("Withdrawn"), "expired": _l("Expired")}


def use(session: Session, link: SignedLink, now: datetime | None = None) -> None:
    """Mark a single-use link used (atomically: a second concurrent use fails)."""
    if not link.single_use:
        return
    done = session.execute(update(SignedLink).where(SignedLink.id == link.id, SignedLink.used_at.is_(None),
                                                    SignedLink.revoked_at.is_(None))
                           .values(used_at=now or utcnow())).rowcount
    if done != 1:
        raise LinkGone(USED)


def revoke(session: Session, link_id: int) -> None:
    session.execute(update(SignedLink).where(SignedLink.id == link_id, SignedLink.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))


def links_of(session: Session, record_table: str, record_ids: list[int], *, purpose: str | None = None
             ) -> dict[int, list[SignedLink]]:
    """Issued links of several records in one query, newest first (for a record's page)."""
    if not record_ids:
        return {}
    query = select(SignedLink).where(SignedLink.record_table == record_table, SignedLink.record_id.in_(record_ids))
    if purpose:
        query = query.where(SignedLink.purpose == purpose)
    result: dict[int, list[SignedLink]] = {}
    for link in session.scalars(query.order_by(SignedLink.id.desc())):
        result.setdefault(link.record_id, []).append(link)
    return result


# --- Purposes: what a link opens -------------------------------------------------


@dataclass(frozen=True)
class LinkPurpose:
    """One kind of link. ``handler(visit) -> Response`` serves GET and POST of
    ``/l/<token>`` for a valid link; ``model`` is the record's class."""

    key: str
    label: Any
    model: type
    handler: Callable[[LinkVisit], Any]
    #: staff holding it may open an issued link's page and withdraw it
    permission: str
    #: the staff record rule: may ``user`` see links of ``record``? (False -> 404)
    visible: Callable[[Any, Any], bool] = field(default=lambda user, record: True)
    #: how staff pages name the record
    describe: Callable[[Any], str] = field(default=lambda record: str(record))
    #: the route name and params of the record's staff page, e.g. ("customer", {"customer_id": 3})
    staff_page: Callable[[Any], tuple[str, dict]] | None = None
    #: integer setting holding how many days a new link stays valid
    valid_days_setting: str = "core.link_valid_days"


@dataclass
class LinkVisit:
    """What a purpose's handler gets: the request, its unit of work, the link and its record."""

    request: Any
    link: SignedLink
    record: Any
    purpose: LinkPurpose
    now: datetime

    @property
    def db(self) -> Session:
        return self.request.state.db

    @property
    def site(self):
        return self.request.app.state.site

    def use(self) -> None:
        """Consume the link (single-use); raises LinkGone if someone was faster."""
        use(self.db, self.link, self.now)
        set_committed_value(self.link, "used_at", self.now)

    def render(self, template: str, context: dict | None = None, *, status: int = 200):
        """A page for the person holding the link (no staff menu; forms get a CSRF token)."""
        from .web.pages.links import render_public

        return render_public(self.request, template, {"purpose": self.purpose, **(context or {})}, status=status)


def purposes(site) -> dict[str, LinkPurpose]:
    """The site's purposes: core's, then those of plugins (hook ``register_link_purposes``),
    then any added with ``register_purpose``. Built once per site."""
    def build() -> dict[str, LinkPurpose]:
        from .web.pages.links import core_purposes

        registry: dict[str, LinkPurpose] = {}
        for purpose in list(core_purposes()) + site.plugins.collect("register_link_purposes"):
            _add(registry, purpose)
        return registry

    return site.registry("link_purposes", build)


_adding = threading.Lock()


def register_purpose(site, purpose: LinkPurpose) -> None:
    """Add a purpose to this site's registry (ConfigError if its key is taken)."""
    registry = purposes(site)
    with _adding:
        _add(registry, purpose)


def _add(registry: dict[str, LinkPurpose], purpose: LinkPurpose) -> None:
    from .errors import ConfigError

    if purpose.key in registry:
        raise ConfigError(_l("Link purpose %(key)s is registered twice."), key=purpose.key)
    registry[purpose.key] = purpose


def issue_for(site, session: Session, purpose_key: str, record, *, created_by_id: int | None = None,
              now: datetime | None = None) -> str:
    """Issue a link of a registered purpose, valid for its setting's number of days."""
    purpose = purposes(site)[purpose_key]
    if not isinstance(record, purpose.model):
        raise TypeError(f"{purpose_key} links name a {purpose.model.__name__}, not a {type(record).__name__}")
    days = site.settings.get(purpose.valid_days_setting, session)
    return issue(session, site.config.secret_key, purpose=purpose_key, record=record,
                 valid_for=timedelta(days=days), created_by_id=created_by_id, now=now)
