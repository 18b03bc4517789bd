"""Counters the database does not hold, kept in Redis for /metrics.

Rate-limit refusals, watchdog actions, automatic retries and resends happen
in many processes (web, workers, beat's tasks); one Redis hash holds them,
each field `<name>|<label>=<value>,...`. An increment is one HINCRBY and
never raises: a counter is worth less than the request or job it counts.
"""

import logging
from typing import Any

from jobs import broker

logger = logging.getLogger(__name__)

COUNTERS_KEY = "mq:ops:counters"


def _field(name: str, labels: dict[str, Any]) -> str:
    label_text = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
    return f"{name}|{label_text}"


def counter_add(
    name: str, labels: dict[str, Any] | None = None, amount: int = 1
) -> None:
    """Add `amount` to a counter (created at 0); Redis errors are logged, never raised."""
    counters_add([(name, labels or {}, amount)])


def counters_add(items: list[tuple[str, dict[str, Any], int]]) -> None:
    """Add to several counters in one round trip; Redis errors are logged, never raised."""
    items = [item for item in items if item[2]]
    if not items:
        return
    try:
        with broker.broker_client().pipeline(transaction=False) as pipe:
            for name, labels, amount in items:
                pipe.hincrby(COUNTERS_KEY, _field(name, labels), int(amount))
            pipe.execute()
    except Exception:
        logger.warning("metrics counters not written: %s", items, exc_info=True)


def counters_read() -> dict[str, list[tuple[dict[str, str], int]]]:
    """Every counter: name -> [(labels, value)]."""
    counters: dict[str, list[tuple[dict[str, str], int]]] = {}
    for raw_field, raw_value in broker.broker_client().hgetall(COUNTERS_KEY).items():
        field = raw_field.decode() if isinstance(raw_field, bytes) else raw_field
        name, _, label_text = field.partition("|")
        labels = dict(
            pair.split("=", 1) for pair in label_text.split(",") if "=" in pair
        )
        counters.setdefault(name, []).append((labels, int(raw_value)))
    return counters
