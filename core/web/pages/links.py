"""(being written)"""


def routes() -> list:
    return []
