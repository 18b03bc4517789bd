"""Settings for pytest: short timings so real workers finish quickly."""

from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES
from .base import VAR_DIR
from .base import env

# Tests use their own Redis database so they never touch a running dev stack.
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/15")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "mediaqueue-test",
    }
}

SECRET_KEY = env("DJANGO_SECRET_KEY", default="test-only-insecure-key")
# No collectstatic before tests: the finders serve the apps' static files.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Worker processes started by the tests share the test database, so SQLite
# must be a file rather than the default in-memory test database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-mediaqueue.sqlite3")}

JOBS_RETRY_BACKOFF_BASE_S = env.float("JOBS_RETRY_BACKOFF_BASE_S", default=0.5)
JOBS_HEARTBEAT_INTERVAL_S = env.float("JOBS_HEARTBEAT_INTERVAL_S", default=0.5)
JOBS_STALE_HEARTBEAT_S = env.float("JOBS_STALE_HEARTBEAT_S", default=3.0)
JOBS_QUEUED_GRACE_S = env.float("JOBS_QUEUED_GRACE_S", default=0.0)
JOBS_INSPECT_TIMEOUT_S = env.float("JOBS_INSPECT_TIMEOUT_S", default=1.0)
JOBS_WORKER_PRESENCE_INTERVAL_S = env.float(
    "JOBS_WORKER_PRESENCE_INTERVAL_S", default=0.5
)
JOBS_PAUSED_REQUEUE_DELAY_S = env.float("JOBS_PAUSED_REQUEUE_DELAY_S", default=0.2)

# RATE LIMITS --------------------------------------------------------------
API_RATELIMIT_REDIS_URL = REDIS_URL
# The /api/v1/ limits are off here: other tests count queries and requests;
# the rate-limit tests switch them on where they test them.
API_RATE_LIMITS = {
    **API_RATE_LIMITS,  # noqa: F405
    "api": env("API_RATE_API", default=""),
    "staff": env("API_RATE_STAFF", default=""),
}
