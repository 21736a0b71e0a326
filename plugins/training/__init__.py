"""training: Courses, training plans agreed with customers, registration, exams, sign-off and staff assessments."""

from fuwu import Manifest

MANIFEST = Manifest(
    name="training",
    version="0.1.0",
    summary="Courses, training plans agreed with customers, registration, exams, sign-off and staff assessments",
    license="Apache-2.0",
)
