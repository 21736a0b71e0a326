"""Hooks the field_service plugin asks other plugins to answer."""

from pluggy import HookspecMarker

hookspec = HookspecMarker("fuwu")


@hookspec
def field_service_complaints(session, staff_ids, month_start, month_end):
    """How many complaints each technician received in the month (RES-7).

    ``staff_ids``: the technicians; ``month_start`` (inclusive) and
    ``month_end`` (exclusive) are dates. Return ``{staff_id: count}``; the
    answers of every implementation are added up. A complaints plugin answers
    it; without one, nobody has complaints.
    """
