"""How the complaints plugin plugs into fuwu (read this first).

Intake (CMP-1), validity review (CMP-2), timed handling (CMP-3), follow-up and
escalation (CMP-4), records and the monthly report (CMP-5), promises (CMP-6)
and consequences (CMP-7). Only the documented hooks and modules are used.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from fuwu import Job, Permission, Setting, hookimpl
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
    ("complaints.complaint.view", _l("View complaints")),
    ("complaints.complaint.view_all", _l("View every complaint, whatever the customer")),
    ("complaints.complaint.create", _l("Record complaints received by phone or in person")),
    ("complaints.complaint.review", _l("Review complaints' validity and archive them (quality supervisor)")),
    ("complaints.complaint.handle", _l("Handle complaints: cause, measures, reply (responsible department)")),
    ("complaints.complaint.follow_up", _l("Make the follow-up call of a complaint (service supervisor)")),
    ("complaints.complaint.gm_call", _l("Call key accounts about their complaints (general manager)")),
    ("complaints.hq.liaise", _l("Liaise with headquarters about complaints")),
    ("complaints.report.view", _l("View the monthly complaint analysis reports")),
    ("complaints.report.receive", _l("Receive the monthly complaint analysis report")),
    ("complaints.consequence.view", _l("View complaint consequences (fines and reviews)")),
]


@hookimpl
def register_permissions():
    return [Permission(name, label) for name, label in PERMISSIONS]


@hookimpl
def default_role_grants():
    view, create, handle = "complaints.complaint.view", "complaints.complaint.create", "complaints.complaint.handle"
    return {
        "engineer": [view, create, handle],
        "coordinator": [view, create],
        "group_lead": [view, create, handle, "complaints.complaint.follow_up"],
        "service_manager": [view, create, handle, "complaints.complaint.follow_up", "complaints.complaint.view_all",
                            "complaints.report.view", "complaints.consequence.view"],
        # the quality supervisor also liaises with headquarters until a site
        # makes a role of its own for it (core has no "headquarters liaison" role)
        "quality_supervisor": [view, create, "complaints.complaint.view_all", "complaints.complaint.review",
                               "complaints.complaint.follow_up", "complaints.hq.liaise", "complaints.report.view",
                               "complaints.consequence.view"],
        "general_manager": [view, "complaints.complaint.view_all", "complaints.complaint.gm_call",
                            "complaints.report.view", "complaints.report.receive", "complaints.consequence.view"],
    }


@hookimpl
def register_settings():
    return [
        # CMP-3 (003 §6.3): reply within 3 hours
        Setting("complaints.reply_hours", int, 3, _l("Reply to a complainant within (hours)"), rule="CMP-3",
                minimum=1, maximum=720),
        Setting("complaints.reply_clock", str, "working", _l("Clock of the reply time limit"), rule="CMP-3",
                choices=("working", "24x7"),
                help=_l("working: working hours of the working calendar; 24x7: round the clock.")),
        # CMP-4 (003 §6.4): follow-up within 1 working day of the handling result
        Setting("complaints.follow_up_days", int, 1, _l("Follow-up call within (working days)"), rule="CMP-4",
                minimum=1, maximum=30),
        # CMP-5 (003 §6.5): feedback to headquarters within 1 working day of handling
        Setting("complaints.hq_report_days", int, 1, _l("Result reported to headquarters within (working days)"),
                rule="CMP-5", minimum=1, maximum=30),
        # CMP-5: the report within the first 3 working days of the next month
        Setting("complaints.report_working_days", int, 3, _l("Monthly complaint report due on working day"),
                rule="CMP-5", minimum=1, maximum=20),
        # CMP-7 (000 §7.1-7.2)
        Setting("complaints.attitude_fine", Decimal, Decimal("200.00"),
                _l("Fine for a confirmed service-attitude complaint (yuan)"), rule="CMP-7", minimum=Decimal("0")),
        Setting("complaints.dismissal_count", int, 2, _l("Confirmed attitude complaints before a dismissal review"),
                rule="CMP-7", minimum=1, maximum=100),
        Setting("complaints.manager_count", int, 3,
                _l("Complaints in the window before the manager's demotion review"), rule="CMP-7", minimum=1,
                maximum=100),
        Setting("complaints.window_months", int, 6, _l("Window for counting complaints (months)"), rule="CMP-7",
                minimum=1, maximum=24),
    ]


def _deadlines(site, session, now):
    from .services import check_deadlines

    check_deadlines(site, session, now)


def _report(site, session, now):
    from .services import report_job

    report_job(site, session, now)


def _consequences(site, session, now):
    from .services import consequences_job

    consequences_job(site, session, now)


@hookimpl
def register_jobs():
    return [
        Job("complaints.deadlines", _deadlines, every=timedelta(minutes=10),
            label=_l("Notify overdue complaint deadlines (CMP-3, CMP-4, CMP-5)")),
        Job("complaints.monthly_report", _report, every=timedelta(hours=6),
            label=_l("Build and send the monthly complaint analysis report (CMP-5)")),
        Job("complaints.consequences", _consequences, every=timedelta(hours=1),
            label=_l("Fines and reviews for confirmed complaints (CMP-7)")),
    ]


@hookimpl
def register_link_purposes():
    from .routes import link_purposes

    return link_purposes()


@hookimpl
def register_file_owners():
    from fuwu.attachments import FileOwner

    from . import routes
    from .models import Complaint

    # CMP-5: the complaint form is archived with what it rests on
    return [FileOwner(model=Complaint, visible=routes.complaint_for_files, url=routes.complaint_url,
                      may_attach=routes.may_add_evidence, may_delete=routes.may_remove_evidence,
                      render=routes.complaint_with_file_error,
                      hint=_l("The complainant's letter, headquarters' forwarding sheet, photos, the handling "
                              "record: kept with the complaint and archived with it."))]


@hookimpl
def demo_data(session, site):
    from .demo import load

    load(site, session)


@hookimpl
def menu_items(request):
    from fuwu.web.ui import MenuItem

    user = request.state.user
    if not user.can("complaints.complaint.view"):
        return []
    section = _("Complaints")
    items = [MenuItem(_("Complaints"), request.url_for("complaints:list").path, section, 30)]
    if user.can("complaints.report.view"):
        items.append(MenuItem(_("Complaint reports"), request.url_for("complaints:reports").path, section, 31))
    if user.can("complaints.consequence.view"):
        items.append(MenuItem(_("Complaint consequences"), request.url_for("complaints:consequences").path,
                              section, 32))
    return items


@hookimpl
def dashboard_widgets(request):
    from .routes import dashboard_widget

    return dashboard_widget(request)


@hookimpl
def customer_panels(request, customer):
    from .routes import customer_panel

    return customer_panel(request, customer)


# --- Answering other plugins' questions ------------------------------------------


@hookimpl(optionalhook=True)
def field_service_complaints(session, staff_ids, month_start, month_end):
    """RES-7 / CMP-7: valid complaints per technician in the month, for the
    field_service plugin's monthly fines (only called when it is enabled).
    A complaint counts for the person found responsible, else the one named
    at intake; the month is in the site's time zone."""
    from datetime import datetime, time

    from sqlalchemy import func, select

    from fuwu.site import site_of

    from .models import Complaint

    zone = site_of(session).zone
    start = datetime.combine(month_start, time(0), zone)
    end = datetime.combine(month_end, time(0), zone)
    person = func.coalesce(Complaint.responsible_staff_id, Complaint.concerned_staff_id)
    rows = session.execute(
        select(person, func.count()).where(person.in_(list(staff_ids)), Complaint.validity == "valid",
                                           Complaint.received_at >= start, Complaint.received_at < end)
        .group_by(person)).all()
    return {staff_id: count for staff_id, count in rows}


@hookimpl
def search_results(request, text):
    """A complaint number, headquarters' reference or complainant's phone typed into the search box."""
    from .routes import search_section

    return search_section(request, text)
