"""complaints: Complaint intake, validity review, timed handling and follow-up, escalation, monthly analysis."""

from fuwu import Manifest
from fuwu.i18n import lazy_gettext as _l

MANIFEST = Manifest(
    name="complaints",
    version="0.1.0",
    title=_l("Complaints"),
    summary=_l("Complaint intake, validity review, timed handling and follow-up, escalation, monthly analysis"),
    license="Apache-2.0",
)
