"""A token bucket per key in Redis (GCRA): smooth, exact under concurrency.

The generic cell-rate algorithm keeps one timestamp per key, the "theoretical
arrival time" (TAT). A limit of N per period P lets a burst of N through,
then one request every P/N: a client can never double its budget at a
window edge as with fixed windows. The check and the update are one Lua
script, atomic on the server, so every web process shares exact counts.
"""

import math
import time
from dataclasses import dataclass
from functools import lru_cache

import redis

# KEYS: the buckets. ARGV[1]: now (ms); then for each bucket its period (ms),
# limit, and take (1) or only look (0). All or nothing: tokens are taken only
# when every bucket allows. Returns, per bucket, {allowed 0/1, remaining,
# retry_after_ms, reset_ms}; a look reports what is left without taking.
_GCRA = """
local now = tonumber(ARGV[1])
local results = {}
local taken = {}
local all_allowed = true
for i, key in ipairs(KEYS) do
  local base = 2 + (i - 1) * 3
  local period = tonumber(ARGV[base])
  local limit = tonumber(ARGV[base + 1])
  local take = ARGV[base + 2] == '1'
  local interval = period / limit
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - period
  if now < allow_at then
    all_allowed = false
    results[i] = {0, 0, math.ceil(allow_at - now), math.ceil(tat - now)}
  elseif take then
    taken[i] = new_tat
    results[i] = {1, math.floor((now - allow_at) / interval), 0, math.ceil(new_tat - now)}
  else
    results[i] = {1, math.floor((now - allow_at) / interval) + 1, 0, math.ceil(tat - now)}
  end
end
if all_allowed then
  for i, new_tat in pairs(taken) do
    redis.call('SET', KEYS[i], tostring(new_tat), 'PX', math.ceil(new_tat - now) + 1)
  end
end
return results
"""

_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    limit: int
    period_s: int

    def __str__(self) -> str:
        return f"{self.limit}/{self.period_s}s"


def parse_rate(text: str) -> Rate:
    """'10/m', '100/5m', '1000/h' → Rate; ValueError naming the problem otherwise."""
    try:
        count, _, per = text.strip().partition("/")
        limit = int(count)
        unit = per[-1:].lower()
        multiplier = int(per[:-1]) if per[:-1] else 1
        period_s = multiplier * _UNITS_S[unit]
    except (ValueError, KeyError):
        raise ValueError(
            f"a rate is 'count/period' with period s, m, h or d (e.g. 10/m), not {text!r}"
        ) from None
    if limit < 1 or period_s < 1:
        raise ValueError(f"a rate needs a positive count and period, not {text!r}")
    return Rate(limit=limit, period_s=period_s)


@dataclass(frozen=True)
class BucketState:
    allowed: bool
    remaining: int
    retry_after_s: int
    reset_s: int


@lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1)


@lru_cache(maxsize=4)
def _script_for(url: str):
    return _client_for(url).register_script(_GCRA)


@dataclass(frozen=True)
class BucketRequest:
    key: str
    limit: int
    period_s: int
    take: bool = True


def buckets_take(*, url: str, requests: list[BucketRequest]) -> list[BucketState]:
    """Take a token from each bucket (or look, for take=False) in one round trip.

    All or nothing: if any bucket refuses, no token is taken from the others.
    Raises redis errors.
    """
    now_ms = time.time() * 1000
    args: list = [f"{now_ms:.3f}"]
    for request in requests:
        args += [request.period_s * 1000, max(1, request.limit), int(request.take)]
    replies = _script_for(url)(keys=[request.key for request in requests], args=args)
    return [
        BucketState(
            allowed=bool(allowed),
            remaining=int(remaining),
            retry_after_s=max(1, math.ceil(int(retry_after_ms) / 1000))
            if not allowed
            else 0,
            reset_s=max(0, math.ceil(int(reset_ms) / 1000)),
        )
        for allowed, remaining, retry_after_ms, reset_ms in replies
    ]


def bucket_take(
    *, url: str, key: str, limit: int, period_s: int, take: bool = True
) -> BucketState:
    """Take one token from the key's bucket of `limit` per `period_s` (or, with
    take=False, only look whether one is left); raises redis errors."""
    [state] = buckets_take(
        url=url, requests=[BucketRequest(key, limit, period_s, take)]
    )
    return state
