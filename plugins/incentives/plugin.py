"""How the incentives ledger plugs into fuwu (read this first).

Rule plugins emit the core event ``incentive_due``; this plugin books each
cause once, lets the department manager confirm or waive it, the employee
dispute it, and finance close the month and hand payroll one spreadsheet.
It imports no other plugin: any emitter, built-in or third-party, works.
"""

from __future__ import annotations

from decimal import Decimal

from fuwu import Permission, Setting, hookimpl
from fuwu.i18n import gettext as _
from fuwu.i18n import lazy_gettext as _l


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
    ("incentives.entry.view_own", _l("See one's own rewards and fines, and dispute them")),
    ("incentives.entry.review", _l("Confirm or waive the department's rewards and fines, decide disputes")),
    ("incentives.entry.view_all", _l("See the rewards and fines of every department")),
    ("incentives.entry.create", _l("Enter rewards, fines and corrections by hand")),
    ("incentives.ledger.view", _l("See the ledger, payroll months and chart of rewards and fines")),
    ("incentives.month.close", _l("Close a payroll month and export it for payroll")),
]


@hookimpl
def register_permissions():
    return [Permission(name, label) for name, label in PERMISSIONS]


@hookimpl
def default_role_grants():
    own = "incentives.entry.view_own"
    everyone = ["engineer", "group_lead", "coordinator", "trainer", "quality_supervisor", "administration", "sales"]
    grants = {role: [own] for role in everyone}
    grants["service_manager"] = [own, "incentives.ledger.view", "incentives.entry.review",
                                  "incentives.entry.create"]
    grants["finance"] = [own, "incentives.ledger.view", "incentives.entry.view_all", "incentives.entry.create",
                        "incentives.month.close"]
    grants["general_manager"] = [own, "incentives.ledger.view", "incentives.entry.view_all"]
    return grants


@hookimpl
def register_settings():
    return [
        # The regulations name the fines (TRV-8, CMP-7, RES-5, SD-9) but not how
        # they are reviewed; these settings are the department's practice.
        Setting("incentives.dispute_days", int, 5, _l("An employee may dispute an entry within (working days)"),
                minimum=0, maximum=60,
                help=_l("Counted from the day the entry was booked; never after its month is closed.")),
        Setting("incentives.close_confirms_proposed", bool, True,
                _l("Closing a month confirms the entries nobody reviewed"),
                help=_l("Off: a month with entries still proposed cannot be closed.")),
        Setting("incentives.notify_staff", bool, True, _l("Tell the employee when a reward or fine is booked")),
        Setting("incentives.manual_limit", Decimal, Decimal("5000.00"),
                _l("Largest reward or fine entered by hand (yuan)"), minimum=Decimal("1")),
    ]


# --- Domain events -------------------------------------------------------------------


@hookimpl
def incentive_due(session, staff, amount, reason, rule_id, source):
    from .services import record

    record(session, staff=staff, amount=amount, reason=reason, rule_id=rule_id, source=source)


@hookimpl
def demo_data(session, site):
    from .demo import load

    load(site, session)


# --- What the plugin shows --------------------------------------------------------------


@hookimpl
def menu_items(request):
    from fuwu.web.ui import MenuItem

    user = request.state.user
    section = _("Rewards and fines")
    items = []
    if user.can("incentives.entry.view_own"):
        items.append(MenuItem(_("My rewards and fines"), request.url_for("incentives:mine").path, section, 50))
    if user.can("incentives.ledger.view"):
        items.append(MenuItem(_("Department ledger"), request.url_for("incentives:ledger").path, section, 51))
        items.append(MenuItem(_("Payroll months"), request.url_for("incentives:months").path, section, 52))
        items.append(MenuItem(_("Rewards and fines chart"), request.url_for("incentives:chart").path, section, 53))
    return items


@hookimpl
def staff_panels(request, staff):
    from .routes import staff_panels

    return staff_panels(request, staff)


@hookimpl
def dashboard_widgets(request):
    from .routes import widget

    return widget(request)
