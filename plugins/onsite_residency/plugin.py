"""How the resident-service plugin plugs into fuwu (read this first).

Residencies, the attendance sheet (RES-1), the response log (RES-2), the
monthly report chain with its documents and electronic stamp (RES-3, RES-6),
the customer's rating by signed link (RES-3) and the month close that turns
ratings into allowances and penalties (RES-4, RES-5).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from fuwu import Job, Permission, Setting, hookimpl
from fuwu.i18n import gettext as _
from fuwu.i18n import lazy_gettext as _l
from fuwu.workflow import State, Transition, Workflow

OWN = "onsite_residency.own.view"
ALL = "onsite_residency.all.view"

PERMISSIONS = [
    (OWN, _l("See one's own residencies, attendance and resident reports")),
    (ALL, _l("See every residency, resident report and customer rating")),
    ("onsite_residency.residency.manage", _l("Assign resident engineers to customer sites")),
    ("onsite_residency.attendance.keep", _l("Keep the resident attendance sheet")),
    ("onsite_residency.call.record", _l("Record resident repair calls")),
    ("onsite_residency.report.submit", _l("Fill and submit resident monthly reports")),
    ("onsite_residency.report.lead_review", _l("Review resident reports as group lead")),
    ("onsite_residency.report.manager_review", _l("Review resident reports as department manager")),
    ("onsite_residency.report.stamp", _l("Review and stamp resident reports (general manager's office)")),
    ("onsite_residency.report.send", _l("Submit stamped resident reports to the customer (key-account department)")),
    ("onsite_residency.month.close", _l("Close a resident month (allowances and penalties)")),
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
def register_permissions():
    return [Permission(name, label) for name, label in PERMISSIONS]


@hookimpl
def default_role_grants():
    p = "onsite_residency."
    return {
        "engineer": [OWN, p + "call.record", p + "report.submit"],
        # the resident lead keeps attendance and reviews; a key-account group lead submits to the customer
        "group_lead": [OWN, p + "attendance.keep", p + "call.record", p + "report.lead_review", p + "report.send"],
        "service_manager": [OWN, ALL, p + "residency.manage", p + "attendance.keep", p + "call.record",
                            p + "report.manager_review", p + "report.send", p + "month.close"],
        "general_manager": [OWN, ALL, p + "report.stamp"],
        # administration receives attendance summaries and the customer's feedback (RES-1, RES-3)
        "administration": [OWN, ALL, p + "month.close"],
    }


@hookimpl
def register_settings():
    return [
        # RES-2 (004 resident §1b)
        Setting("onsite_residency.reach_minutes", int, 5, _l("Resident on the spot within (minutes)"),
                rule="RES-2", minimum=1, maximum=1440),
        Setting("onsite_residency.ack_minutes", int, 1, _l("Resident busy: acknowledge within (minutes)"),
                rule="RES-2", minimum=1, maximum=1440),
        # RES-6 (004 resident §3c): due day of the following month per document
        Setting("onsite_residency.due_day_attendance", int, 3, _l("Attendance sheet due on day (of next month)"),
                rule="RES-6", minimum=1, maximum=31),
        Setting("onsite_residency.due_day_report", int, 5, _l("Resident monthly report due on day (of next month)"),
                rule="RES-6", minimum=1, maximum=31),
        Setting("onsite_residency.due_day_evaluation", int, 5,
                _l("Service quality evaluation form due on day (of next month)"), rule="RES-6", minimum=1,
                maximum=31),
        # RES-4 / RES-5 (004 resident §3a, §3b)
        Setting("onsite_residency.allowance", Decimal, Decimal("300.00"), _l("Resident monthly allowance (yuan)"),
                rule="RES-4", minimum=Decimal("0")),
        Setting("onsite_residency.engineer_fine", Decimal, Decimal("200.00"),
                _l("Resident engineer fine for a poor rating (yuan)"), rule="RES-5", minimum=Decimal("0")),
        Setting("onsite_residency.lead_fine", Decimal, Decimal("100.00"),
                _l("Group lead fine for a resident's poor rating (yuan)"), rule="RES-5", minimum=Decimal("0")),
        Setting("onsite_residency.close_day", int, 20, _l("Resident month closed automatically on day (of next "
                                                           "month)"), rule="RES-4", minimum=1, maximum=28),
        Setting("onsite_residency.link_valid_days", int, 30, _l("Resident rating link valid for (days)"),
                rule="RES-3", minimum=1, maximum=365),
    ]


@hookimpl
def register_workflows():
    from .models import ResidentReport

    p = "onsite_residency.report."
    # RES-3 (004 resident §2): engineer -> group lead -> department manager ->
    # GM office (review and stamp) -> key-account department -> customer.
    return [Workflow(
        "onsite_residency.report", _l("Resident monthly report"), ResidentReport,
        states=[
            State("draft", _l("Draft")),
            State("lead_review", _l("Group lead review")),
            State("manager_review", _l("Department manager review")),
            State("gm_review", _l("General manager's office review")),
            State("stamped", _l("Stamped, to be submitted to the customer")),
            State("sent", _l("Submitted to the customer"), read_only=True),
        ],
        transitions=[
            Transition("submit", ("draft",), "lead_review", p + "submit", _l("Submit"), owner_only=True),
            Transition("approve", ("lead_review",), "manager_review", p + "lead_review", _l("Approve")),
            Transition("approve", ("manager_review",), "gm_review", p + "manager_review", _l("Approve")),
            Transition("stamp", ("gm_review",), "stamped", p + "stamp", _l("Approve and stamp")),
            Transition("send", ("stamped",), "sent", p + "send", _l("Submit to the customer")),
            Transition("reject", ("lead_review",), "draft", p + "lead_review", _l("Send back"), needs_reason=True),
            Transition("reject", ("manager_review",), "draft", p + "manager_review", _l("Send back"),
                       needs_reason=True),
            Transition("reject", ("gm_review",), "draft", p + "stamp", _l("Send back"), needs_reason=True),
        ],
        url="/onsite_residency/reports/{id}",
    )]


def _close(site, session, now):
    from .services import auto_close

    auto_close(site, session, now)


@hookimpl
def register_jobs():
    return [Job("onsite_residency.month_close", _close, every=timedelta(days=1),
                label=_l("Close last resident month: allowances and penalties (RES-4, RES-5)"))]


@hookimpl
def register_link_purposes():
    from fuwu.links import LinkPurpose

    from .models import ResidentReport
    from .routes import rate_report, report_visible

    return [LinkPurpose(key="onsite_residency.rate", label=_l("Rate the resident service"), model=ResidentReport,
                        handler=rate_report, permission="onsite_residency.report.send", visible=report_visible,
                        describe=str, staff_page=lambda r: ("onsite_residency:report", {"report_id": r.id}),
                        valid_days_setting="onsite_residency.link_valid_days")]


@hookimpl
def demo_data(session, site):
    from .services import load_demo

    load_demo(site, session)


@hookimpl
def menu_items(request):
    from fuwu.web.ui import MenuItem

    user = request.state.user
    if not (user.can(OWN) or user.can(ALL)):
        return []
    section = _("Resident service")
    items = [MenuItem(_("Residencies"), request.url_for("onsite_residency:overview").path, section, 30)]
    if user.can(ALL) or user.can("onsite_residency.attendance.keep"):
        items.append(MenuItem(_("Attendance summary"), request.url_for("onsite_residency:attendance_summary").path,
                              section, 31))
    if user.can(ALL):
        items.append(MenuItem(_("Resident month close"), request.url_for("onsite_residency:close").path,
                              section, 32))
    return items


@hookimpl
def dashboard_widgets(request):
    from .routes import month_widget

    return month_widget(request)
