"""contracts: service periods, SLA levels, free visits, renewal (CON-1..6)."""

from fuwu import Manifest

MANIFEST = Manifest(
    name="contracts",
    version="0.1.0",
    summary="Service periods, SLA levels, free-visit entitlement, renewal workflow and expiry board",
    license="Apache-2.0",
)
