"""notifications "… is waiting for you": the form's name in each reader's language

The workflow engine kept the form's name (e.g. "Travel application") as
plain text in the notification's parameters, so every reader saw it in
English. It is now kept as ``{"msgid": …}`` and translated when shown
(``fuwu.i18n.stored_params``); this brings the rows written before over.

Revision ID: 0003_form_names
Revises: 0002_web
Create Date: 2026-11-26 06:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003_form_names'
down_revision = '0002_web'
branch_labels = None
depends_on = None

WAITING = "%(form)s “%(title)s” is waiting for you"
notification = sa.table("core_notification", sa.column("id", sa.Integer), sa.column("message", sa.String),
                        sa.column("params", sa.JSON))


def _convert(wrap: bool) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(notification.c.id, notification.c.params)
                        .where(notification.c.message == WAITING)).all()
    for row_id, params in rows:
        form = (params or {}).get("form")
        if wrap and isinstance(form, str):
            new = {**params, "form": {"msgid": form}}
        elif not wrap and isinstance(form, dict):
            new = {**params, "form": form.get("msgid", "")}
        else:
            continue
        conn.execute(notification.update().where(notification.c.id == row_id).values(params=new))


def upgrade() -> None:
    _convert(wrap=True)


def downgrade() -> None:
    _convert(wrap=False)
