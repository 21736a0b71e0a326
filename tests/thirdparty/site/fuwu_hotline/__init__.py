"""An example third-party plugin, in its own package, written from the guide.

It logs hotline calls (a model + migration branch), has a setting, a review
workflow, a permission, and listens to ``customer_created``.
"""

from fuwu import Manifest

MANIFEST = Manifest(
    name="hotline",
    version="1.0",
    summary="Hotline call log (example plugin)",
    license="Apache-2.0",
)
