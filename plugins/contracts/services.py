"""The contracts plugin's work on the database: load rows, ask ``rules``, write.

Pages, the daily job, event listeners and other plugins (through the
``sla_deadlines`` hook) all come through here, so each rule has one path.
Functions that need settings or the working calendar take the ``site``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload, lazyload

from fuwu import timeline
from fuwu.errors import ValidationError
from fuwu.i18n import N_, Month, format_day
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Contract, Customer, Department, Role, RolePermission, Staff, contract_product
from fuwu.notifications import notify
from fuwu.web.forms import search_text

from . import rules
from .models import ContractTerms, Reminder, Renewal, ServicePeriod, SlaLevel, Visit

SOURCE = "contracts"
#: where the plugin's pages are mounted (register_routes)
PREFIX = "/contracts"


def contract_url(contract_id: int) -> str:
    return f"{PREFIX}/service/{contract_id}"


# --- Periods (CON-1, CON-2) ---------------------------------------------------


def periods_by_contract(session: Session, contract_ids: Iterable[int]) -> dict[int, list[ServicePeriod]]:
    """Every period of these contracts, oldest first: one query."""
    ids = sorted(set(contract_ids))
    result: dict[int, list[ServicePeriod]] = {i: [] for i in ids}
    if ids:
        for p in session.scalars(select(ServicePeriod).where(ServicePeriod.contract_id.in_(ids))
                                 .order_by(ServicePeriod.starts_on, ServicePeriod.id)):
            result[p.contract_id].append(p)
    return result


def products_by_contract(session: Session, contract_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    ids = sorted(set(contract_ids))
    found: dict[int, set[int]] = {i: set() for i in ids}
    if ids:
        rows = session.execute(select(contract_product.c.contract_id, contract_product.c.product_id)
                               .where(contract_product.c.contract_id.in_(ids)))
        for contract_id, product_id in rows:
            found[contract_id].add(product_id)
    return {k: frozenset(v) for k, v in found.items()}


def facts(period: ServicePeriod, customer_id: int, product_ids: frozenset[int] = frozenset()) -> rules.PeriodFacts:
    return rules.PeriodFacts(period.id, period.contract_id, customer_id, period.starts_on, period.ends_on,
                             product_ids)


def covering(session: Session, customer_id: int, at: date | datetime, product_id: int | None = None,
             tz: str = rules.DEFAULT_TZ) -> ServicePeriod | None:
    """The period covering a customer (and product) at a moment, from the database.

    Loads the customer's service periods and asks ``rules.covering_period``.
    """
    day = rules.local_day(at, tz)
    rows = session.execute(
        select(ServicePeriod, Contract.customer_id).join(Contract, Contract.id == ServicePeriod.contract_id)
        .where(Contract.customer_id == customer_id, Contract.kind == "service",
               ServicePeriod.starts_on <= day, ServicePeriod.ends_on >= day)).all()
    products = products_by_contract(session, [p.contract_id for p, _c in rows])
    by_id = {p.id: p for p, _c in rows}
    found = rules.covering_period([facts(p, c, products[p.contract_id]) for p, c in rows],
                                  customer_id=customer_id, at=day, product_id=product_id)
    return by_id[found.id] if found else None


def ensure_first_period(session: Session, contract: Contract) -> ServicePeriod | None:
    """Give a service contract its first period from its own dates (CON-1, CON-2),
    unless it has one already. Safe to call twice."""
    if contract.kind != "service" or contract.id is None:
        return None
    if session.scalar(select(ServicePeriod.id).where(ServicePeriod.contract_id == contract.id).limit(1)):
        return None
    dates = rules.first_period(contract.signed_on, contract.installed_on, contract.ends_on)
    if dates is None:
        return None
    period = ServicePeriod(contract_id=contract.id, starts_on=dates[0], ends_on=dates[1], source="signing",
                           amount=contract.amount or Decimal("0.00"))
    session.add(period)
    session.flush()
    return period


def follow_contract(session: Session, contract: Contract, changes: dict) -> None:
    """A contract was edited in core: keep its periods following it (CON-1, CON-2).

    The first period moves with the installation (or signing) date while it is
    the only one; the last period's end follows the contract's validity.
    """
    if contract.kind != "service":
        return
    periods = list(session.scalars(select(ServicePeriod).where(ServicePeriod.contract_id == contract.id)
                                   .order_by(ServicePeriod.starts_on, ServicePeriod.id)))
    if not periods:
        ensure_first_period(session, contract)
        return
    if len(periods) == 1 and periods[0].source in ("signing", "migration") and (
            "installed_on" in changes or "signed_on" in changes):
        start = rules.period_start(contract.signed_on, contract.installed_on)
        if start <= periods[0].ends_on:
            periods[0].starts_on = start
    last = periods[-1]
    if "ends_on" in changes and contract.ends_on is not None and contract.ends_on >= last.starts_on:
        last.ends_on = contract.ends_on


def check_period(session: Session, contract_id: int, starts_on: date, ends_on: date,
                 exclude_id: int | None = None) -> dict:
    """Field errors for a period (end after start, no overlap in one contract)."""
    if ends_on < starts_on:
        return {"ends_on": _l("The period must end on or after the day it starts.")}
    others = periods_by_contract(session, [contract_id])[contract_id]
    clash = rules.overlapping([facts(p, 0) for p in others], starts_on, ends_on, exclude_id)
    if clash is not None:
        return {"starts_on": _l("This overlaps the period %(start)s – %(end)s of the same contract.",
                                start=format_day(clash.starts_on), end=format_day(clash.ends_on))}
    return {}


# --- Terms and settings ---------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """A contract's terms with the site's settings filled in."""

    row: ContractTerms | None
    level: SlaLevel | None
    level_is_default: bool
    policy: str
    free_visits: int
    free_days: int
    responsible: Staff | None


def terms_by_contract(session: Session, contract_ids: Iterable[int]) -> dict[int, ContractTerms]:
    ids = sorted(set(contract_ids))
    if not ids:
        return {}
    # names only: the people's roles are not needed here (Staff loads them eagerly by default)
    query = (select(ContractTerms).where(ContractTerms.contract_id.in_(ids))
             .options(joinedload(ContractTerms.responsible).lazyload(Staff.roles)))
    return {t.contract_id: t for t in session.scalars(query)}


def levels(session: Session, *, active_only: bool = False) -> list[SlaLevel]:
    query = select(SlaLevel).order_by(SlaLevel.sequence, SlaLevel.id)
    if active_only:
        query = query.where(SlaLevel.active.is_(True))
    return list(session.scalars(query))


_LEVELS = "contracts.levels_by_code"


def level_by_code(session: Session, code: str) -> SlaLevel | None:
    """Levels are read once per unit of work (lists ask for them on every row)."""
    cached = session.info.get(_LEVELS)
    if cached is None:
        cached = session.info[_LEVELS] = {lv.code: lv for lv in levels(session)}
    return cached.get(code)


def forget_levels(session: Session) -> None:
    session.info.pop(_LEVELS, None)


def default_level(site, session: Session, *, in_warranty: bool = True) -> SlaLevel | None:
    key = "contracts.sla_level_default" if in_warranty else "contracts.sla_level_out_of_warranty"
    return level_by_code(session, site.settings.get(key, session))


def effective_terms(site, session: Session, row: ContractTerms | None, contract: Contract,
                    staff: dict[int, Staff] | None = None) -> Terms:
    get = lambda key: site.settings.get(key, session)  # noqa: E731
    level = row.sla_level if row is not None and row.sla_level is not None else None
    responsible = row.responsible if row is not None and row.responsible is not None else None
    if responsible is None and contract.signed_by_id:
        responsible = (staff or {}).get(contract.signed_by_id) or session.get(Staff, contract.signed_by_id)
    return Terms(
        row=row,
        level=level or default_level(site, session),
        level_is_default=level is None,
        # CON-4: the contract's own choice, else the site's policy and numbers
        policy=(row.visit_policy if row is not None and row.visit_policy else get("contracts.visit_policy")),
        free_visits=(row.free_visits if row is not None and row.free_visits is not None
                     else get("contracts.free_visits")),
        free_days=(row.free_days if row is not None and row.free_days is not None else get("contracts.free_days")),
        responsible=responsible,
    )


def terms_row(session: Session, contract: Contract) -> ContractTerms:
    row = session.scalar(select(ContractTerms).where(ContractTerms.contract_id == contract.id))
    if row is None:
        row = ContractTerms(contract_id=contract.id)
        session.add(row)
    return row


# --- SLA (CON-3) --------------------------------------------------------------


def milestones(site, session: Session, level: SlaLevel) -> list[rules.Milestone]:
    """The level's milestones with the regulation's value where it has none of its own."""
    result = []
    for m in level.milestones:
        amount = m.amount if m.amount is not None else (
            site.settings.get(m.setting_key, session) if m.setting_key in site.settings else None)
        if amount:
            result.append(rules.Milestone(m.key, m.label, int(amount), m.unit))
    return result


@dataclass(frozen=True)
class SlaAnswer:
    level: SlaLevel
    in_warranty: bool
    period: ServicePeriod | None
    deadlines: list[rules.Deadline]


def sla_answer(site, session: Session, contract: Contract, started_at: datetime,
               level_code: str | None = None) -> SlaAnswer | None:
    """CON-3: which level applies to an incident on ``contract`` at ``started_at``
    and the deadline of each of its milestones, on the level's clock."""
    period = covering_for_contract(session, contract, started_at, site.config.timezone)
    if level_code:
        level = level_by_code(session, level_code)
    elif period is not None:
        row = terms_by_contract(session, [contract.id]).get(contract.id)
        level = effective_terms(site, session, row, contract).level
    else:
        level = default_level(site, session, in_warranty=False)
    if level is None:
        return None
    calendar = site.calendar(session, round_the_clock=level.round_the_clock)
    deadlines = rules.milestone_deadlines(started_at, milestones(site, session, level), calendar)
    return SlaAnswer(level, period is not None and level.in_warranty, period, deadlines)


def covering_for_contract(session: Session, contract: Contract, at: date | datetime,
                          tz: str = rules.DEFAULT_TZ) -> ServicePeriod | None:
    periods = periods_by_contract(session, [contract.id])[contract.id]
    found = rules.covering_period([facts(p, contract.customer_id) for p in periods],
                                  customer_id=contract.customer_id, at=at, tz=tz)
    return next((p for p in periods if found and p.id == found.id), None)


# --- Visits (CON-4) -----------------------------------------------------------


def window_start(site, session: Session, periods: Sequence[ServicePeriod], period: ServicePeriod | None) -> date | None:
    """Where free visits are counted from: the covering period's start, or the
    first period's when the entitlement runs over the whole contract (CON-4)."""
    if period is None:
        return None
    if site.settings.get("contracts.entitlement_per_period", session):
        return period.starts_on
    return min(p.starts_on for p in periods)


def recompute_visits(site, session: Session, contract: Contract, terms: Terms | None = None) -> list[Visit]:
    """Decide again, in date order, which of the contract's visits are free (CON-4).

    Run after any visit is added, changed or removed, and after the terms
    change, so "the 4th visit" stays the 4th. A recorded dispute decision
    stays as it is: it overrides the rule, it is not part of it.
    """
    terms = terms or effective_terms(site, session, terms_by_contract(session, [contract.id]).get(contract.id),
                                     contract)
    periods = periods_by_contract(session, [contract.id])[contract.id]
    products = products_by_contract(session, [contract.id])[contract.id]
    period_facts = [facts(p, contract.customer_id, products) for p in periods]
    by_id = {p.id: p for p in periods}
    visits = list(session.scalars(select(Visit).where(Visit.contract_id == contract.id)
                                  .order_by(Visit.visited_on, Visit.id)))
    calendar = site.calendar(session)
    inputs = []
    for v in visits:
        found = rules.covering_period(period_facts, customer_id=contract.customer_id, at=v.visited_on,
                                      product_id=v.product_id)
        period = by_id.get(found.id) if found else None
        v.period_id = period.id if period else None
        inputs.append(rules.VisitFacts(v.id, v.visited_on, window_start(site, session, periods, period),
                                       v.problem, v.manufacturer_warranty))
    answers = rules.visit_entitlements(inputs, policy=terms.policy, free_visits=terms.free_visits,
                                       free_days=terms.free_days, calendar=calendar)
    for v in visits:
        answer = answers[v.id]
        v.free, v.reason, v.reason_params, v.ordinal = answer.free, answer.reason, answer.params, answer.ordinal
    return visits


def record_visit(site, session: Session, contract: Contract, visit: Visit) -> Visit:
    visit.contract_id = contract.id
    session.add(visit)
    session.flush()
    recompute_visits(site, session, contract)
    if visit.charged:
        charged_on_timeline(session, contract, visit)
        if visit.disputed and visit.decision is None:
            ask_for_decision(session, contract, visit)
    return visit


def ask_for_decision(session: Session, contract: Contract, visit: Visit) -> None:
    """004 charging §3: the engineer calls the salesperson, who decides; the
    notification carries the link to the decision form."""
    person = responsible_people(session, [contract]).get(contract.id)
    customer = session.get(Customer, contract.customer_id)
    salesperson = session.get(Staff, customer.sales_staff_id) if customer.sales_staff_id else None
    for staff in {s.id: s for s in (salesperson, person) if s is not None and s.active}.values():
        notify(session, staff, N_("%(customer)s disputes the charge for the visit on %(day)s: please decide"),
               url=f"{PREFIX}/visits/{visit.id}/decision", source=SOURCE, email=True, customer=customer.name,
               day=visit.visited_on)


def charged_on_timeline(session: Session, contract: Contract, visit: Visit) -> None:
    timeline.append(session, contract.customer_id,
                    N_("Charged on-site visit on %(day)s (contract %(number)s): %(summary)s"),
                    source=SOURCE, kind="visit_charged", ref=visit, day=visit.visited_on,
                    number=contract.number, summary=visit.summary)


def decide(session: Session, contract: Contract, visit: Visit, decision: str, actor: Staff, comment: str,
           now: datetime) -> None:
    """Record the salesperson's or department head's decision on a disputed
    charge (004 charging §3, §5); the engineer follows it."""
    visit.disputed = True
    visit.decision = decision
    visit.decided_by_id = actor.id
    visit.decided_at = now
    visit.decision_comment = comment
    message = (N_("Charge for the visit on %(day)s waived by %(staff)s: %(comment)s") if decision == "waive" else
               N_("Charge for the visit on %(day)s confirmed by %(staff)s: %(comment)s"))
    timeline.append(session, contract.customer_id, message, source=SOURCE, kind="visit_decision", ref=visit,
                    day=visit.visited_on, staff=actor.name, comment=comment)


def used_visits(visits: Iterable[Visit], start: date | None, today: date) -> int:
    """Software visits counted against the allowance since ``start``."""
    if start is None:
        return 0
    return sum(1 for v in visits if v.problem == "software" and start <= v.visited_on <= today)


# --- Renewal (CON-5) ------------------------------------------------------------


def open_renewal(session: Session, contract_id: int) -> Renewal | None:
    return session.scalar(select(Renewal).where(Renewal.contract_id == contract_id,
                                                Renewal.state.not_in(rules.RENEWAL_CLOSED))
                          .order_by(Renewal.id.desc()).limit(1))


def latest_renewals(session: Session, contract_ids: Iterable[int]) -> dict[int, Renewal]:
    """The newest renewal of each contract: one query."""
    ids = sorted(set(contract_ids))
    if not ids:
        return {}
    newest = (select(func.max(Renewal.id)).where(Renewal.contract_id.in_(ids))
              .group_by(Renewal.contract_id).scalar_subquery())
    query = select(Renewal).where(Renewal.id.in_(newest)).options(joinedload(Renewal.assigned_to).lazyload(Staff.roles))
    return {r.contract_id: r for r in session.scalars(query)}


def check_renewal(session: Session, contract: Contract, starts_on: date, ends_on: date,
                  exclude_renewal: Renewal | None = None) -> dict:
    errors = check_period(session, contract.id, starts_on, ends_on)
    other = open_renewal(session, contract.id)
    if other is not None and other is not exclude_renewal:
        errors.setdefault("starts_on", _l("This contract already has a renewal in progress."))
    return errors


def propose(site, session: Session, contract: Contract, actor: Staff, *, starts_on: date, ends_on: date,
            amount: Decimal, assignee_id: int | None, notes: str = "") -> Renewal:
    """Start a renewal in state "proposed" (CON-5); ValidationError on bad dates."""
    errors = check_renewal(session, contract, starts_on, ends_on)
    if errors:
        raise ValidationError(errors)
    periods = periods_by_contract(session, [contract.id])[contract.id]
    current = max(periods, key=lambda p: p.ends_on, default=None)
    renewal = Renewal(contract_id=contract.id, contract=contract, period_id=current.id if current else None,
                      starts_on=starts_on, ends_on=ends_on, amount=amount, assigned_to_id=assignee_id,
                      notes=notes)
    site.workflows.start(session, renewal, actor)
    timeline.append(session, contract.customer_id,
                    N_("Renewal of service contract %(number)s proposed: %(start)s – %(end)s"),
                    source=SOURCE, kind="renewal", ref=renewal, number=contract.number,
                    start=starts_on, end=ends_on)
    if assignee_id and assignee_id != actor.id:
        assignee = session.get(Staff, assignee_id)
        if assignee is not None:
            notify(session, assignee, N_("Renewal of service contract %(number)s (%(customer)s) is assigned to you"),
                   url=renewal_url(renewal), source=SOURCE, email=True, number=contract.number,
                   customer=contract.customer.name)
    return renewal


def renewal_url(renewal: Renewal) -> str:
    return f"{PREFIX}/renewals/{renewal.id}"


def advance(site, session: Session, renewal: Renewal, name: str, actor: Staff, comment: str = ""):
    """Take one step of a renewal through the workflow engine, with its effects.

    - agreed with the customer: the new service period is created and the
      contract's validity extended to it (CON-5, CON-2);
    - done: ``service_period_renewed`` is emitted in this same transaction
      (serial_keys renews keys on it, SK-3).
    Raises ValidationError / Forbidden before anything changes.
    """
    workflows = site.workflows
    step = workflows.of(renewal).find(renewal.state, name)
    contract = renewal.contract
    if step is not None and step.target == "agreed" and step in workflows.allowed(renewal, actor):
        errors = check_period(session, contract.id, renewal.starts_on, renewal.ends_on)
        if errors:
            raise ValidationError(errors)
    taken = workflows.transition(session, renewal, name, actor, comment)
    params = {"number": contract.number}
    if taken.target == "agreed":
        period = ServicePeriod(contract_id=contract.id, starts_on=renewal.starts_on, ends_on=renewal.ends_on,
                               source="renewal", amount=renewal.amount, notes=comment)
        session.add(period)
        session.flush()
        renewal.new_period_id = period.id
        if contract.ends_on is None or contract.ends_on < period.ends_on:
            contract.ends_on = period.ends_on
        timeline.append(session, contract.customer_id,
                        N_("Service contract %(number)s renewed with the customer: new period %(start)s – %(end)s"),
                        source=SOURCE, kind="renewal", ref=renewal, start=period.starts_on,
                        end=period.ends_on, **params)
    elif taken.target == "contacted":
        timeline.append(session, contract.customer_id,
                        N_("Customer contacted about the renewal of %(number)s"),
                        source=SOURCE, kind="renewal", ref=renewal, **params)
    elif taken.target == "updated":
        timeline.append(session, contract.customer_id,
                        N_("Software updated for the renewal of %(number)s"),
                        source=SOURCE, kind="renewal", ref=renewal, **params)
    elif taken.target == "done":
        timeline.append(session, contract.customer_id, N_("Renewal of service contract %(number)s completed"),
                        source=SOURCE, kind="renewal", ref=renewal, **params)
        period = session.get(ServicePeriod, renewal.new_period_id) if renewal.new_period_id else None
        site.events.emit(session, "service_period_renewed", contract=contract, period=period, renewal=renewal)
    elif taken.target == "declined":
        timeline.append(session, contract.customer_id,
                        N_("Renewal of service contract %(number)s declined: %(reason)s"),
                        source=SOURCE, kind="renewal", ref=renewal, reason=comment, **params)
    return taken


# --- Lists: one query for the page, a few for its relations ---------------------


def latest_end():
    """Subquery: each contract's last period end (CON-5 counts from it)."""
    return (select(ServicePeriod.contract_id, func.max(ServicePeriod.ends_on).label("ends_on"))
            .group_by(ServicePeriod.contract_id).subquery("latest_period"))


def service_contracts(user_scope, *, today: date, params, window_days: int, expiring_default: bool = False):
    """Visible service contracts with their period end (``period_end``) and
    latest renewal's state (``renewal_state``), filtered by the list's
    parameters: q, region, account_type, renewal, warranty, expiring."""
    latest = latest_end()
    newest = (select(Renewal.contract_id, func.max(Renewal.id).label("rid"))
              .group_by(Renewal.contract_id).subquery("newest_renewal"))
    last = aliased(Renewal, name="last_renewal")
    end = func.coalesce(latest.c.ends_on, Contract.ends_on).label("period_end")
    state = last.state.label("renewal_state")
    query = (select(Contract, end, state, Contract.id)
             .join(Customer, Customer.id == Contract.customer_id)
             .outerjoin(latest, latest.c.contract_id == Contract.id)
             .outerjoin(newest, newest.c.contract_id == Contract.id)
             .outerjoin(last, last.id == newest.c.rid)
             .where(Contract.kind == "service", user_scope))
    q = search_text(params)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Contract.number.ilike(like), Customer.name.ilike(like)))
    if params.get("region"):
        query = query.where(Customer.region == params["region"])
    if params.get("account_type") in ("key", "retail"):
        query = query.where(Customer.account_type == params["account_type"])
    renewal = params.get("renewal", "")
    if renewal == "none":
        query = query.where(last.id.is_(None))
    elif renewal == "open":
        query = query.where(last.state.not_in(rules.RENEWAL_CLOSED))
    elif renewal in (*rules.RENEWAL_STEPS, "declined"):
        query = query.where(last.state == renewal)
    covered = select(ServicePeriod.id).where(ServicePeriod.contract_id == Contract.id,
                                             ServicePeriod.starts_on <= today, ServicePeriod.ends_on >= today)
    if params.get("warranty") == "in":
        query = query.where(covered.exists())
    elif params.get("warranty") == "out":
        query = query.where(~covered.exists())
    days = _days(params.get("expiring"), window_days if expiring_default else None)
    if days is not None:
        # ending within N days, and those that ended in the last N days without a renewal
        query = query.where(end <= today + timedelta(days=days), end >= today - timedelta(days=days))
    return query, end


def _days(value, default: int | None) -> int | None:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if 0 < number <= 3650 else default


@dataclass
class Row:
    """One contract on a list, with what the list shows about it."""

    contract: Contract
    period_end: date | None
    current: ServicePeriod | None
    left: int | None
    urgency: str | None
    level: SlaLevel | None
    renewal: Renewal | None
    responsible: Staff | None


def rows_for(site, session: Session, contracts: Sequence[Contract], ends: Sequence[date | None],
             today: date) -> list[Row]:
    """Decorate a page of contracts: a fixed number of queries, whatever its length."""
    ids = [c.id for c in contracts]
    periods = periods_by_contract(session, ids)
    terms = terms_by_contract(session, ids)
    renewals = latest_renewals(session, ids)
    staff_ids = {c.signed_by_id for c in contracts if c.signed_by_id}
    staff = {s.id: s for s in session.scalars(select(Staff).where(Staff.id.in_(sorted(staff_ids)))
                                              .options(lazyload(Staff.roles)))} if staff_ids else {}
    urgent, soon = (site.settings.get("contracts.urgent_days", session),
                    site.settings.get("contracts.soon_days", session))
    result = []
    for contract, end in zip(contracts, ends, strict=True):
        found = rules.covering_period([facts(p, contract.customer_id) for p in periods[contract.id]],
                                      customer_id=contract.customer_id, at=today)
        current = next((p for p in periods[contract.id] if found and p.id == found.id), None)
        t = effective_terms(site, session, terms.get(contract.id), contract, staff)
        left = rules.days_left(end, today) if end else None
        result.append(Row(contract, end, current, left,
                          rules.urgency(left, urgent_days=urgent, soon_days=soon) if left is not None else None,
                          t.level if current is not None else default_level(site, session, in_warranty=False),
                          renewals.get(contract.id), t.responsible))
    return result


# --- The daily job (CON-5, CON-6) ---------------------------------------------------


def responsible_people(session: Session, contracts: Sequence[Contract]) -> dict[int, Staff]:
    """Who hears about a contract: the terms' responsible person, else who signed
    it, else the customer's salesperson, else the customer's department head."""
    ids = [c.id for c in contracts]
    terms = terms_by_contract(session, ids)
    customers = {c.id: c for c in session.scalars(select(Customer).where(
        Customer.id.in_(sorted({k.customer_id for k in contracts}))))} if contracts else {}
    wanted: dict[int, list[int | None]] = {}
    for c in contracts:
        t = terms.get(c.id)
        customer = customers.get(c.customer_id)
        wanted[c.id] = [t.responsible_id if t else None, c.signed_by_id,
                        customer.sales_staff_id if customer else None]
    dept_ids = {customers[c.customer_id].department_id for c in contracts
                if c.customer_id in customers and customers[c.customer_id].department_id}
    managers = {d.id: d.manager_id for d in session.scalars(select(Department).where(
        Department.id.in_(sorted(dept_ids))))} if dept_ids else {}
    for c in contracts:
        customer = customers.get(c.customer_id)
        wanted[c.id].append(managers.get(customer.department_id) if customer else None)
    staff_ids = {i for chain in wanted.values() for i in chain if i}
    staff = {s.id: s for s in session.scalars(select(Staff).where(Staff.id.in_(sorted(staff_ids)),
                                                                  Staff.active.is_(True)))} if staff_ids else {}
    result = {}
    for contract_id, chain in wanted.items():
        person = next((staff[i] for i in chain if i in staff), None)
        if person is not None:
            result[contract_id] = person
    return result


REMINDERS = {
    "window": N_("Service contract %(number)s of %(customer)s ends on %(end)s (%(days)s days left): "
                 "plan its renewal"),
    "urgent": N_("Service contract %(number)s of %(customer)s ends on %(end)s, in %(days)s days: renew it now"),
    "expired": N_("Service contract %(number)s of %(customer)s ended on %(end)s without a renewal"),
}


def send_reminders(site, session: Session, now: datetime) -> int:
    """CON-5: tell the responsible person when a contract enters the expiry
    window, when it becomes urgent, and when it ended unrenewed; each once per
    period end. CON-6: tell the follow-up group leads once a month that the
    month's plan is ready. Returns the number of notifications."""
    today = site.day_of(now)
    window = site.settings.get("contracts.expiry_window_days", session)
    urgent = site.settings.get("contracts.urgent_days", session)
    latest = latest_end()
    end = func.coalesce(latest.c.ends_on, Contract.ends_on)
    rows = session.execute(
        select(Contract, end.label("period_end")).outerjoin(latest, latest.c.contract_id == Contract.id)
        .where(Contract.kind == "service", end <= today + timedelta(days=window),
               end >= today - timedelta(days=window))
        .order_by(Contract.id)).all()
    contracts = [r[0] for r in rows]
    sent_before = {(r.contract_id, r.period_end, r.stage) for r in session.scalars(
        select(Reminder).where(Reminder.contract_id.in_([c.id for c in contracts])))} if contracts else set()
    people = responsible_people(session, contracts)
    customers = {c.id: c.name for c in session.scalars(select(Customer).where(
        Customer.id.in_(sorted({c.customer_id for c in contracts}))))} if contracts else {}
    count = 0
    for contract, period_end in rows:
        left = rules.days_left(period_end, today)
        stage = rules.reminder_stage(left, window_days=window, urgent_days=urgent)
        if stage is None or (contract.id, period_end, stage) in sent_before:
            continue
        person = people.get(contract.id)
        session.add(Reminder(contract_id=contract.id, period_end=period_end, stage=stage,
                             staff_id=person.id if person else None))
        if person is not None:
            notify(session, person, REMINDERS[stage], url=contract_url(contract.id), source=SOURCE, email=True,
                   number=contract.number, customer=customers.get(contract.customer_id, ""),
                   end=period_end, days=left)
            count += 1
    count += plan_notice(site, session, today)
    return count


def plan_notice(site, session: Session, today: date) -> int:
    """CON-6: once a month, the group leads learn how many renewals fall due."""
    first = today.replace(day=1)
    done = session.scalar(select(Reminder.id).where(Reminder.contract_id.is_(None), Reminder.stage == "plan",
                                                    Reminder.period_end == first))
    if done:
        return 0
    session.add(Reminder(contract_id=None, period_end=first, stage="plan"))
    due = session.scalar(select(func.count(func.distinct(ServicePeriod.contract_id)))
                         .where(ServicePeriod.ends_on >= first, ServicePeriod.ends_on <= rules.month_end(first)))
    leads = session.scalars(select(Staff).where(
        Staff.active.is_(True),
        Staff.roles.any(Role.permissions.any(and_(RolePermission.permission == "contracts.plan.view",
                                                  RolePermission.revoked.is_(False)))))).all()
    for lead in leads:
        notify(session, lead, N_("Service-contract plan for %(month)s: %(n)s service periods end this month"),
               url=f"{PREFIX}/plan?month={first:%Y-%m}", source=SOURCE, month=Month(first), n=due or 0)
    return len(leads)


# --- The monthly plan (CON-6) -------------------------------------------------------


@dataclass
class PlanRow:
    contract: Contract
    period: ServicePeriod
    carried_over: bool
    renewal: Renewal | None
    assignee: Staff | None
    progress: tuple[int, int] | None
    last_step: object | None


def plan(site, session: Session, user_scope, first: date, today: date) -> list[PlanRow]:
    """Periods ending in the month, plus earlier ones still unrenewed (carried
    over, within the expiry window), with the renewal that answers each."""
    from fuwu.workflow import WorkflowLog

    last = month_end(first)
    window = site.settings.get("contracts.expiry_window_days", session)
    latest = latest_end()
    rows = session.execute(
        select(ServicePeriod, Contract).join(Contract, Contract.id == ServicePeriod.contract_id)
        .join(Customer, Customer.id == Contract.customer_id)
        .outerjoin(latest, latest.c.contract_id == Contract.id)
        .where(Contract.kind == "service", user_scope,
               or_(and_(ServicePeriod.ends_on >= first, ServicePeriod.ends_on <= last),
                   and_(ServicePeriod.ends_on < first, ServicePeriod.ends_on >= first - timedelta(days=window),
                        ServicePeriod.ends_on == latest.c.ends_on)))
        .options(contains_eager(Contract.customer))
        .order_by(ServicePeriod.ends_on, Contract.id)).all()
    period_ids = [p.id for p, _c in rows]
    renewals: dict[int, Renewal] = {}
    if period_ids:
        for r in session.scalars(select(Renewal).where(Renewal.period_id.in_(period_ids)).order_by(Renewal.id)):
            renewals[r.period_id] = r  # the newest answer per period
    logs: dict[int, WorkflowLog] = {}
    if renewals:
        for log in session.scalars(select(WorkflowLog).where(
                WorkflowLog.record_table == Renewal.__tablename__,
                WorkflowLog.record_id.in_([r.id for r in renewals.values()])).order_by(WorkflowLog.id)):
            logs[log.record_id] = log
    people = responsible_people(session, [c for _p, c in rows])
    result = []
    for period, contract in rows:
        renewal = renewals.get(period.id)
        result.append(PlanRow(contract, period, period.ends_on < first, renewal,
                              (renewal.assigned_to if renewal and renewal.assigned_to else people.get(contract.id)),
                              rules.progress(renewal.state) if renewal else None,
                              logs.get(renewal.id) if renewal else None))
    return result


def month_end(first: date) -> date:
    return rules.month_end(first)

