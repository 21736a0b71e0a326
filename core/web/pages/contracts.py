"""(being written)"""

from starlette.routing import Route

from ..endpoint import AUTHENTICATED, requires


@requires(AUTHENTICATED)
def placeholder(request):
    from ...errors import NotFound

    raise NotFound()


def routes() -> list:
    return [Route("/contracts/{contract_id", placeholder, name="int}:contract")]
