"""Direct reads and removals on the Redis broker, which Celery's API doesn't offer.

kombu's Redis transport keeps one list per queue and priority step
(`<queue>` for step 0, `<queue>\x06\x163` and so on otherwise: kombu's default
separator, which every Celery tool assumes), the messages that workers hold
but have not acknowledged in the `unacked` hash, and exchange bindings in
`_kombu.binding.<exchange>` sets of `routing_key<sep>pattern<sep>queue`.
"""

import json
from functools import lru_cache

import redis
from django.conf import settings

UNACKED_KEY = "unacked"
UNACKED_INDEX_KEY = "unacked_index"
BINDING_KEY_PATTERN = "_kombu.binding.*"
KOMBU_DEFAULT_SEP = "\x06\x16"


def redis_url_for_client(url: str) -> str:
    """Turn a kombu broker URL into one redis-py understands."""
    if url.startswith("redis+socket://"):
        return "unix://" + url.removeprefix("redis+socket://")
    return url


@lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        redis_url_for_client(url), socket_timeout=5, socket_connect_timeout=2
    )


def broker_client() -> redis.Redis:
    """A pooled client of the broker's Redis (one pool per process and URL)."""
    return _client_for(settings.CELERY_BROKER_URL)


def priority_steps() -> list[int]:
    return list(
        settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("priority_steps", [0, 3, 6, 9])
    )


def separator() -> str:
    """The separator of kombu's Redis keys: the default unless the transport options set one."""
    return settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("sep", KOMBU_DEFAULT_SEP)


def queue_keys(queue: str) -> list[str]:
    """The Redis list of each priority step of a queue, most urgent first."""
    sep = separator()
    return [queue if step == 0 else f"{queue}{sep}{step}" for step in priority_steps()]


def job_priority_to_broker(priority: int) -> int:
    """Map job priority (9 most urgent) onto the Redis transport's (0 served first)."""
    return 9 - priority


def queue_depths(queues: list[str]) -> dict[str, int]:
    """Messages waiting in each queue, all priority steps together."""
    with broker_client().pipeline(transaction=False) as pipe:
        for queue in queues:
            for key in queue_keys(queue):
                pipe.llen(key)
        lengths = pipe.execute()
    steps = len(priority_steps())
    return {
        queue: sum(lengths[index * steps : (index + 1) * steps])
        for index, queue in enumerate(queues)
    }


def _task_id_of(raw: bytes | str) -> str | None:
    try:
        payload = json.loads(raw)
    except (TypeError, ValueError):
        return None
    if isinstance(payload, list):  # an unacked entry: [message, exchange, routing_key]
        payload = payload[0] if payload else {}
    headers = payload.get("headers") or {}
    return headers.get("id") or (payload.get("properties") or {}).get("correlation_id")


def waiting_task_ids(queue: str) -> set[str]:
    """Task ids of the messages waiting in a queue."""
    with broker_client().pipeline(transaction=False) as pipe:
        for key in queue_keys(queue):
            pipe.lrange(key, 0, -1)
        batches = pipe.execute()
    return {
        task_id for batch in batches for raw in batch if (task_id := _task_id_of(raw))
    }


def unacked_task_ids() -> set[str]:
    """Task ids of the messages workers have taken but not acknowledged (incl. ETA ones)."""
    raw_messages = broker_client().hvals(UNACKED_KEY)
    return {task_id for raw in raw_messages if (task_id := _task_id_of(raw))}


def purge_queue(queue: str) -> set[str]:
    """Remove every waiting message of a queue at once; return their task ids."""
    keys = queue_keys(queue)
    with broker_client().pipeline(transaction=True) as pipe:
        for key in keys:
            pipe.lrange(key, 0, -1)
        pipe.delete(*keys)
        replies = pipe.execute()
    return {
        task_id
        for batch in replies[:-1]
        for raw in batch
        if (task_id := _task_id_of(raw))
    }


def remove_waiting_messages(queue: str, task_ids: set[str]) -> set[str]:
    """Remove the waiting messages of these tasks from a queue; return the ids removed."""
    client = broker_client()
    removed: set[str] = set()
    for key in queue_keys(queue):
        for raw in client.lrange(key, 0, -1):
            task_id = _task_id_of(raw)
            if task_id in task_ids and client.lrem(key, 0, raw):
                removed.add(task_id)
    return removed


def unacked_counts_by_queue() -> dict[str, int]:
    """Messages workers hold unacknowledged (prefetched, running or waiting on an ETA), per queue."""
    counts: dict[str, int] = {}
    for raw in broker_client().hvals(UNACKED_KEY):
        try:
            entry = json.loads(raw)
            queue = entry[2] if isinstance(entry, list) and len(entry) > 2 else None
        except (TypeError, ValueError):
            queue = None
        if queue:
            counts[queue] = counts.get(queue, 0) + 1
    return counts


def bindings_repair() -> int:
    """Remove exchange-binding entries that kombu cannot split (written with another separator).

    One such entry (a client configured with a different `sep`) makes every
    worker fail each remote-control command that routes through that
    exchange; removing it restores them. Returns how many were removed.
    """
    client = broker_client()
    sep = separator().encode()
    removed = 0
    for key in client.scan_iter(match=BINDING_KEY_PATTERN, count=100):
        malformed = [
            member for member in client.smembers(key) if member.count(sep) != 2
        ]
        if malformed:
            removed += client.srem(key, *malformed)
    return removed


def ping() -> bool:
    return bool(broker_client().ping())
