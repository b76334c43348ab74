"""The classroom's database: one URL, SQLite by default, PostgreSQL for a department.

    byhand-classroom.db                      a file in the working directory (the default)
    PATH                                     any other SQLite file
    sqlite:///PATH | postgresql+psycopg://…  a SQLAlchemy URL

SQLite runs in WAL mode with `synchronous=FULL`, so a commit is on disk before the server
answers, and readers (the dashboard) never wait for a writer. A write opens its transaction
with `BEGIN IMMEDIATE`, taking SQLite's write lock at once, so two processes never deadlock
upgrading a read lock; on PostgreSQL it locks the rows it counts (`FOR UPDATE`). Opening a
database applies Alembic's migrations up to the newest, under a lock, so several workers may
start together.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from byhand.errors import ByhandError

#: the file `byhand serve --classroom` and `byhand class` use when told nothing else
DEFAULT_FILE = "byhand-classroom.db"
#: the environment variable that names the database (a path or a URL)
ENV = "BYHAND_DATABASE_URL"
MIGRATIONS = "byhand.classroom:migrations"
#: an arbitrary number that names the lock PostgreSQL workers take while migrating
MIGRATION_LOCK = 0x62796861
#: how long a SQLite write waits for another process's write to finish
BUSY_TIMEOUT_S = 15


def resolve(database: str | None = None) -> str:
    """A SQLAlchemy URL for `database` (a path or URL), else $BYHAND_DATABASE_URL, else the
    default file in the working directory."""
    given = database or os.environ.get(ENV) or DEFAULT_FILE
    if "://" not in given:
        return f"sqlite:///{Path(given).expanduser().resolve()}"
    if given.startswith("postgresql://") or given.startswith("postgres://"):
        # psycopg 3 is the driver byhand installs; SQLAlchemy would look for psycopg2
        given = "postgresql+psycopg://" + given.split("://", 1)[1]
    return given


def shown(url: str) -> str:
    """A URL as it may be printed: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ByhandError(f"database {url!r}: not a path or a database URL") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ByhandError("database: an SQLite database must be a file, not :memory:")
        folder = Path(parsed.database).parent
        if not folder.is_dir():
            raise ByhandError(f"database {parsed.database}: the folder {folder} does not exist")
        engine = create_engine(
            parsed,
            connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
            pool_size=8,
            max_overflow=16,
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if backend == "postgresql":
        try:
            return create_engine(parsed, pool_size=8, max_overflow=16, pool_pre_ping=True)
        except ModuleNotFoundError as err:
            raise ByhandError(f"database {shown(url)}: the driver is missing ({err})") from None
    raise ByhandError(f"database {shown(url)}: byhand keeps classes in SQLite or PostgreSQL")


def _sqlite_connect(dbapi_connection, _record) -> None:
    # SQLAlchemy issues BEGIN itself (see _sqlite_begin), not the sqlite3 module
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    write = connection.get_execution_options().get("byhand_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@dataclass
class Database:
    """An open classroom database: its URL and engine, migrated to the newest schema."""

    url: str
    engine: Engine

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction."""
        with self._errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction, committed (on disk) when the block ends."""
        with self._errors(), self.engine.connect() as conn:
            conn = conn.execution_options(byhand_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as err:
            raise DatabaseUnavailable(
                f"the class database cannot be used now: {err.orig}"
            ) from None

    def close(self) -> None:
        self.engine.dispose()

    def revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()


class DatabaseUnavailable(ByhandError):
    """The database refused or timed out: the server answers 503 and the client may retry."""


def _alembic(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["connection"] = conn
    return config


def head() -> str:
    """The newest migration shipped with this version of byhand."""
    return ScriptDirectory.from_config(_alembic(None)).get_current_head()  # type: ignore[arg-type]


def open_database(database: str | None = None) -> Database:
    """Open (creating if need be) the classroom database and migrate it to the newest schema."""
    url = resolve(database)
    engine = _engine(url)
    db = Database(url, engine)
    try:
        with db.write() as conn:
            if db.backend == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            command.upgrade(_alembic(conn), "head")
    except ByhandError:
        engine.dispose()
        raise
    except SQLAlchemyError as err:
        engine.dispose()
        raise ByhandError(
            f"database {shown(url)}: cannot be opened ({err.__cause__ or err})"
        ) from None
    return db
