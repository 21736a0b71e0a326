"""How the travel_expense plugin plugs into fuwu (read this first).

Travel applications (TRV-4), advances with the one-open-advance rule (TRV-5,
TRV-6), per-diem reimbursement by grade standard (TRV-1..3, TRV-6) with its
explanation line by line, and the service-record fine (TRV-8). Only the
documented hooks and modules of the core are used.
"""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

from fuwu import Job, Permission, Setting, hookimpl
from fuwu.i18n import gettext as _
from fuwu.i18n import lazy_gettext as _l
from fuwu.workflow import State, Transition, Workflow

from .rules import TRANSPORT_CLASSES

FILE = "travel_expense.trip.file"
VIEW = "travel_expense.trip.view"
VIEW_ALL = "travel_expense.trip.view_all"
REVIEW = "travel_expense.trip.review"
ARCHIVE = "travel_expense.trip.archive"
APPROVE_ADVANCE = "travel_expense.advance.approve"
PAY = "travel_expense.advance.pay"
REPORT = "travel_expense.report.view"
STANDARDS = "travel_expense.standard.manage"

PERMISSIONS = [
    (VIEW, _l("Open travel applications, advances and claims")),
    (FILE, _l("File own travel applications, advances and claims")),
    (VIEW_ALL, _l("See every traveller's trips, advances and claims")),
    (REVIEW, _l("Review travel applications and claims (service manager)")),
    (ARCHIVE, _l("Archive travel applications (administration)")),
    (APPROVE_ADVANCE, _l("Approve travel advances (general manager)")),
    (PAY, _l("Pay travel advances and settle claims (finance)")),
    (REPORT, _l("View the monthly travel cost report")),
    (STANDARDS, _l("Edit travel standards by grade")),
]


@hookimpl
def register_models():
    from . import models

    return [models]


@hookimpl
def register_routes():
    from .routes import routes

    return routes()


@hookimpl
def register_file_owners():
    from fuwu.attachments import FileOwner

    from . import routes
    from .models import Claim

    # TRV-6: the receipts of a claim go with it, for the approvers and finance to check
    return [FileOwner(model=Claim, visible=routes.visible_claim, url=routes.claim_url,
                      may_attach=routes.may_change_receipts, render=routes.claim_with_file_error,
                      hint=_l("Scans or photos of the invoices and tickets, added while the claim is a draft; "
                              "the approvers and finance check the lines against them."))]


@hookimpl
def register_permissions():
    return [Permission(name, label) for name, label in PERMISSIONS]


@hookimpl
def default_role_grants():
    traveller = [VIEW, FILE]
    return {
        "engineer": traveller,
        "group_lead": traveller,
        "trainer": traveller,
        "coordinator": traveller,
        "service_manager": [*traveller, VIEW_ALL, REVIEW, REPORT],
        "general_manager": [*traveller, VIEW_ALL, APPROVE_ADVANCE, REPORT],
        "finance": [VIEW, VIEW_ALL, PAY, REPORT, STANDARDS],
        "administration": [VIEW, VIEW_ALL, ARCHIVE, STANDARDS],
    }


@hookimpl
def register_settings():
    return [
        # TRV-1 (000 §4 table): the general-staff standard, used for every grade
        # without a row of its own in the standards table
        Setting("travel_expense.general_transport_class", str, "train_hard_sleeper",
                _l("Transport class allowed to general staff"), rule="TRV-1", choices=TRANSPORT_CLASSES),
        Setting("travel_expense.general_lodging_cap", Decimal, Decimal("120.00"),
                _l("Lodging cap per night, general staff (yuan)"), rule="TRV-1", minimum=Decimal("0")),
        Setting("travel_expense.general_meal_rate", Decimal, Decimal("30.00"),
                _l("Meals per day, general staff (yuan)"), rule="TRV-1", minimum=Decimal("0")),
        # TRV-3 (000 §4 (二)2)
        Setting("travel_expense.half_day_cutoff", time, time(12, 0), _l("Half-day cutoff of trip days"),
                rule="TRV-3", help=_l("Leaving at or after it, or returning at or before it, counts half a day.")),
        # TRV-6 (000 §4 (三)4): "within the week after returning"
        Setting("travel_expense.claim_due_days", int, 7, _l("Claim due within (days after return)"),
                rule="TRV-6", minimum=1, maximum=365),
        # TRV-8 (000 §7.5)
        Setting("travel_expense.record_grace_days", int, 3,
                _l("Trip must be in the service record within (days after return)"), rule="TRV-8", minimum=0,
                maximum=365),
        Setting("travel_expense.record_fine", Decimal, Decimal("30.00"),
                _l("Fine for a trip missing from the service record (yuan)"), rule="TRV-8", minimum=Decimal("0")),
    ]


@hookimpl
def register_workflows():
    from .models import Advance, Claim, Trip

    application = Workflow.approval_chain(
        "travel_expense.application", _l("Travel application"), Trip, submit_permission=FILE,
        steps=[("review", _l("Service manager review"), REVIEW),
               ("filing", _l("Approved, to be archived"), ARCHIVE)],
        url="/travel_expense/trip/{id}")
    advance = Workflow(
        "travel_expense.advance", _l("Travel advance"), Advance,
        states=[
            State("draft", _l("Draft")),
            State("approval", _l("Waiting for the general manager")),
            State("approved", _l("Approved, to be paid")),
            State("paid", _l("Paid, not cleared")),
            State("cleared", _l("Cleared"), read_only=True),
            State("cancelled", _l("Withdrawn"), read_only=True),
        ],
        transitions=[
            Transition("submit", ("draft",), "approval", FILE, _l("Submit"), owner_only=True),
            Transition("cancel", ("draft",), "cancelled", FILE, _l("Withdraw"), owner_only=True),
            Transition("approve", ("approval",), "approved", APPROVE_ADVANCE, _l("Approve")),
            Transition("reject", ("approval",), "draft", APPROVE_ADVANCE, _l("Send back"), needs_reason=True),
            Transition("pay", ("approved",), "paid", PAY, _l("Record payment")),
            Transition("clear", ("paid",), "cleared", PAY, _l("Clear")),
        ],
        url="/travel_expense/advance/{id}",
    )
    claim = Workflow(
        "travel_expense.claim", _l("Travel reimbursement"), Claim,
        states=[
            State("draft", _l("Draft")),
            State("review", _l("Service manager review")),
            State("settlement", _l("Approved, to be settled by finance")),
            State("settled", _l("Settled"), read_only=True),
        ],
        transitions=[
            Transition("submit", ("draft",), "review", FILE, _l("Submit"), owner_only=True),
            Transition("approve", ("review",), "settlement", REVIEW, _l("Approve")),
            Transition("reject", ("review",), "draft", REVIEW, _l("Send back"), needs_reason=True),
            Transition("return", ("settlement",), "draft", PAY, _l("Send back"), needs_reason=True),
            Transition("settle", ("settlement",), "settled", PAY, _l("Settle")),
        ],
        url="/travel_expense/claim/{id}",
    )
    return [application, advance, claim]


def _record_fines(site, session, now):
    from .services import record_fines

    record_fines(site, session, now)


@hookimpl
def register_jobs():
    return [Job("travel_expense.record_fines", _record_fines, every=timedelta(days=1),
                label=_l("Fine trips not written into the service record (TRV-8)"))]


@hookimpl
def demo_data(session, site):
    from .services import load_demo

    load_demo(site, session)


@hookimpl
def menu_items(request):
    from fuwu.web.ui import MenuItem

    user = request.state.user
    if not user.can(VIEW):
        return []
    section = _("Travel")

    def url(_request, name):
        return request.url_for(name).path

    items = [MenuItem(_("Trips"), url(request, "travel_expense:list"), section, 40),
             MenuItem(_("Advance ledger"), url(request, "travel_expense:ledger"), section, 42)]
    if user.can(PAY) or user.can(VIEW_ALL):
        items.append(MenuItem(_("Advances and payments"), url(request, "travel_expense:advances"), section, 41))
    if user.can(REPORT):
        items.append(MenuItem(_("Travel cost report"), url(request, "travel_expense:report"), section, 43))
    # everyone may read what their grade may spend; only STANDARDS edits it
    items.append(MenuItem(_("Travel standards"), url(request, "travel_expense:standards"), section, 44))
    return items


@hookimpl
def customer_panels(request, customer):
    from .routes import customer_panel

    return customer_panel(request, customer)


@hookimpl
def dashboard_widgets(request):
    from .routes import travel_widget

    return travel_widget(request)
