"""Every hook a fuwu plugin can implement: this file is the reference.

A plugin is a module with functions decorated ``@hookimpl`` whose names match
the functions below. An implementation may accept fewer arguments than the
spec (pluggy passes only those it names), so new arguments can be added
without breaking plugins; arguments are never renamed or removed.

Order: plugins are registered in dependency order (a plugin after the plugins
it depends on, then by name). For hooks that collect results, the returned
list follows that order: core first, then each plugin after its dependencies.
Hooks marked *first result* stop at the first implementation that returns a
value other than ``None``, asking the plugins registered last first.

``docs/plugin-guide.md`` documents each hook; a test fails when one is missing.
"""

from __future__ import annotations

from pluggy import HookspecMarker

hookspec = HookspecMarker("fuwu")


# --- What a plugin brings ---------------------------------------------------


@hookspec
def register_models():
    """Return the modules that define this plugin's SQLAlchemy models.

    Called once at start-up, before the schema is used, so that
    ``fuwu.db.Base.metadata`` knows every table (Alembic autogenerate and
    relationships by name need it). Tables are prefixed ``<plugin>_``.

    Returns a list of imported modules.

    Example::

        @hookimpl
        def register_models():
            from . import models
            return [models]
    """


@hookspec
def migration_locations():
    """Return the folder of this plugin's Alembic versions.

    Optional: without it, the package's ``migrations/`` folder is used when it
    exists (the convention every built-in plugin follows).

    Called by ``fuwu db upgrade|current``. The folder is one Alembic branch
    labelled with the plugin name; its first revision has
    ``branch_labels = ("<plugin>",)`` and ``depends_on`` the core head
    (``"core@head"`` is not allowed by Alembic, so depend on the core revision
    your models need) plus the branches of the plugins in ``depends``.

    Returns a path (``str`` or ``pathlib.Path``).

    Example::

        @hookimpl
        def migration_locations():
            return Path(__file__).parent / "migrations"
    """


@hookspec
def register_routes():
    """Return Starlette routes, mounted under ``/<plugin>/``.

    Called once per app by ``create_app``. Each endpoint must declare the
    permission it needs with ``@requires("<plugin>.<object>.<action>")`` (or
    ``@public(reason)`` for signed one-time links); a test walks every route.

    Returns a list of ``starlette.routing.Route`` / ``Mount``.

    Example::

        @hookimpl
        def register_routes():
            return [Route("/", list_trips, name="travel_expense:list")]
    """


@hookspec
def template_dirs():
    """Return folders holding this plugin's Jinja templates.

    Optional: without it, the package's ``templates/`` folder is used when it
    exists (the convention every built-in plugin follows).

    Templates live under a folder named after the plugin
    (``templates/<plugin>/list.html``) so names never clash; the active theme
    is searched first, so a theme can override any plugin template.

    Returns a list of paths.

    Example::

        @hookimpl
        def template_dirs():
            return [Path(__file__).parent / "templates"]
    """


@hookspec
def static_dirs():
    """Return this plugin's static folder, served at ``/static/<plugin>/``.

    Optional: without it, the package's ``static/`` folder is used when it
    exists (the convention every built-in plugin follows).

    Returns a path, or ``None`` when the plugin has no static files.

    Example::

        @hookimpl
        def static_dirs():
            return Path(__file__).parent / "static"
    """


@hookspec
def locale_dirs():
    """Return ``(domain, folder)`` of this plugin's Babel catalogs.

    Optional: without it, the package's ``locale/`` folder is used when it
    exists (the convention every built-in plugin follows).

    The domain is the plugin name; the folder holds
    ``<lang>/LC_MESSAGES/<domain>.po`` for ``en``, ``zh_Hans``, ``zh_Hant``.
    The plugin's templates and code (``_()``, ``_l()``: the file that calls
    decides) translate in that domain first, then with every other catalog,
    core's ``fuwu`` winning a clash.

    Example::

        @hookimpl
        def locale_dirs():
            return ("travel_expense", Path(__file__).parent / "locale")
    """


@hookspec
def register_permissions():
    """Return the permissions this plugin checks.

    Names are ``<plugin>.<object>.<action>``; labels are lazy translatable
    strings. Admins grant permissions to roles in the UI.

    Returns a list of ``fuwu.permissions.Permission``.

    Example::

        @hookimpl
        def register_permissions():
            return [Permission("travel_expense.claim.approve", _l("Approve claims"))]
    """


@hookspec
def default_role_grants():
    """Return which built-in roles get which of this plugin's permissions.

    Applied by ``fuwu init`` and ``fuwu db upgrade`` to roles that still carry
    their seeded grants; a grant an admin removed is never re-added.

    Returns ``{role_key: [permission names]}``; role keys are those of
    ``fuwu.models.staff.BUILTIN_ROLES`` (``engineer``, ``service_manager``,
    ``finance``, ``quality_supervisor``, ``general_manager``, ``admin`` …).

    Example::

        @hookimpl
        def default_role_grants():
            return {"finance": ["travel_expense.advance.pay"]}
    """


@hookspec
def register_settings():
    """Return the settings this plugin reads.

    Every number from the regulations is a setting whose default is the
    regulation's value, with the rule ID. The effective value is the admin's
    database override, else ``fuwu.toml`` ``[settings]``, else the default.
    A text setting with a structure (``"kind=points, ..."``) gives ``check=``,
    a function that raises ``ValueError(message)`` for a value it cannot use:
    the settings page, ``fuwu settings set`` and ``fuwu.toml`` then refuse
    such a value with that message.

    Returns a list of ``fuwu.config.Setting``.

    Example::

        @hookimpl
        def register_settings():
            return [Setting("travel_expense.meal_allowance", Decimal, Decimal("30.00"),
                            rule="TRV-1", label=_l("Meals per day, general staff"))]
    """


@hookspec
def register_workflows():
    """Return the state machines and approval chains of this plugin's forms.

    Returns a list of ``fuwu.workflow.Workflow``. The engine records every
    transition (who, when, from, to, comment), refuses a transition the actor
    has no permission for, and makes the final states read-only (CORE-5).
    ``url`` names the page of one record (``{id}`` for its id): "waiting on
    me" on the dashboard and the notification that a record waits for
    someone link there. The model's ``workflow_title()`` names the record in
    those places; return a lazy string with parameters so that each reader
    sees it in their language, dates in their format.

    Example::

        @hookimpl
        def register_workflows():
            return [Workflow("travel_expense.application", _l("Travel application"), Trip,
                             states=[...], transitions=[...], url="/travel_expense/trip/{id}")]
    """


@hookspec
def register_jobs():
    """Return periodic jobs (reminders, monthly reports, fines).

    ``fuwu jobs run`` runs every job that is due, each under a database lock so
    two processes never run the same job at once.

    Returns a list of ``fuwu.jobs.Job``.

    Example::

        @hookimpl
        def register_jobs():
            return [Job("complaints.monthly_report", monthly_report, every=timedelta(days=1))]
    """


@hookspec
def register_hookspecs():
    """Return modules or classes holding this plugin's own hook specs.

    Lets a plugin announce domain events other plugins listen to (for example
    ``service_period_renewed``). Called before implementations are validated,
    so listeners in other plugins are checked against these specs too.

    Example::

        @hookimpl
        def register_hookspecs():
            from . import hookspecs
            return [hookspecs]
    """


@hookspec
def demo_data(session, site):
    """Add believable demo records for ``fuwu demo load`` / ``make run``.

    Called inside one transaction after core demo data exists (customers,
    contracts, staff), in dependency order. Demo rows must be idempotent:
    look up by a natural key before inserting, so loading twice adds nothing.

    Returns nothing.

    Example::

        @hookimpl
        def demo_data(session, site):
            if not session.scalar(select(Trip).limit(1)):
                session.add(Trip(...))
    """


# --- What a plugin shows ------------------------------------------------------


@hookspec
def menu_items(request):
    """Return navigation entries for the current user.

    Return only entries the user may open (``request.state.user.can(perm)``).
    Entries with the same ``section`` are shown together under it, by
    ``order``; a section comes where its lowest ``order`` puts it.

    Decide the entries by permissions alone: the app asks once per language
    and set of grants and shows the same menu to everyone holding them
    (no counts or per-record links here; put those on a dashboard widget).

    Returns a list of ``fuwu.web.ui.MenuItem``.

    Example::

        @hookimpl
        def menu_items(request):
            if request.state.user.can("travel_expense.claim.view"):
                return [MenuItem(_("Travel"), request.url_for("travel_expense:list"))]
    """


@hookspec
def dashboard_widgets(request):
    """Return home-page cards for the current user.

    Returns a list of ``fuwu.web.ui.Widget`` (title, template, context).
    """


@hookspec
def customer_panels(request, customer):
    """Return sections shown on a customer's page.

    ``customer`` is a ``fuwu.models.Customer``. Respect permissions.

    Returns a list of ``fuwu.web.ui.Panel`` (title, template, context).
    """


@hookspec
def search_results(request, text):
    """Return what this plugin's records match for the search box at the top
    of every page (``/search?q=``): a serial number, a complaint number.

    ``text`` is what was typed, trimmed, full-width letters and digits read as
    ASCII. Return only records the user may see (check the permission and
    the record rules, e.g. ``fuwu.web.scope.customers(request.state.user)``).
    Read at most ``fuwu.web.ui.SEARCH_HITS + 1`` rows, one query per section,
    and build the section with ``SearchSection.of`` so it shows the first
    few and links to your list page for the rest. ``SearchHit.of(title, url,
    *details)`` writes the hit's second line from the details that are not
    empty (its customer, its state), separated by " · ".

    Returns a list of ``fuwu.web.ui.SearchSection``.

    Example::

        @hookimpl
        def search_results(request, text):
            if not request.state.user.can("hotline.call.view"):
                return []
            rows = request.state.db.execute(select(Call.id, Call.number, Call.summary)
                                            .where(Call.number.ilike(f"%{text}%"))
                                            .order_by(Call.number).limit(SEARCH_HITS + 1)).all()
            return [SearchSection.of(_("Hotline calls"), [
                SearchHit(r.number, request.url_for("hotline:call", call_id=r.id).path, r.summary) for r in rows],
                more_url=request.url_for("hotline:list").path + "?" + urlencode({"q": text}))]
    """


@hookspec
def register_link_purposes():
    """Return what this plugin's signed one-time links open.

    People without an account (a customer rating a service, a trainee taking
    an exam) get a link ``/l/<token>`` naming one record and one purpose; the
    core checks signature, expiry, single use and withdrawal, then calls the
    purpose's handler with a ``fuwu.links.LinkVisit``. Issue a link with
    ``fuwu.links.issue_for(site, session, key, record)``; the address to mail
    or show is ``fuwu.web.urls.absolute_url(request, "link", token=token)``
    (under the deployer's ``[site] public_url``, not an internal host).

    Returns a list of ``fuwu.links.LinkPurpose``.

    Example::

        @hookimpl
        def register_link_purposes():
            return [LinkPurpose(key="training.exam", label=_l("Take the exam"), model=Enrolment,
                                handler=take_exam, permission="training.exam.manage")]
    """


@hookspec
def register_file_owners():
    """Return this plugin's models whose records keep files (附件).

    Core keeps the files (in the database, with the deployer's size and type
    limits), shows them in a panel, takes uploads at
    ``/records/<table>/<id>/files`` and serves ``/files/<id>`` as a download;
    the plugin says who sees the record and who may add or delete its files.
    On the record's page, ``fuwu.web.attachment_panel.record_panel(request,
    record)`` gives the context of ``{% include "core/attachments/panel.html" %}``
    (as ``files``). Adding and deleting a file is written into the audit log
    under the record. A record deleted through the ORM takes its files along.

    Returns a list of ``fuwu.attachments.FileOwner``.

    Example::

        @hookimpl
        def register_file_owners():
            return [FileOwner(
                model=Ticket,
                visible=lambda request, ticket_id: visible_ticket(request, ticket_id),  # or None: 404
                url=lambda request, ticket: request.url_for("desk:ticket", ticket_id=ticket.id).path,
                may_attach=lambda request, ticket: ticket.state != "closed",
                render=lambda request, ticket, error: ticket_page(request, ticket, files_error=error, status=422),
                hint=_l("Screenshots or the customer's error log."))]
    """


@hookspec
def staff_panels(request, staff):
    """Return sections shown on a staff member's page.

    ``staff`` is a ``fuwu.models.Staff``. Show only what the signed-in user
    may see (``request.state.user``).

    Returns a list of ``fuwu.web.ui.Panel`` (title, template, context).
    """


@hookspec
def first_visit_checks(customer):
    """Return extra items for the first-visit verification checklist (CORE-2).

    ``customer`` is the ``Customer`` being called. Core asks company name,
    contact, phone, address and purchased software; a plugin adds items such
    as "service code received" and "dongle number correct" (SK-4).

    Returns a list of ``(key, label)`` pairs; ``key`` is ``<plugin>.<item>``.
    """


# --- Domain events: called inside the unit of work ----------------------------
#
# A listener runs in the same transaction as the change that caused it: its
# writes commit together with it, and an exception rolls everything back.


@hookspec
def customer_created(session, customer):
    """A customer was added (``session``: the unit of work's ORM session)."""


@hookspec
def customer_changed(session, customer, changes):
    """A customer was edited; ``changes`` maps field -> (old, new)."""


@hookspec
def contract_signed(session, contract):
    """A contract was added (sales or service, CORE-4)."""


@hookspec
def contract_changed(session, contract, changes):
    """A contract was edited; ``changes`` maps field -> (old, new)."""


@hookspec
def staff_changed(session, staff, changes):
    """A staff member was added (``changes`` empty) or edited."""


@hookspec
def workflow_transition(session, record, workflow, transition, actor, comment):
    """A form moved from one state to another (CORE-5).

    ``workflow`` is the ``Workflow``; ``transition`` the ``Transition`` taken
    (``.source``, ``.target``, ``.name``); ``actor`` the ``Staff``; ``comment``
    the reason or remark, possibly empty.
    """


@hookspec
def incentive_due(session, staff, amount, reason, rule_id, source):
    """A rule earned someone a reward (``amount`` > 0) or a fine (< 0).

    Rule plugins call it; a ledger plugin (``incentives``) records it.
    ``staff`` is a ``Staff``; ``amount`` a ``Decimal`` in CNY with 2 places;
    ``reason`` a sentence for the ledger, which keeps it as written: make it
    in the site's language with ``fuwu.i18n.site_text``; ``rule_id`` e.g.
    ``"RES-5"``; ``source`` a ``(kind, id)`` pair naming the record that
    caused it, so the ledger can refuse to book the same cause twice.

    Example::

        site.events.emit(session, "incentive_due", staff=engineer,
                         amount=Decimal("-30.00"), reason=site_text(site, N_("Trip not recorded")),
                         rule_id="TRV-8", source=("travel_expense.trip", trip.id))
    """
