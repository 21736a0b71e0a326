"""Database: engine, declarative base, column types, the unit of work.

One ``Database`` per site (no module-level engine), so a test can build many
sites in one process. A unit of work is one transaction: the change, its
audit rows, its timeline entries and every event listener's writes commit
together or not at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, declared_attr, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import TypeDecorator

from .errors import StaleEdit
from .money import quantize

T = TypeVar("T")

# Stable constraint names, so Alembic migrations can refer to them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class AwareDateTime(TypeDecorator):
    """Stores UTC, returns aware UTC datetimes on every database.

    SQLite has no time zones and hands back naive values; refusing naive input
    keeps a local time from being stored as if it were UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; fuwu stores aware times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator):
    """CNY with 2 places, ``Decimal`` in Python.

    PostgreSQL stores ``NUMERIC(12, 2)``. SQLite has no exact decimal type (its
    NUMERIC is a float), so there the column holds integer fen; ``SUM`` in SQL
    stays exact on both because the result keeps this type.
    """

    impl = Numeric(12, 2)
    cache_ok = True

    @property
    def python_type(self) -> type:
        return Decimal

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(12, 2, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be Decimal, not float")
        amount = quantize(Decimal(value))
        return int(amount * 100) if dialect.name == "sqlite" else amount

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return quantize(Decimal(int(value)) / 100)
        return quantize(Decimal(value))

    def coerce_compared_value(self, op, value):
        return self


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: AwareDateTime(), Decimal: Money()}


class Model(Base):
    """Base of every table: id, created/updated (aware UTC), version.

    ``version`` is the ORM version counter: an UPDATE whose row changed since
    it was read fails instead of overwriting someone else's save.
    """

    __abstract__ = True
    #: set False on tables that are themselves logs (audit, sessions).
    __audited__ = True
    #: what the audit log calls a record of this table (a lazy translatable
    #: string), and the path of its page with ``{id}`` (from the app's root,
    #: e.g. ``"/complaints/{id}"``); without a label the log shows the table's name
    __record_label__: Any = None
    __record_url__: str = ""
    #: (table, foreign-key attribute) of the record this one belongs to, whose
    #: history then lists this one's changes: ``("customer", "customer_id")``
    __audit_parent__: tuple[str, str] | None = None
    #: True when ``name`` holds a msgid shown translated (the built-in roles'):
    #: the audit log then names such a record in the reader's language
    __name_is_msgid__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}


#: one past the largest value a database INTEGER holds (PostgreSQL's is 32-bit):
#: a number typed into a URL or form must stay below it to be sent to the database
INTEGER_LIMIT = 2**31


def check_version(obj: Model, expected: int | str | None) -> None:
    """Refuse a save made from a form showing an older version (409)."""
    try:
        seen = int(expected) if expected not in (None, "") else None
    except (TypeError, ValueError):
        seen = None
    if seen is None or seen != obj.version:
        raise StaleEdit(obj)


def run_core(session: Session, statement, params: dict | None = None):
    """Run a Core statement whose rows are plain values (counts, ids, names)
    on the session's connection, after writing what the session holds.

    ``session.execute`` would do the same through the ORM, for about half
    as much again as the query costs; a list page sends three of these."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection().execute(statement, params)


def _is_retryable(exc: BaseException) -> bool:
    """Serialization failures and deadlocks (PostgreSQL) are safe to retry."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code in {"40001", "40P01"}


class Database:
    """Engine + session factory for one site."""

    def __init__(self, url: str, *, echo: bool = False, busy_timeout_ms: int = 30000):
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            _configure_sqlite(self.engine, busy_timeout_ms)
        self._writer = self.engine.execution_options(fuwu_write=True)
        self._reader = self.engine.execution_options(fuwu_write=False)
        self.sessions = sessionmaker(expire_on_commit=False, autoflush=True)
        self.retries = 5

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, *, write: bool = True, actor_id: int | None = None) -> Iterator[Session]:
        """One transaction. ``write`` makes SQLite take its write lock up front
        (BEGIN IMMEDIATE), so two writers queue instead of failing mid-way."""
        session = self.sessions(bind=self._writer if write else self._reader)
        session.info["actor_id"] = actor_id
        try:
            with session.begin():
                yield session
        except StaleDataError as exc:
            raise StaleEdit(None) from exc
        finally:
            session.close()

    def run(self, work: Callable[[Session], T], *, write: bool = True, actor_id: int | None = None) -> T:
        """Run ``work(session)`` in a unit of work, retrying (bounded) on
        serialization failures and deadlocks."""
        for attempt in range(self.retries + 1):
            try:
                with self.session(write=write, actor_id=actor_id) as session:
                    return work(session)
            except (OperationalError, DBAPIError) as exc:
                if attempt >= self.retries or not _is_retryable(exc):
                    raise
                time.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control from the sqlite3 module so BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if conn.get_execution_options().get("fuwu_write", True):
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # may wait for the lock and fail: SQLAlchemy wraps the error
        else:
            # A deferred BEGIN takes no lock and cannot fail; straight to the
            # driver, it costs a tenth of a page's statements less.
            conn.connection.driver_connection.execute("BEGIN")
