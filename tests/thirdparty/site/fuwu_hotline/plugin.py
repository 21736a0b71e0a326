from pathlib import Path

from fuwu import Permission, Setting, hookimpl
from fuwu import timeline
from fuwu.i18n import lazy_gettext as _l
from fuwu.workflow import State, Transition, Workflow


@hookimpl
def register_models():
    from . import models

    return [models]


@hookimpl
def migration_locations():
    return Path(__file__).parent / "migrations"


@hookimpl
def register_settings():
    return [Setting("hotline.callback_minutes", int, 30, _l("Call back within (minutes)"), rule="SD-3", minimum=1)]


@hookimpl
def register_permissions():
    return [
        Permission("hotline.call.create", _l("Log hotline calls")),
        Permission("hotline.call.review", _l("Review hotline calls")),
    ]


@hookimpl
def default_role_grants():
    return {"engineer": ["hotline.call.create"], "service_manager": ["hotline.call.review"]}


@hookimpl
def register_workflows():
    from .models import HotlineCall

    return [Workflow(
        "hotline.call", _l("Hotline call"), HotlineCall,
        states=[State("draft", _l("Draft")), State("review", _l("In review")),
                State("archived", _l("Archived"), read_only=True)],
        transitions=[
            Transition("submit", ("draft",), "review", "hotline.call.create", _l("Submit"), owner_only=True),
            Transition("approve", ("review",), "archived", "hotline.call.review", _l("Approve")),
            Transition("reject", ("review",), "draft", "hotline.call.review", _l("Send back"), needs_reason=True),
        ],
    )]


@hookimpl
def customer_created(session, customer):
    timeline.append(session, customer.id, "Hotline number given to %(name)s", source="hotline",
                    kind="hotline", name=customer.name)
