"""How the training plugin plugs into fuwu (read this first).

Courses and question banks (TRN-1), training plans agreed with the customer
(TRN-2) including the "train before first use" plan of a new installation
(TRN-6), sessions with registration, waiting list and attendance (TRN-3),
exams taken through signed links (TRN-4), the acceptance sheet (TRN-5) and
staff assessments (TRN-7). Only the documented hooks and modules are used.
"""

from __future__ import annotations

from fuwu import Permission, Setting, hookimpl
from fuwu.i18n import gettext as _
from fuwu.i18n import lazy_gettext as _l
from fuwu.workflow import State, Transition, Workflow

from . import rules


@hookimpl
def register_models():
    from . import models

    return [models]


@hookimpl
def register_routes():
    from .routes import routes

    return routes()


PERMISSIONS = [
    ("training.course.view", _l("View training courses and question banks")),
    ("training.course.edit", _l("Edit training courses, materials and questions")),
    ("training.session.view", _l("View training sessions, trainees and results")),
    ("training.session.manage", _l("Run training sessions: registration, attendance, exams, sign-off")),
    ("training.plan.view", _l("View training plans")),
    ("training.plan.edit", _l("Draft training plans")),
    ("training.plan.agree", _l("Record training plans sent to and agreed by the customer")),
    ("training.report.view", _l("View training reports")),
    ("training.assessment.manage", _l("Record and view staff assessments")),
]


@hookimpl
def register_permissions():
    return [Permission(name, label) for name, label in PERMISSIONS]


@hookimpl
def default_role_grants():
    view = ["training.course.view", "training.session.view", "training.plan.view"]
    return {
        "trainer": view + ["training.course.edit", "training.session.manage", "training.plan.edit",
                           "training.plan.agree", "training.report.view"],
        "coordinator": view + ["training.session.manage", "training.plan.edit", "training.plan.agree",
                               "training.report.view"],
        "engineer": view,
        "group_lead": view + ["training.report.view"],
        "service_manager": [name for name, _label in PERMISSIONS],
        "general_manager": view + ["training.report.view", "training.assessment.manage"],
    }


@hookimpl
def register_settings():
    return [
        # TRN-4 (003 §5.4): the regulation asks for an exam and recorded scores; the numbers are the deployer's
        Setting("training.pass_mark", int, 60, _l("Exam pass mark of a new session (%)"), rule="TRN-4",
                minimum=0, maximum=100),
        Setting("training.exam_minutes", int, 30, _l("Exam time limit of a new session (minutes)"), rule="TRN-4",
                minimum=1, maximum=600),
        Setting("training.exam_grace_seconds", int, 60, _l("Exam: answers still accepted after the limit (seconds)"),
                rule="TRN-4", minimum=0, maximum=3600,
                help=_l("Covers a slow connection at the last moment; later answers are not taken.")),
        # TRN-1 (003 §5.1): course materials
        Setting("training.material_max_mb", int, 20, _l("Largest course material file (MB)"), rule="TRN-1",
                minimum=1, maximum=200),
        Setting("training.material_types", str, "pdf,docx,doc,pptx,ppt,xlsx,mp4,png,jpg,zip",
                _l("Accepted course material file types"), rule="TRN-1", check=rules.material_types),
        # TRN-6 (001 §7.1): train before first use
        Setting("training.first_use_plan", bool, True, _l("Propose a training plan when a contract is installed"),
                rule="TRN-6"),
        # TRN-7 (001 §6, 000 §6)
        Setting("training.assessment_pass", int, 60, _l("Assessment criteria below this score are flagged"),
                rule="TRN-7", minimum=0, maximum=100),
    ]


@hookimpl
def register_workflows():
    from .models import Plan

    # TRN-2 (003 §5.2, 000 §5.2): drafted, sent to the customer, agreed (or sent back)
    return [Workflow(
        "training.plan", _l("Training plan"), Plan,
        states=[
            State("draft", _l("Draft")),
            State("sent", _l("Sent to the customer")),
            State("agreed", _l("Agreed with the customer"), read_only=True),
        ],
        transitions=[
            Transition("send", ("draft",), "sent", "training.plan.edit", _l("Send to the customer")),
            Transition("agree", ("sent",), "agreed", "training.plan.agree", _l("Customer agreed")),
            Transition("revise", ("sent",), "draft", "training.plan.edit", _l("Customer asks for changes"),
                       needs_reason=True),
        ],
        url="/training/plans/{id}",
    )]


@hookimpl
def register_link_purposes():
    from fuwu.links import LinkPurpose

    from .models import Invitation, Registration
    from .routes import self_register, take_exam

    return [
        LinkPurpose(key="training.exam", label=_l("Take the training exam"), model=Registration, handler=take_exam,
                    permission="training.session.manage", describe=lambda r: r.name,
                    staff_page=lambda r: ("training:session", {"session_id": r.session_id})),
        LinkPurpose(key="training.register", label=_l("Register for a training session"), model=Invitation,
                    handler=self_register, permission="training.session.manage",
                    describe=lambda i: i.session.course.title,
                    staff_page=lambda i: ("training:session", {"session_id": i.session_id})),
    ]


@hookimpl
def contract_signed(session, contract):
    from .services import first_use_plan

    first_use_plan(session, contract)


@hookimpl
def contract_changed(session, contract, changes):
    if "installed_on" in changes:
        from .services import first_use_plan

        first_use_plan(session, contract)


@hookimpl
def demo_data(session, site):
    from .demo import load

    load(site, session)


@hookimpl
def menu_items(request):
    from fuwu.web.ui import MenuItem

    user = request.state.user
    section = _("Training")
    items = []
    if user.can("training.session.view"):
        items.append(MenuItem(_("Training sessions"), request.url_for("training:sessions").path, section, 50))
    if user.can("training.plan.view"):
        items.append(MenuItem(_("Training plans"), request.url_for("training:plans").path, section, 51))
    if user.can("training.course.view"):
        items.append(MenuItem(_("Training courses"), request.url_for("training:courses").path, section, 52))
    if user.can("training.report.view"):
        items.append(MenuItem(_("Training report"), request.url_for("training:report").path, section, 53))
    if user.can("training.assessment.manage"):
        items.append(MenuItem(_("Staff assessments"), request.url_for("training:assessments").path, section, 54))
    items.append(MenuItem(_("My assessments"), request.url_for("training:my_assessments").path, section, 55))
    return items


@hookimpl
def customer_panels(request, customer):
    from .routes import customer_panel

    return customer_panel(request, customer)
