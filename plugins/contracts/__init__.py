"""contracts: service periods, SLA levels, free visits, renewal (CON-1..6)."""

from fuwu import Manifest
from fuwu.i18n import lazy_gettext as _l

MANIFEST = Manifest(
    name="contracts",
    version="0.1.0",
    title=_l("Service contracts"),
    summary=_l("Service periods, SLA levels, free-visit entitlement, renewal workflow and expiry board"),
    license="Apache-2.0",
)
