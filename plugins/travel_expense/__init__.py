"""travel_expense: Travel applications, advances with the one-open-advance rule, per-diem reimbursement with explanations."""

from fuwu import Manifest
from fuwu.i18n import lazy_gettext as _l

MANIFEST = Manifest(
    name="travel_expense",
    version="0.1.0",
    title=_l("Travel"),
    summary=_l("Travel applications, advances with the one-open-advance rule, per-diem reimbursement with explanations"),
    license="Apache-2.0",
)
