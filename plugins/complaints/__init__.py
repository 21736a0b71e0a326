"""complaints: Complaint intake, validity review, timed handling and follow-up, escalation, monthly analysis."""

from fuwu import Manifest

MANIFEST = Manifest(
    name="complaints",
    version="0.1.0",
    summary="Complaint intake, validity review, timed handling and follow-up, escalation, monthly analysis",
    license="Apache-2.0",
)
