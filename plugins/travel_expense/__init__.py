"""travel_expense: Travel applications, advances with the one-open-advance rule, per-diem reimbursement with explanations."""

from fuwu import Manifest

MANIFEST = Manifest(
    name="travel_expense",
    version="0.1.0",
    summary="Travel applications, advances with the one-open-advance rule, per-diem reimbursement with explanations",
    license="Apache-2.0",
)
