"""Domain errors: each says, in one translatable sentence, what went wrong.

The web layer maps them to status codes (``status``) and the CLI prints the
message on one line. Messages are lazy so they render in the reader's language.
"""

from __future__ import annotations

from .i18n import lazy_gettext as _l


class FuwuError(Exception):
    """Base: ``message`` is shown to the user as it is."""

    status = 400

    def __init__(self, message=None, **params):
        self.message = message if message is not None else self.default_message
        self.params = params
        super().__init__(str(self))

    default_message = _l("The request could not be processed.")

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text


class NotFound(FuwuError):
    status = 404
    default_message = _l("Not found.")


class Forbidden(FuwuError):
    status = 403
    default_message = _l("You do not have permission to do this.")


class StaleEdit(FuwuError):
    """Someone saved the record after this user opened it (optimistic lock)."""

    status = 409
    default_message = _l(
        "Someone else saved this record after you opened it. Your changes were not saved; "
        "review their version and apply your changes again."
    )

    def __init__(self, record=None, message=None):
        self.record = record
        super().__init__(message)


class ReadOnlyRecord(FuwuError):
    """An archived form cannot be changed (CORE-5)."""

    status = 409
    default_message = _l("This record is archived and can no longer be changed.")


class ValidationError(FuwuError):
    """Input is wrong; ``errors`` maps field -> message."""

    status = 422
    default_message = _l("Please correct the highlighted fields.")

    def __init__(self, errors: dict | None = None, message=None):
        self.errors = dict(errors or {})
        super().__init__(message)


class ConfigError(FuwuError):
    """The deployment is misconfigured; start-up stops."""
