"""How the contracts plugin plugs into fuwu (read this first).

Service periods (CON-1, CON-2), SLA levels (CON-3), free visits (CON-4),
renewal and the expiry board (CON-5), the monthly plan (CON-6). Only the
documented hooks and modules of the core are used.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from fuwu import Job, Permission, Setting, hookimpl
from fuwu.i18n import gettext as _
from fuwu.i18n import lazy_gettext as _l
from fuwu.workflow import State, Transition, Workflow


# --- What the plugin brings -----------------------------------------------------


@hookimpl
def register_models():
    from . import models

    return [models]


@hookimpl
def register_hookspecs():
    from . import hookspecs

    return [hookspecs]


@hookimpl
def register_routes():
    from .routes import routes

    return routes()


PERMISSIONS = [
    ("contracts.contract.view", _l("View service contracts, periods, visits and renewals")),
    ("contracts.contract.edit", _l("Edit service terms and periods")),
    ("contracts.visit.record", _l("Record on-site visits")),
    ("contracts.visit.decide", _l("Decide disputed visit charges")),
    ("contracts.renewal.propose", _l("Propose contract renewals")),
    ("contracts.renewal.agree", _l("Record renewals agreed with the customer")),
    ("contracts.renewal.process", _l("Carry out renewals (contact, software update)")),
    ("contracts.plan.view", _l("View the monthly service-contract plan")),
    ("contracts.sla.manage", _l("Edit SLA levels")),
]


@hookimpl
def register_permissions():
    return [Permission(name, label) for name, label in PERMISSIONS]


@hookimpl
def default_role_grants():
    view = "contracts.contract.view"
    return {
        "engineer": [view, "contracts.visit.record", "contracts.renewal.process"],
        "group_lead": [view, "contracts.visit.record", "contracts.renewal.propose", "contracts.renewal.process",
                       "contracts.plan.view"],
        "coordinator": [view, "contracts.visit.record"],
        # the salesperson decides disputed charges (004 charging §3)
        "sales": [view, "contracts.visit.decide", "contracts.renewal.propose", "contracts.renewal.agree"],
        # the department head decides them too (004 charging §5)
        "service_manager": [name for name, _label in PERMISSIONS],
        "finance": [view],
        "quality_supervisor": [view],
        "general_manager": [view, "contracts.plan.view"],
    }


@hookimpl
def register_settings():
    return [
        # CON-3 (001 §8; 000 part 2): the regulation's numbers, used by every SLA
        # milestone that has no number of its own (the built-in levels).
        Setting("contracts.sla_respond_hours", int, 2, _l("SLA: respond within (hours)"), rule="CON-3", minimum=1,
                maximum=720),
        Setting("contracts.sla_dispatch_hours", int, 8, _l("SLA: technician dispatched within (hours)"),
                rule="CON-3", minimum=1, maximum=720),
        Setting("contracts.sla_on_site_hours", int, 24, _l("SLA: on site within (hours)"), rule="CON-3", minimum=1,
                maximum=720),
        Setting("contracts.sla_resolve_hours", int, 48, _l("SLA: resolved within (hours)"), rule="CON-3", minimum=1,
                maximum=720),
        Setting("contracts.sla_proposal_days", int, 2, _l("Return-to-factory repair: solution proposal within "
                                                          "(working days)"), rule="CON-3", minimum=1,
                maximum=60),
        Setting("contracts.sla_repair_days", int, 5, _l("Return-to-factory repair: repaired within (working days)"),
                rule="CON-3", minimum=1, maximum=60),
        Setting("contracts.sla_level_default", str, "warranty", _l("SLA level of a contract in warranty"),
                rule="CON-3", help=_l("Code of the level used when a contract has none of its own.")),
        Setting("contracts.sla_level_out_of_warranty", str, "out_of_warranty",
                _l("SLA level outside warranty"), rule="CON-3",
                help=_l("Code of the level used when no service period covers the incident.")),
        # CON-4 (004 charging §2, §4)
        Setting("contracts.visit_policy", str, "visits", _l("Free-visit policy of contracts without their own"),
                rule="CON-4", choices=("visits", "days"),
                help=_l("visits: the first N on-site visits are free; days: visits during the first N working "
                        "days of normal use are free.")),
        Setting("contracts.free_visits", int, 3, _l("Free on-site visits"), rule="CON-4", minimum=0, maximum=100),
        Setting("contracts.free_days", int, 15, _l("Free working days of normal use"), rule="CON-4", minimum=0,
                maximum=365),
        Setting("contracts.entitlement_per_period", bool, True, _l("Free visits start again with each service "
                                                                   "period"), rule="CON-4",
                help=_l("Off: they are counted once, from the installation date.")),
        Setting("contracts.visit_fee", Decimal, Decimal("0.00"), _l("Suggested fee of a charged visit (yuan)"),
                rule="CON-4", minimum=Decimal("0"),
                help=_l("From the department's fee schedule; 0 leaves the fee to the engineer.")),
        # CON-5 (000 §7.4)
        Setting("contracts.expiry_window_days", int, 60, _l("Show contracts ending within (days)"), rule="CON-5",
                minimum=1, maximum=3650),
        Setting("contracts.soon_days", int, 30, _l("Amber on the expiry board within (days)"), rule="CON-5",
                minimum=0, maximum=3650),
        Setting("contracts.urgent_days", int, 15, _l("Red on the expiry board within (days)"), rule="CON-5",
                minimum=0, maximum=3650),
        Setting("contracts.renewal_months", int, 12, _l("Length of a proposed renewal (months)"), rule="CON-5",
                minimum=1, maximum=120),
    ]


@hookimpl
def register_workflows():
    from .models import Renewal

    # CON-5 (000 §7.4): agreed with the customer (the new period), customer
    # contacted, software updated, done. Each step: who, when, comment.
    return [Workflow(
        "contracts.renewal", _l("Service contract renewal"), Renewal,
        states=[
            State("proposed", _l("Proposed")),
            State("agreed", _l("Agreed with the customer")),
            State("contacted", _l("Customer contacted")),
            State("updated", _l("Software updated")),
            State("done", _l("Done"), read_only=True),
            State("declined", _l("Declined"), read_only=True),
        ],
        transitions=[
            Transition("agree", ("proposed",), "agreed", "contracts.renewal.agree", _l("Agreed with the customer")),
            Transition("decline", ("proposed",), "declined", "contracts.renewal.agree", _l("Customer declined"),
                       needs_reason=True),
            Transition("contact", ("agreed",), "contacted", "contracts.renewal.process", _l("Customer contacted")),
            Transition("update", ("contacted",), "updated", "contracts.renewal.process", _l("Software updated")),
            Transition("complete", ("updated",), "done", "contracts.renewal.process", _l("Complete")),
        ],
        url="/contracts/renewals/{id}",
    )]


def _daily(site, session, now):
    from .services import send_reminders

    send_reminders(site, session, now)


@hookimpl
def register_jobs():
    return [Job("contracts.expiry_reminders", _daily, every=timedelta(days=1),
                label=_l("Remind the responsible staff of service contracts about to end (CON-5, CON-6)"))]


@hookimpl
def demo_data(session, site):
    from .demo import load

    load(site, session)


# --- Hooks of the contracts plugin itself ---------------------------------------


@hookimpl
def sla_deadlines(site, session, contract, started_at, level):
    from .services import sla_answer

    return sla_answer(site, session, contract, started_at, level)


# --- Domain events -------------------------------------------------------------------


@hookimpl
def contract_signed(session, contract):
    from .services import ensure_first_period

    ensure_first_period(session, contract)


@hookimpl
def contract_changed(session, contract, changes):
    from .services import follow_contract

    follow_contract(session, contract, changes)


# --- What the plugin shows -----------------------------------------------------------


@hookimpl
def menu_items(request):
    from fuwu.web.ui import MenuItem

    user = request.state.user
    if not user.can("contracts.contract.view"):
        return []
    section = _("Service contracts")
    items = [
        MenuItem(_("Expiring contracts"), request.url_for("contracts:expiring").path, section, 20),
        MenuItem(_("Service contracts"), request.url_for("contracts:list").path, section, 21),
        MenuItem(_("Visit log"), request.url_for("contracts:visits").path, section, 22),
        MenuItem(_("SLA levels"), request.url_for("contracts:levels").path, section, 24),
    ]
    if user.can("contracts.plan.view"):
        items.append(MenuItem(_("Monthly renewal plan"), request.url_for("contracts:plan").path, section, 23))
    return items


@hookimpl
def dashboard_widgets(request):
    from .routes import expiry_widget

    return expiry_widget(request)


@hookimpl
def customer_panels(request, customer):
    from .routes import customer_panel

    return customer_panel(request, customer)
