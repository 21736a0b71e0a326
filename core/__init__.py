"""fuwu: a small core for after-sales service departments, and plugins.

What a plugin author imports::

    from fuwu import hookimpl, Manifest, Setting, Permission, Job
    from fuwu.workflow import Workflow, WorkflowMixin
    from fuwu.models import Customer, Contract, Staff
"""

from importlib import import_module

from pluggy import HookimplMarker

hookimpl = HookimplMarker("fuwu")

__version__ = "0.1.0"
__all__ = ["hookimpl", "Job", "Manifest", "Permission", "Setting", "__version__"]

# Imported on first use, so `fuwu plugins list` does not pay for SQLAlchemy.
_LAZY = {"Setting": ".config", "Job": ".jobs", "Permission": ".permissions", "Manifest": ".plugins"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fuwu' has no attribute {name!r}")
