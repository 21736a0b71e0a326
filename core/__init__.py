"""fuwu: a small core for after-sales service departments, and plugins.

What a plugin author imports::

    from fuwu import hookimpl, Manifest, Setting, Permission, Job
    from fuwu.workflow import Workflow, WorkflowMixin
    from fuwu.models import Customer, Contract, Staff
"""

from pluggy import HookimplMarker

hookimpl = HookimplMarker("fuwu")

from .config import Setting  # noqa: E402
from .jobs import Job  # noqa: E402
from .permissions import Permission  # noqa: E402
from .plugins import Manifest  # noqa: E402

__version__ = "0.1.0"
__all__ = ["hookimpl", "Job", "Manifest", "Permission", "Setting", "__version__"]
