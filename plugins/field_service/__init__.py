"""field_service: Mobile service dispatch and monthly awards, team service projects with exact bonus split."""

from fuwu import Manifest

MANIFEST = Manifest(
    name="field_service",
    version="0.1.0",
    summary="Mobile service dispatch and monthly awards, team service projects with exact bonus split",
    license="Apache-2.0",
)
