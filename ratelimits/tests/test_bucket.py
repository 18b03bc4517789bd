"""The token bucket in Redis: exact, smooth, shared by every process."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings

from ratelimits.bucket import Rate
from ratelimits.bucket import bucket_take
from ratelimits.bucket import parse_rate


@pytest.fixture
def key(request):
    return f"test-bucket:{request.node.name}:{time.time_ns()}"


def take(key, limit=3, period_s=3600, **kwargs):
    return bucket_take(
        url=settings.API_RATELIMIT_REDIS_URL,
        key=key,
        limit=limit,
        period_s=period_s,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("text", "rate"),
    [("10/m", Rate(10, 60)), ("100/5m", Rate(100, 300)), ("1/d", Rate(1, 86400))],
)
def test_rates_are_parsed(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["10", "x/m", "10/w", "0/m", "-1/s", "10/0m"])
def test_a_malformed_rate_names_the_expected_form(text):
    with pytest.raises(ValueError, match="rate"):
        parse_rate(text)


def test_a_burst_of_the_limit_passes_then_the_next_waits(key):
    states = [take(key) for _ in range(4)]
    assert [state.allowed for state in states] == [True, True, True, False]
    assert [state.remaining for state in states] == [2, 1, 0, 0]
    # One token comes back every period/limit: 1200 s here.
    assert 1190 <= states[3].retry_after_s <= 1200


def test_tokens_come_back_smoothly_not_all_at_a_window_edge(key):
    """4/s: after the burst, one more request is allowed every 250 ms, never 4 at once."""
    for _ in range(4):
        assert take(key, limit=4, period_s=1).allowed is True
    assert take(key, limit=4, period_s=1).allowed is False
    time.sleep(0.3)
    assert take(key, limit=4, period_s=1).allowed is True
    assert take(key, limit=4, period_s=1).allowed is False


def test_looking_takes_no_token(key):
    take(key)
    looks = [take(key, take=False) for _ in range(5)]
    assert {look.remaining for look in looks} == {2}
    assert take(key).remaining == 1


def test_exact_under_concurrency(key):
    """50 threads racing for 10 tokens: exactly 10 get one."""
    start = threading.Barrier(50)

    def race(_):
        start.wait()
        return take(key, limit=10).allowed

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(race, range(50)))
    assert outcomes.count(True) == 10
