"""``python -m fuwu`` is the ``fuwu`` command."""

from .cli import main

main()
