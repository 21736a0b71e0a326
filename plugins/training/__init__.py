"""training: Courses, training plans agreed with customers, registration, exams, sign-off and staff assessments."""

from fuwu import Manifest
from fuwu.i18n import lazy_gettext as _l

MANIFEST = Manifest(
    name="training",
    version="0.1.0",
    title=_l("Training"),
    summary=_l("Courses, training plans agreed with customers, registration, exams, sign-off and staff assessments"),
    license="Apache-2.0",
)
