"""Alembic environment shared by core and every plugin branch.

Run through ``fuwu db upgrade`` (``fuwu.migrate``), which passes the open
connection and the site in ``config.attributes``.
"""

from alembic import context

from fuwu.db import Base

config = context.config
connection = config.attributes["connection"]

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)

with context.begin_transaction():
    context.run_migrations()
