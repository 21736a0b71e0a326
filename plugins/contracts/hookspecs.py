"""Hooks the contracts plugin adds for other plugins (registered through
``register_hookspecs``). Plugins that use them declare
``depends=("contracts>=0.1",)`` in their manifest.
"""

from __future__ import annotations

from pluggy import HookspecMarker

hookspec = HookspecMarker("fuwu")


@hookspec
def service_period_renewed(session, contract, period, renewal):
    """A renewal was completed: ``period`` is the contract's new service period (CON-5).

    Called inside the unit of work that completes the renewal, so a listener's
    writes commit with it and an exception rolls the completion back (the
    serial_keys plugin renews the contract's keys here, SK-3).
    ``contract`` is a ``fuwu.models.Contract``, ``period`` a
    ``fuwu_plugins.contracts.models.ServicePeriod`` (``starts_on``,
    ``ends_on``, ``amount``), ``renewal`` the completed
    ``fuwu_plugins.contracts.models.Renewal`` (its ``assigned_to``, ``notes``).

    Example::

        @hookimpl
        def service_period_renewed(session, contract, period):
            for key in session.scalars(select(SerialKey).where(SerialKey.contract_id == contract.id)):
                key.valid_until = period.ends_on
    """


@hookspec(firstresult=True)
def sla_deadlines(site, session, contract, started_at, level):
    """The deadline of every SLA milestone for an incident on ``contract`` (CON-3).

    *First result.* The contracts plugin answers; a plugin registered after
    it may answer first to apply its own levels. ``started_at`` is an aware
    datetime (when the incident was reported). ``level`` is the code of the
    SLA level to use (e.g. ``"factory_repair"``), or ``None`` for the
    contract's own: its level while a service period covers the day, the
    out-of-warranty level otherwise. Pass every argument (``level=None``).

    Returns a ``fuwu_plugins.contracts.services.SlaAnswer`` with ``level``
    (the ``SlaLevel``), ``in_warranty``, ``period`` (covering period or
    None) and ``deadlines``: a list of ``rules.Deadline`` (``key``, ``label``
    (untranslated), ``amount``, ``unit``, ``due``: aware, Asia/Shanghai).

    Example (a service desk computing a ticket's deadlines)::

        answer = site.plugins.hook.sla_deadlines(site=site, session=session, contract=contract,
                                                 started_at=ticket.reported_at, level=None)
        ticket.respond_by = next(d.due for d in answer.deadlines if d.key == "respond")
    """
