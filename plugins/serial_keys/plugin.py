"""How the serial_keys plugin plugs into fuwu (read this first).

The installed base (SK-1, SK-2), keys renewed with the service period (SK-3),
the first-visit checks (SK-4), written applications (SK-5), the entitlement
lookup (page and JSON API), signed licence files and the import. Only the
documented hooks and modules of the core and of the contracts plugin are used.
"""

from __future__ import annotations

from fuwu import Permission, Setting, hookimpl
from fuwu.i18n import gettext as _
from fuwu.i18n import lazy_gettext as _l


@hookimpl
def register_models():
    from . import models

    return [models]


@hookimpl
def register_routes():
    from .routes import routes

    return routes()


PERMISSIONS = [
    ("serial_keys.key.view", _l("View the installed base and look up serial, service and dongle numbers")),
    ("serial_keys.key.manage", _l("Register, edit and revoke product keys")),
    ("serial_keys.key.import", _l("Import the installed base from CSV or XLSX")),
    ("serial_keys.licence.issue", _l("Download signed licence files")),
    ("serial_keys.application.view", _l("View written applications (password recovery, data clearing)")),
    ("serial_keys.application.record", _l("Record written applications (password recovery, data clearing)")),
    ("serial_keys.api.manage", _l("Issue and revoke API tokens of the entitlement lookup")),
]


@hookimpl
def register_permissions():
    return [Permission(name, label) for name, label in PERMISSIONS]


@hookimpl
def default_role_grants():
    view = "serial_keys.key.view"
    return {
        "engineer": [view, "serial_keys.licence.issue", "serial_keys.application.view"],
        "group_lead": [view, "serial_keys.key.manage", "serial_keys.licence.issue", "serial_keys.application.view",
                       "serial_keys.application.record"],
        "coordinator": [view, "serial_keys.key.manage"],
        "sales": [view],
        "service_manager": [name for name, _label in PERMISSIONS],
        "quality_supervisor": [view, "serial_keys.application.view"],
        "general_manager": [view, "serial_keys.application.view"],
    }


@hookimpl
def register_settings():
    return [
        # SK-3 (000 §7.4 "update the software's serial number"): the deployer's numbering scheme
        Setting("serial_keys.renewal_numbering", str, "new", _l("On renewal, product keys get"), rule="SK-3",
                choices=("new", "keep"),
                help=_l("new: a new serial number valid for the new period; keep: the same serial number, "
                        "with the new expiry.")),
        Setting("serial_keys.serial_scheme", str, "{product}-{year}-{random}", _l("Pattern of new serial numbers"),
                rule="SK-3", help=_l("{product}: product code, {year}: the period's first year, {random}: 8 random "
                                     "hex digits.")),
        # SK-1/SK-2: the import of the installed base
        Setting("serial_keys.import_max_kb", int, 5120, _l("Largest installed-base file to import (KB)"),
                rule="SK-1", minimum=1, maximum=10240),
        Setting("serial_keys.import_max_rows", int, 20000, _l("Most rows imported at once"), rule="SK-1",
                minimum=1, maximum=100000),
        # SK-5 (000 §8.5): the scanned, signed written application
        Setting("serial_keys.application_max_kb", int, 5120, _l("Largest scanned application (KB)"), rule="SK-5",
                minimum=1, maximum=10240),
    ]


@hookimpl
def demo_data(session, site):
    from .demo import load

    load(site, session)


# --- Events ------------------------------------------------------------------------


@hookimpl
def service_period_renewed(session, contract, period, renewal):
    from .services import renew_contract_keys

    renew_contract_keys(session, contract, period, renewal)


# SK-4 (003 §1.4): the first-visit call confirms the service code and the dongle number
@hookimpl
def first_visit_checks(customer):
    return [("serial_keys.service_code", _l("Service code received")),
            ("serial_keys.dongle", _l("Dongle number confirmed"))]


# --- What the plugin shows ---------------------------------------------------------


@hookimpl
def menu_items(request):
    from fuwu.web.ui import MenuItem

    user = request.state.user
    items = []
    section = _("Installed base")
    if user.can("serial_keys.key.view"):
        items += [MenuItem(_("Entitlement lookup"), request.url_for("serial_keys:lookup").path, section, 30),
                  MenuItem(_("Product keys"), request.url_for("serial_keys:list").path, section, 31)]
    if user.can("serial_keys.key.import"):
        items.append(MenuItem(_("Import installed base"), request.url_for("serial_keys:import").path, section, 32))
    if user.can("serial_keys.application.view"):
        items.append(MenuItem(_("Written applications"), request.url_for("serial_keys:applications").path,
                              section, 33))
    if user.can("serial_keys.api.manage"):
        items.append(MenuItem(_("Lookup API tokens"), request.url_for("serial_keys:tokens").path, section, 34))
    return items


@hookimpl
def customer_panels(request, customer):
    from .routes import customer_panel

    return customer_panel(request, customer)


@hookimpl
def search_results(request, text):
    """A serial, dongle or service number typed into the search box at the top."""
    from .routes import search_section

    return search_section(request, text)
