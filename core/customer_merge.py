"""Merging a customer entered twice into the one to keep (CORE-1).

Everything that belongs to the duplicate, in core and in every plugin, moves
to the kept customer: each foreign key pointing at the duplicate
(``fuwu.references.pointing_at``) is set to the kept one, so a plugin's
records (contracts, keys, complaints, visits) follow without the plugin
doing anything. Then the duplicate is deleted; its history entries are the
kept customer's from then on, and the kept customer's empty fields take the
duplicate's values.

A row that may exist once per customer cannot be there twice: the
duplicate's purchased software already on the kept customer and its
first-visit call when the kept customer has one go with the duplicate. Any
other such table (a plugin's) stops the merge, nothing changed, naming it.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import references, timeline
from .db import Model
from .errors import FuwuError
from .first_visit import FirstVisitCall
from .i18n import N_
from .i18n import lazy_gettext as _l
from .models import Customer

#: the kept customer's empty fields that take the duplicate's value
FILLED = ("region", "office", "address", "phone", "notes")


class MergeConflict(FuwuError):
    status = 409
    default_message = _l("The two customers cannot be merged: both have a %(table)s record that a customer may "
                         "have only once. Nothing was changed.")


def _record_label(table) -> object:
    """What people call a row of ``table`` (its model's ``__record_label__``), else the table's name."""
    for mapper in Model.registry.mappers:
        if mapper.local_table is table and getattr(mapper.class_, "__record_label__", None) is not None:
            return mapper.class_.__record_label__
    return table.name


def merge(db: Session, keep: Customer, duplicate: Customer, *, by: str) -> None:
    """Move all of ``duplicate`` to ``keep`` and delete it."""
    have = {link.product_id for link in keep.products}
    for link in [link for link in duplicate.products if link.product_id in have]:
        duplicate.products.remove(link)
    if any(contact.is_primary for contact in keep.contacts):
        for contact in duplicate.contacts:  # one primary contact: the kept customer's
            contact.is_primary = False
    if db.scalar(select(FirstVisitCall.id).where(FirstVisitCall.customer_id == keep.id)) is not None:
        db.execute(delete(FirstVisitCall).where(FirstVisitCall.customer_id == duplicate.id))
    for key in FILLED:
        if not getattr(keep, key) and getattr(duplicate, key):
            setattr(keep, key, getattr(duplicate, key))
    db.flush()
    for column in references.pointing_at(db, Customer.__table__):
        try:
            with db.begin_nested():
                db.execute(update(column.table).where(column == duplicate.id).values({column.name: keep.id}))
        except IntegrityError as exc:
            raise MergeConflict(table=_record_label(column.table)) from exc
    db.expire(duplicate)  # what it held has moved: deleting it must not take any of it along
    timeline.append(db, keep.id, N_("%(name)s, entered twice, merged into this customer by %(staff)s"),
                    kind="merged", name=duplicate.name, staff=by)
    db.delete(duplicate)
    db.flush()
