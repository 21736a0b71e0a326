"""incentives: One ledger of rewards and fines from every rule plugin, with review, disputes and payroll export."""

from fuwu import Manifest
from fuwu.i18n import lazy_gettext as _l

MANIFEST = Manifest(
    name="incentives",
    version="0.1.0",
    title=_l("Rewards and fines"),
    summary=_l("One ledger of rewards and fines from every rule plugin, with review, disputes and payroll export"),
    license="Apache-2.0",
)
