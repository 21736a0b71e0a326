"""onsite_residency: Resident engineers: attendance, response log, monthly report approval chain, customer rating, allowance and penalties."""

from fuwu import Manifest
from fuwu.i18n import lazy_gettext as _l

MANIFEST = Manifest(
    name="onsite_residency",
    version="0.1.0",
    title=_l("Resident service"),
    summary=_l("Resident engineers: attendance, response log, monthly report approval chain, "
               "customer rating, allowance and penalties"),
    license="Apache-2.0",
)
