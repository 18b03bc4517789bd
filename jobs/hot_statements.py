"""Statements that run on every job or every device request, prepared once per connection.

The job claim and completion, and ingest's device lookup, duplicate check
and device lock, each run thousands of times a second across a fleet.
Through the ORM each costs more Python than its round trip; on PostgreSQL
each is also planned again on every run. Here a statement is plain SQL with
named parameters, prepared once per connection on PostgreSQL (psycopg's
`prepare=True`) and run through Django's cursor elsewhere.

Imports nothing else of `jobs`: any app's hot path may use it.
"""

import logging
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db import InterfaceError
from django.db import OperationalError
from django.db import connections

logger = logging.getLogger(__name__)

# Django turns psycopg's automatic preparing off (None). A threshold no
# statement ever reaches keeps it off for every other query, while an
# explicit prepare=True still prepares.
_PREPARE_ONLY_WHEN_ASKED = 2**31 - 1


def connection(using: str = DEFAULT_DB_ALIAS) -> Any:
    return connections[using]


def prepares(db: Any) -> bool:
    """True when this connection's hot statements are prepared (PostgreSQL, not turned off)."""
    return db.vendor == "postgresql" and settings.DB_PREPARED_STATEMENTS


def run(
    sql: str,
    params: dict[str, Any],
    *,
    fetch: bool,
    sql_again: str | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> tuple[Any, int]:
    """Run one statement; returns (its first row or None, rowcount).

    Outside a transaction the statement stands in for Django's per-request
    health check: a connection that died (database restart, idle timeout)
    fails it, and it runs once more on a new connection. A connection can
    also die after the statement committed but before its answer came
    back: a write passes `sql_again`, the statement to send the second
    time, which must also accept its first run's effect (reads send the
    same). Inside a transaction a lost connection is raised as is.
    Parameters are given as the driver takes them: on PostgreSQL psycopg
    adapts Python values itself; elsewhere the caller prepares them.
    """
    db = connection(using)
    for attempt in (1, 2):
        try:
            statement = sql if attempt == 1 else (sql_again or sql)
            result = _execute_once(db, statement, params, fetch=fetch)
        except (OperationalError, InterfaceError):
            if attempt == 2 or db.in_atomic_block:
                raise
            logger.warning("database connection lost; running the statement again")
            db.close()
            continue
        # The statement proved the connection works: what follows in this
        # job or request needs no `SELECT 1` round trip before it.
        db.health_check_done = True
        return result
    raise AssertionError("unreachable")


def _execute_once(
    db: Any, sql: str, params: dict[str, Any], *, fetch: bool
) -> tuple[Any, int]:
    if not prepares(db):
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return (cursor.fetchone() if fetch else None), cursor.rowcount
    import psycopg

    db.ensure_connection()
    raw_connection = db.connection
    if raw_connection.prepare_threshold is None:
        raw_connection.prepare_threshold = _PREPARE_ONLY_WHEN_ASKED
    with db.wrap_database_errors, psycopg.Cursor(raw_connection) as raw:
        raw.execute(sql, params, prepare=True)
        return (raw.fetchone() if fetch else None), raw.rowcount
