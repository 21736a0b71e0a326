"""onsite_residency: Resident engineers: attendance, response log, monthly report approval chain, customer rating, allowance and penalties."""

from fuwu import Manifest

MANIFEST = Manifest(
    name="onsite_residency",
    version="0.1.0",
    summary="Resident engineers: attendance, response log, monthly report approval chain, customer rating, allowance and penalties",
    license="Apache-2.0",
)
