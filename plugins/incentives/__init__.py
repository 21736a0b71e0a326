"""incentives: One ledger of rewards and fines from every rule plugin, with review, disputes and payroll export."""

from fuwu import Manifest

MANIFEST = Manifest(
    name="incentives",
    version="0.1.0",
    summary="One ledger of rewards and fines from every rule plugin, with review, disputes and payroll export",
    license="Apache-2.0",
)
