"""How the field_service plugin plugs into fuwu (read this first).

Mobile service: dispatch, departure check, workload score, daily return
visits, monthly awards (RES-7). Team service projects: plan, leader, daily
reports, work records, summary with the customer's survey, exact project
bonus split with lateness deductions (RES-8). Only documented hooks are used.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from fuwu import Job, Permission, Setting, hookimpl
from fuwu.i18n import gettext as _
from fuwu.i18n import lazy_gettext as _l

from . import rules


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
    ("field_service.job.view", _l("View mobile service jobs (own jobs only without the next permission)")),
    ("field_service.job.view_all", _l("View every mobile service job")),
    ("field_service.job.dispatch", _l("Dispatch mobile service jobs")),
    ("field_service.job.work", _l("Record departure, arrival and finish of own mobile jobs")),
    ("field_service.visit.record", _l("Record return visits of mobile jobs")),
    ("field_service.award.view", _l("View the monthly mobile service ranking")),
    ("field_service.award.close", _l("Close the month of mobile service awards")),
    ("field_service.project.view", _l("View team service projects (own projects only without the next "
                                      "permission)")),
    ("field_service.project.view_all", _l("View every team service project")),
    ("field_service.project.manage", _l("Plan team service projects and close them")),
    ("field_service.project.report", _l("Submit team project documents as their responsible person")),
]


@hookimpl
def register_permissions():
    return [Permission(name, label) for name, label in PERMISSIONS]


@hookimpl
def default_role_grants():
    job, project = "field_service.job.view", "field_service.project.view"
    return {
        # the mobile technician and the group leader of a team project
        "engineer": [job, "field_service.job.work", project, "field_service.project.report"],
        "group_lead": [job, "field_service.job.work", project, "field_service.project.report",
                       "field_service.award.view"],
        "coordinator": [job, "field_service.job.view_all", "field_service.job.dispatch", "field_service.visit.record",
                        "field_service.award.view", project, "field_service.project.view_all"],
        # the department manager, who is also the project manager of team projects
        "service_manager": [name for name, _label in PERMISSIONS],
        "general_manager": [job, "field_service.job.view_all", "field_service.award.view", project,
                            "field_service.project.view_all"],
        "quality_supervisor": [job, "field_service.job.view_all", "field_service.award.view"],
    }


@hookimpl
def register_settings():
    money = Decimal
    return [
        # RES-7 (004 mobile §1-3)
        Setting("field_service.depart_minutes", int, 10, _l("Mobile technician leaves within (minutes)"),
                rule="RES-7", minimum=1, maximum=1440),
        Setting("field_service.score_table", str, "install=3,repair=2,training=2,consult=1",
                _l("Workload score per kind of mobile job"), rule="RES-7",
                help=_l("kind=points pairs separated by commas; the kinds offered when dispatching."),
                check=rules.parse_score_table),
        Setting("field_service.first_prize", money, Decimal("100.00"), _l("Monthly award, first place (yuan)"),
                rule="RES-7", minimum=Decimal("0")),
        Setting("field_service.second_prize", money, Decimal("70.00"), _l("Monthly award, second place (yuan)"),
                rule="RES-7", minimum=Decimal("0")),
        Setting("field_service.reward_rate", Decimal, Decimal("95"),
                _l("Very-satisfied rate needed for an award (%)"), rule="RES-7", minimum=Decimal("0"),
                maximum=Decimal("100")),
        Setting("field_service.fine_rate", Decimal, Decimal("80"), _l("Fined below a very-satisfied rate of (%)"),
                rule="RES-7", minimum=Decimal("0"), maximum=Decimal("100")),
        Setting("field_service.month_fine", money, Decimal("100.00"), _l("Monthly mobile service fine (yuan)"),
                rule="RES-7", minimum=Decimal("0")),
        Setting("field_service.max_complaints", int, 1, _l("Complaints per month allowed without a fine"),
                rule="RES-7", minimum=0, maximum=100),
        Setting("field_service.close_day", int, 3, _l("Close the previous month's awards on day"), rule="RES-7",
                minimum=1, maximum=28, help=_l("Leaves time for the last return visits of the month.")),
        # RES-8 (004 team §1-5, project bonus)
        Setting("field_service.team_person_days", int, 10, _l("Team project from (person-days)"), rule="RES-8",
                minimum=1, maximum=1000),
        Setting("field_service.team_technicians", int, 4, _l("Team project from (technicians)"), rule="RES-8",
                minimum=1, maximum=100),
        Setting("field_service.team_days", int, 2, _l("Team project from (working days)"), rule="RES-8",
                minimum=1, maximum=365),
        Setting("field_service.leader_reward", money, Decimal("100.00"),
                _l("Group leader's reward, customer satisfied (yuan)"), rule="RES-8", minimum=Decimal("0")),
        Setting("field_service.member_reward", money, Decimal("50.00"),
                _l("Each member's reward, customer satisfied (yuan)"), rule="RES-8", minimum=Decimal("0")),
        Setting("field_service.leader_fine", money, Decimal("100.00"),
                _l("Group leader's fine, customer dissatisfied (yuan)"), rule="RES-8", minimum=Decimal("0")),
        Setting("field_service.manager_weight", Decimal, Decimal("1.2"), _l("Project bonus weight of the project "
                                                                            "manager"), rule="RES-8",
                minimum=Decimal("0.1"), maximum=Decimal("10")),
        Setting("field_service.member_weight", Decimal, Decimal("1.0"), _l("Project bonus weight of a member"),
                rule="RES-8", minimum=Decimal("0.1"), maximum=Decimal("10")),
        Setting("field_service.late_percent", Decimal, Decimal("5"),
                _l("Bonus deducted per day a project document is late (%)"), rule="RES-8", minimum=Decimal("0"),
                maximum=Decimal("100")),
    ]


def _close_month(site, session, now):
    from .services import close_previous_month

    close_previous_month(site, session, now)


@hookimpl
def register_jobs():
    return [Job("field_service.close_month", _close_month, every=timedelta(hours=6),
                label=_l("Close the previous month's mobile service awards (RES-7)"))]


@hookimpl
def register_link_purposes():
    from .routes import survey_purpose

    return [survey_purpose()]


@hookimpl
def demo_data(session, site):
    from .demo import load

    load(site, session)


@hookimpl
def menu_items(request):
    from fuwu.web.ui import MenuItem

    user = request.state.user
    section = _("Field service")
    items = []
    if user.can("field_service.job.view"):
        items.append(MenuItem(_("Mobile service board"), request.url_for("field_service:board").path, section, 30))
    if user.can("field_service.visit.record"):
        items.append(MenuItem(_("Return visits"), request.url_for("field_service:visits").path, section, 31))
    if user.can("field_service.award.view"):
        items.append(MenuItem(_("Monthly mobile ranking"), request.url_for("field_service:awards").path, section, 32))
    if user.can("field_service.project.view"):
        items.append(MenuItem(_("Team service projects"), request.url_for("field_service:projects").path, section,
                              33))
    return items
