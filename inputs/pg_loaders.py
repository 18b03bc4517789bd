"""PostgreSQL timestamps Python cannot hold, read as the nearest it can.

PostgreSQL stores years up to 294276 and before Christ; Python's datetime
stops at 1..9999. One such row, written before dates were checked, would
make every list, page and job that reads it fail. Read instead, it shows as
the last (or first) representable instant, and the rest of the page works.
"""

from datetime import UTC
from datetime import datetime

from psycopg import DataError
from psycopg import postgres
from psycopg.adapt import Loader
from psycopg.pq import Format

LATEST = datetime.max.replace(tzinfo=UTC)
EARLIEST = datetime.min.replace(tzinfo=UTC)
TIMESTAMPTZ_OID = postgres.types["timestamptz"].oid


def clamping(loader: type[Loader]) -> type[Loader]:
    """A subclass of a timestamptz text loader that clamps instead of failing."""

    class ClampingTimestamptzLoader(loader):
        def load(self, data):
            try:
                return super().load(data)
            except DataError:
                return EARLIEST if bytes(data).rstrip().endswith(b"BC") else LATEST

    return ClampingTimestamptzLoader


def register(psycopg_connection) -> None:
    """Wrap the connection's timestamptz loader (Django's, with its time zone)."""
    adapters = psycopg_connection.adapters
    current = adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    if current is not None and not current.__name__.startswith("Clamping"):
        adapters.register_loader("timestamptz", clamping(current))
