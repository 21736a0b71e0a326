"""Core's own hook implementations: registered first, under the name ``core``.

Core declares its models, settings, permissions and role grants through the
same hooks as every plugin, so admin pages and checks see one list.
"""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

from . import hookimpl
from .attachments import DEFAULT_TYPES as DEFAULT_ATTACHMENT_TYPES
from .attachments import parse_types as parse_attachment_types
from .calendar_days import parse_hours
from .config import Setting
from .i18n import lazy_gettext as _l
from .permissions import Permission

CORE_DIR = Path(__file__).parent


@hookimpl
def register_models():
    from . import (attachments, audit, calendar_days, config, first_visit, follow_ups, importing, jobs, links,
                   models, notifications, saved_views, timeline, two_factor, workflow)
    from .web import sessions

    return [models, audit, timeline, config, workflow, jobs, calendar_days, notifications, links, first_visit,
            sessions, importing, two_factor, saved_views, attachments, follow_ups]


def _mail_address(value: str) -> None:
    """An address a mail server takes as the sender (``fuwu@localhost`` too)."""
    local, at, domain = value.strip().rpartition("@")
    if not (local and at and domain) or any(c.isspace() for c in value.strip()):
        raise ValueError(_l("Enter an e-mail address such as name@example.com."))


@hookimpl
def register_settings():
    return [
        Setting("core.working_hours", str, "09:00-12:00,13:30-18:00", _l("Working hours"),
                help=_l("Daily working periods for deadlines counted in working hours, local time."),
                check=parse_hours),
        Setting("core.page_size", int, 50, _l("Rows per list page"), minimum=5, maximum=500),
        Setting("core.login_max_failures_account", int, 5, _l("Failed sign-ins per account before a pause"),
                minimum=1, maximum=100),
        Setting("core.login_max_failures_address", int, 20, _l("Failed sign-ins per address before a pause"),
                minimum=1, maximum=1000),
        Setting("core.login_lockout_minutes", int, 15, _l("Sign-in pause after too many failures (minutes)"),
                minimum=1, maximum=1440),
        Setting("core.password_reset_minutes", int, 60, _l("Minutes a password link asked for at sign-in works"),
                minimum=10, maximum=1440),
        Setting("core.password_reset_per_hour", int, 3, _l("Password links an account may be sent per hour"),
                help=_l("More requests within the hour are answered as usual, but send no mail."),
                minimum=1, maximum=20),
        Setting("core.two_factor_for_managers", bool, False,
                _l("Two-step sign-in required of those who manage accounts or settings"),
                help=_l("Administrators and holders of the permissions to manage roles and user accounts or to "
                        "change settings set it up when they next sign in.")),
        Setting("core.two_factor_for_everyone", bool, False, _l("Two-step sign-in required of everyone"),
                help=_l("Whoever has not set it up does so when they next sign in.")),
        Setting("core.sign_in_history_days", int, 180, _l("Days the sign-in history is kept"),
                help=_l("Older sign-in attempts are deleted by a daily job."), minimum=2, maximum=3650),
        Setting("core.smtp_host", str, "", _l("SMTP server"), help=_l("Empty: e-mail stays in the outbox.")),
        Setting("core.smtp_port", int, 25, _l("SMTP port"), minimum=1, maximum=65535),
        Setting("core.smtp_tls", str, "none", _l("SMTP encryption"), choices=("none", "starttls", "ssl")),
        Setting("core.smtp_user", str, "", _l("SMTP user")),
        Setting("core.smtp_password", str, "", _l("SMTP password")),
        Setting("core.mail_sender", str, "fuwu@localhost", _l("Sender address of e-mail"), check=_mail_address),
        Setting("core.first_visit_digest_time", time, time(18, 0), _l("Time of the first-visit needs digest"),
                rule="CORE-2", help=_l("After work: the needs recorded during the day go to the department "
                                       "heads at this local time.")),
        Setting("core.follow_up_reminder_time", time, time(9, 0), _l("Time of the reminder of follow-ups due"),
                help=_l("Each day at this local time, whoever has follow-ups due that day or before is told "
                        "once, in the app and by e-mail.")),
        Setting("core.link_valid_days", int, 14, _l("Days a link sent to a customer stays valid"),
                minimum=1, maximum=365),
        Setting("core.import_max_kb", int, 2048, _l("Largest file a list import takes (KB)"),
                minimum=16, maximum=10240),
        Setting("core.attachment_max_kb", int, 8192, _l("Largest file that may be attached to a record (KB)"),
                help=_l("The server's limit on any upload (max_upload_bytes in fuwu.toml, 10 MB unless changed) "
                        "applies as well."),
                minimum=16, maximum=102400),
        Setting("core.attachment_types", str, DEFAULT_ATTACHMENT_TYPES, _l("File types that may be attached"),
                help=_l("Extensions, separated by commas. A file's content must match its extension."),
                check=parse_attachment_types),
        Setting("core.import_max_rows", int, 5000, _l("Most rows a list import takes at once"),
                minimum=10, maximum=50000),
    ]


PERMISSIONS = [
    ("core.customer.view", _l("View customers")),
    ("core.customer.view_all", _l("See the customers of every department")),
    ("core.customer.edit", _l("Create and edit customers")),
    ("core.customer.import", _l("Import customers from a file")),
    ("core.customer.merge", _l("Merge customers entered twice")),
    ("core.first_visit.call", _l("Make first-visit calls")),
    ("core.contract.view", _l("View contracts")),
    ("core.contract.edit", _l("Create and edit contracts")),
    ("core.product.edit", _l("Manage the list of software products")),
    ("core.staff.view", _l("View staff and departments")),
    ("core.staff.edit", _l("Manage staff, departments and positions")),
    ("core.role.manage", _l("Manage roles and user accounts")),
    ("core.settings.manage", _l("Change settings and the working calendar")),
    ("core.audit.view", _l("View the audit log")),
]


@hookimpl
def register_permissions():
    return [Permission(name, label, plugin="core") for name, label in PERMISSIONS]


@hookimpl
def default_role_grants():
    view = ["core.customer.view", "core.contract.view", "core.staff.view"]
    return {
        "engineer": view,
        "group_lead": view,
        "coordinator": view + ["core.customer.edit", "core.customer.view_all", "core.customer.import",
                                "core.first_visit.call", "core.customer.merge"],
        "trainer": view,
        "sales": view + ["core.customer.edit", "core.contract.edit"],
        "service_manager": view + ["core.customer.edit", "core.contract.edit", "core.customer.view_all",
                                   "core.customer.import", "core.first_visit.call", "core.product.edit",
                                   "core.customer.merge"],
        "quality_supervisor": view + ["core.customer.view_all"],
        "finance": view + ["core.customer.view_all"],
        "administration": view + ["core.staff.edit"],
        "general_manager": view + ["core.audit.view", "core.customer.view_all"],
    }


@hookimpl
def register_jobs():
    from .first_visit import digest_job
    from .follow_ups import reminder_job
    from .importing import prune_files
    from .jobs import Job
    from .notifications import send_mail_job
    from .web.sessions import prune_sign_ins

    return [
        # Checked often, sends once a day: the job itself waits for the digest time.
        Job("core.first_visit_digest", digest_job, every=timedelta(minutes=15),
            label=_l("Send the day's first-visit needs to the department heads")),
        Job("core.follow_up_reminders", reminder_job, every=timedelta(minutes=15),
            label=_l("Remind staff of the follow-ups due")),
        Job("core.send_mail", send_mail_job, every=timedelta(minutes=5), label=_l("Send queued e-mail")),
        Job("core.prune_sign_ins", prune_sign_ins, label=_l("Delete sign-in attempts older than the days kept")),
        Job("core.prune_import_files", prune_files, label=_l("Delete uploaded import files never confirmed")),
    ]


@hookimpl
def customer_panels(request, customer):
    from .web.pages.follow_ups import panel

    return [panel(request, customer)]
