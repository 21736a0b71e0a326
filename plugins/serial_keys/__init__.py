"""serial_keys: Installed base, serial numbers, service codes, dongles, renewal with the service period, entitlement lookup."""

from fuwu import Manifest
from fuwu.i18n import lazy_gettext as _l

MANIFEST = Manifest(
    name="serial_keys",
    version="0.1.0",
    title=_l("Installed base"),
    summary=_l("Installed base, serial numbers, service codes, dongles, renewal with the service period, "
               "entitlement lookup"),
    depends=("contracts>=0.1",),
    license="Apache-2.0",
)
