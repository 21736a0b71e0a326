"""fuwu's benchmark: fuwu against the bare stack, as ratios, in one run.

``make bench`` (``python -m bench``) builds a SQLite site with 100,000
customers in a temporary folder and compares, in-process, fuwu's pages with
a bare Starlette + SQLAlchemy Core + Jinja2 app on the same database file,
then fuwu's ORM save (audit + timeline) with a Core UPDATE. See README.md.
"""

from .runner import Options, Result, run

__all__ = ["Options", "Result", "run"]
