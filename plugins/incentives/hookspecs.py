"""The incentives plugin's own hook: where an entry's source record lives."""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("fuwu")


@hookspec(firstresult=True)
def incentive_source_url(request, kind, source_id):
    """The URL of the record that caused a reward or fine, or None.

    ``kind`` and ``source_id`` are the ``source`` pair of ``incentive_due``.
    Return None when the reader may not open it
    (``fuwu.web.endpoint.may_open(request, name)``). Optional: without an
    answer the ledger tries the route ``<plugin>:<object>`` (then
    ``<plugin>:detail``) with ``<object>_id``, the convention of the
    built-in plugins, and links it when the reader holds its permission.
    """
