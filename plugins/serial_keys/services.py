"""The installed base's operations: issue, renew, revoke keys; entitlement
lookup; API tokens; written applications. Called by routes, listeners, the
import and the CLI, always inside one unit of work."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime

from fuwu import timeline
from fuwu.errors import FuwuError
from fuwu.i18n import N_
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Contract, Customer, Staff
from fuwu.site import site_of
from fuwu_plugins.contracts import rules as contract_rules
from fuwu_plugins.contracts import services as contracts
from fuwu_plugins.contracts.models import ServicePeriod, SlaLevel
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from . import rules
from .models import ApiToken, Application, KeyEvent, ProductKey

SOURCE = "serial_keys"


class KeyRenewalFailed(FuwuError):
    """Not a ValidationError on purpose: it must roll the whole renewal back,
    and a page that catches ValidationError would commit the rest."""

    status = 409
    default_message = _l("The product keys could not be renewed; nothing was changed.")


def now() -> datetime:
    return datetime.now(UTC)


def log(session: Session, key: ProductKey, action: str, actor: Staff | None, *, old_serial: str = "",
        note: str = "") -> KeyEvent:
    event = KeyEvent(key_id=key.id, action=action, actor_id=actor.id if actor else session.info.get("actor_id"),
                     at=now(), serial_number=key.serial_number, old_serial_number=old_serial,
                     expires_on=key.expires_on, note=note[:300])
    session.add(event)
    return event


def current_period(session: Session, contract_id: int | None) -> ServicePeriod | None:
    """The newest period of a contract: what its keys are valid for (SK-2)."""
    if contract_id is None:
        return None
    return session.scalar(select(ServicePeriod).where(ServicePeriod.contract_id == contract_id)
                          .order_by(ServicePeriod.ends_on.desc(), ServicePeriod.id.desc()).limit(1))


def issue(session: Session, key: ProductKey, actor: Staff | None, *, action: str = "issued", note: str = "",
          timeline_entry: bool = True) -> ProductKey:
    """Register an installed product's key (SK-2); valid for its contract's period."""
    key.serial_number = rules.normalise(key.serial_number)
    key.service_code = rules.normalise(key.service_code)
    key.dongle_number = rules.normalise(key.dongle_number) or None
    if key.contract_id is not None and key.expires_on is None:
        period = current_period(session, key.contract_id)
        if period is not None:
            key.period_id, key.expires_on = period.id, period.ends_on
    session.add(key)
    session.flush()
    log(session, key, action, actor, note=note)
    if timeline_entry:
        timeline.append(session, key.customer_id, N_("Product key %(serial)s registered"), source=SOURCE,
                        kind="key", ref=key, serial=key.serial_number)
    return key


def revoke(session: Session, key: ProductKey, actor: Staff, note: str) -> None:
    key.revoked = True
    log(session, key, "revoked", actor, note=note)
    timeline.append(session, key.customer_id, N_("Product key %(serial)s revoked: %(reason)s"), source=SOURCE,
                    kind="key", ref=key, serial=key.serial_number, reason=note)


def renew_contract_keys(session: Session, contract: Contract, period: ServicePeriod | None, renewal=None) -> int:
    """SK-3: a contract's new service period renews its keys, in the same
    transaction as the renewal (an error here rolls the renewal back)."""
    if period is None:
        return 0
    site = site_of(session)
    numbering = site.settings.get("serial_keys.renewal_numbering", session)
    scheme = site.settings.get("serial_keys.serial_scheme", session)
    actor_id = session.info.get("actor_id")
    actor = session.get(Staff, actor_id) if actor_id else None
    keys = list(session.scalars(select(ProductKey).where(ProductKey.contract_id == contract.id,
                                                         ProductKey.revoked.is_(False))
                                .options(selectinload(ProductKey.product)).with_for_update(of=ProductKey)))
    for key in keys:
        old = key.serial_number
        if rules.renewal_changes_serial(numbering):
            key.serial_number = _unused_serial(session, key.product.code, period.starts_on.year, scheme)
        key.period_id, key.expires_on = period.id, period.ends_on
        session.flush()  # a serial that clashes fails here, inside the renewal's transaction
        log(session, key, "renewed", actor, old_serial=old if old != key.serial_number else "")
    if keys:
        timeline.append(session, contract.customer_id,
                        N_("%(n)s product keys of contract %(number)s renewed until %(end)s"), source=SOURCE,
                        kind="key", ref=contract, n=len(keys), number=contract.number,
                        end=period.ends_on)
    return len(keys)


def _unused_serial(session: Session, product_code: str, year: int, scheme: str) -> str:
    for _attempt in range(5):
        serial = rules.new_serial(product_code, year, scheme)
        if not session.scalar(select(ProductKey.id).where(ProductKey.serial_number == serial)):
            return serial
    # only a scheme without {random} runs out: the renewal is refused as a whole
    raise KeyRenewalFailed(_l("No unused serial number under the pattern %(scheme)s: the product keys could not be "
                              "renewed and nothing was changed. Ask an administrator to add {random} to the "
                              "pattern."), scheme=scheme)


# --- Entitlement lookup ----------------------------------------------------------------


def find_key(session: Session, number: str, where=None) -> ProductKey | None:
    """A key by serial number, dongle number or service code (exact, case-blind).

    ``where``: the record rule (a clause on ``Customer``); keys outside it are
    not found, so a number never reveals another customer's data.
    """
    number = rules.normalise(number)
    if not number:
        return None
    query = (select(ProductKey).join(Customer, Customer.id == ProductKey.customer_id)
             .where(or_(ProductKey.serial_number == number, ProductKey.dongle_number == number,
                        ProductKey.service_code == number))
             .options(joinedload(ProductKey.customer), joinedload(ProductKey.product),
                      joinedload(ProductKey.contract))
             # an exact serial or dongle match first; a shared service code last
             .order_by((ProductKey.service_code == number).asc(), ProductKey.revoked.asc(), ProductKey.id.desc())
             .limit(1))
    if where is not None:
        query = query.where(where)
    return session.scalar(query)


def candidates(session: Session, prefix: str, where, limit: int = 10) -> list[ProductKey]:
    """Keys whose serial, dongle or service number starts with ``prefix``, for
    the as-you-type list. Range conditions rather than LIKE, so each column's
    index is seeked on SQLite and PostgreSQL alike (numbers are stored upper-case)."""
    prefix = rules.normalise(prefix)
    if len(prefix) < 3:
        return []
    found: dict[int, ProductKey] = {}
    for column in (ProductKey.serial_number, ProductKey.dongle_number, ProductKey.service_code):
        query = (select(ProductKey).join(Customer, Customer.id == ProductKey.customer_id)
                 .where(column >= prefix, column < prefix + "\uffff", where)
                 .options(joinedload(ProductKey.customer), joinedload(ProductKey.product))
                 .order_by(column).limit(limit))
        for key in session.scalars(query):
            found.setdefault(key.id, key)
    return list(found.values())[:limit]


@dataclass
class Entitlement:
    key: ProductKey
    state: str
    contract: Contract | None
    period: ServicePeriod | None
    in_warranty: bool
    level: SlaLevel | None
    free_visits_left: int | None
    free_until: date | None

    def as_json(self) -> dict:
        k = self.key
        return {
            "serial_number": k.serial_number, "service_code": k.service_code, "dongle_number": k.dongle_number,
            "key_state": self.state, "key_expires_on": k.expires_on.isoformat() if k.expires_on else None,
            "customer": {"id": k.customer_id, "name": k.customer.name},
            "product": {"code": k.product.code, "name": k.product.name},
            "contract": self.contract.number if self.contract else None,
            "period": ({"starts_on": self.period.starts_on.isoformat(), "ends_on": self.period.ends_on.isoformat()}
                       if self.period else None),
            "in_warranty": self.in_warranty,
            "sla_level": {"code": self.level.code, "name": self.level.name} if self.level else None,
            "free_visits_left": self.free_visits_left,
            "free_until": self.free_until.isoformat() if self.free_until else None,
        }


def entitlement(site, session: Session, key: ProductKey, day: date) -> Entitlement:
    """Customer, contract, current period, warranty, SLA level and free visits of a key."""
    contract = key.contract
    period = None
    if contract is not None:
        period = contracts.covering_for_contract(session, contract, day, site.config.timezone)
    if period is None:  # keys without a contract: whatever service period covers the product
        period = contracts.covering(session, key.customer_id, day, key.product_id, site.config.timezone)
        if period is not None:
            contract = period.contract
    state = key.state(day)
    free_left = free_until = None
    if period is not None and contract is not None and state != "revoked":
        row = contracts.terms_by_contract(session, [contract.id]).get(contract.id)
        terms = contracts.effective_terms(site, session, row, contract)
        level = terms.level
        periods = contracts.periods_by_contract(session, [contract.id])[contract.id]
        start = contracts.window_start(site, session, periods, period)
        from fuwu_plugins.contracts.models import Visit

        visits = session.scalars(select(Visit).where(Visit.contract_id == contract.id))
        allowance = contract_rules.allowance(policy=terms.policy, free_visits=terms.free_visits,
                                             free_days=terms.free_days, window_start=start,
                                             used=contracts.used_visits(visits, start, day), today=day,
                                             calendar=site.calendar(session))
        if allowance is not None:
            free_left = (allowance.visits_left if allowance.policy == "visits" else allowance.working_days_left)
            free_until = allowance.free_until
        in_warranty = bool(level is None or level.in_warranty)
    else:
        level = contracts.default_level(site, session, in_warranty=False)
        in_warranty = False
    return Entitlement(key, state, contract, period, in_warranty, level, free_left, free_until)


# --- API tokens ---------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, label: str, actor: Staff) -> tuple[ApiToken, str]:
    """A new token: shown once, only its hash is stored."""
    secret = "sk_" + secrets.token_urlsafe(32)
    row = ApiToken(label=label, token_hash=_hash(secret), prefix=secret[:10], issued_by_id=actor.id)
    session.add(row)
    session.flush()
    return row, secret


def check_token(session: Session, header: str | None) -> ApiToken | None:
    if not header or not header.startswith("Bearer "):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(header[7:].strip())))
    if row is None or row.revoked_at is not None:
        return None
    issuer = row.issued_by
    # the token acts for who issued it: revoked with their permission or account
    if issuer is None or not issuer.active or not issuer.can("serial_keys.api.manage"):
        return None
    return row


# --- Written applications (SK-5) ----------------------------------------------------------

APPLICATION_MESSAGES = {
    "password": N_("Written application %(number)s: super-administrator password recovered, told to %(contact)s"),
    "clear_data": N_("Written application %(number)s: data cleared, %(contact)s informed"),
}


def record_application(session: Session, application: Application) -> Application:
    session.add(application)
    session.flush()
    timeline.append(session, application.customer_id, APPLICATION_MESSAGES[application.kind], source=SOURCE,
                    kind="application", ref=application, number=f"SA-{application.id:05d}",
                    contact=application.contact_name)
    return application
