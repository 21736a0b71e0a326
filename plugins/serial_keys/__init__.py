"""serial_keys: Installed base, serial numbers, service codes, dongles, renewal with the service period, entitlement lookup."""

from fuwu import Manifest

MANIFEST = Manifest(
    name="serial_keys",
    version="0.1.0",
    summary="Installed base, serial numbers, service codes, dongles, renewal with the service period, entitlement lookup",
    depends=("contracts>=0.1",),
    license="Apache-2.0",
)
