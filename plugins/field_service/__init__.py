"""field_service: Mobile service dispatch and monthly awards, team service projects with exact bonus split."""

from fuwu import Manifest
from fuwu.i18n import lazy_gettext as _l

MANIFEST = Manifest(
    name="field_service",
    version="0.1.0",
    title=_l("Field service"),
    summary=_l("Mobile service dispatch and monthly awards, team service projects with exact bonus split"),
    license="Apache-2.0",
)
