"""Settings shared by every environment; every value can come from the environment."""

from pathlib import Path

import environ
from kombu import Queue

from config.storage_settings import media_storage

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(str(BASE_DIR / ".env"), overwrite=False)

VAR_DIR = Path(env("MEDIAQUEUE_VAR_DIR", default=str(BASE_DIR / "var")))
# The embedded default keeps its SQLite file and media here: it must exist.
VAR_DIR.mkdir(parents=True, exist_ok=True)

# GENERAL ------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
TIME_ZONE = "UTC"
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# DATABASES ----------------------------------------------------------------
DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'mediaqueue.sqlite3'}"
    )
}
# Workers and web processes keep their connection: a new PostgreSQL session
# per task cuts a DB-writing task's throughput about threefold.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The worker and the web process write concurrently: wait for the lock
    # instead of failing, and let readers go on while one writes (WAL).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

# APPS ---------------------------------------------------------------------
DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from our static files
    "django_celery_beat",
    "django_celery_results",
]
LOCAL_APPS = [
    "jobs",
    "captures",
    "photos",
    "videos",
    "documents",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ratelimits.middleware.RateLimitHeadersMiddleware",
    "inputs.middleware.RequestGuardMiddleware",
    "inputs.middleware.OptionalTrailingSlashMiddleware",
    "ratelimits.middleware.LoginRateLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# REQUEST BODIES -----------------------------------------------------------
# The largest body read into memory: a 20 MB capture is ~27 MB of base64
# JSON (multipart files are streamed to disk and don't count here).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int(
    "DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=28 * 1024 * 1024
)

# Bodies sent chunked (no Content-Length) are read up to this size.
API_CHUNKED_BODY_MAX_BYTES = env.int(
    "API_CHUNKED_BODY_MAX_BYTES", default=100 * 1024 * 1024
)
# JSON nested deeper than this is refused before it is parsed.
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=64)
# Dates a client says something happened at: how far back, how far ahead.
API_DATE_MAX_PAST_DAYS = env.int("API_DATE_MAX_PAST_DAYS", default=366 * 20)
API_DATE_MAX_FUTURE_S = env.int("API_DATE_MAX_FUTURE_S", default=300)

# STATIC AND MEDIA ---------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static"))
MEDIA_URL = "/media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
# Media go through Django's storage API only. Local files under MEDIA_ROOT
# by default; an S3-compatible bucket (django-storages) when web and workers
# run on several machines: MEDIA_STORAGE_URL=s3://bucket/prefix?endpoint_url=
# http://minio:9000&region_name=us-east-1, or AWS_STORAGE_BUCKET_NAME with the
# usual AWS_* variables. Credentials come from AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY (or the machine's role), never from the URL.
MEDIA_STORAGE_URL = env("MEDIA_STORAGE_URL", default="")
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
STORAGES = {
    "default": media_storage(
        url=MEDIA_STORAGE_URL,
        bucket=AWS_STORAGE_BUCKET_NAME,
        endpoint_url=env("AWS_S3_ENDPOINT_URL", default=""),
        region_name=env("AWS_S3_REGION_NAME", default=""),
        location=env("AWS_LOCATION", default=""),
    ),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# REDIS --------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "mediaqueue",
    }
}

# CELERY -------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_RESULT_EXPIRES = env.int("CELERY_RESULT_EXPIRES_S", default=7 * 24 * 3600)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TRACK_STARTED = False
# Workers send task events (Flower, `celery events`); a "sent" event per
# publish would cost every submit another Redis round trip.
CELERY_TASK_SEND_SENT_EVENT = False
CELERY_WORKER_SEND_TASK_EVENTS = True
# Short jobs gain from a few messages in hand; a worker of long jobs (the
# video queue) runs with --prefetch-multiplier 1 so none waits behind another.
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int(
    "CELERY_WORKER_PREFETCH_MULTIPLIER", default=4
)
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int(
    "CELERY_WORKER_MAX_TASKS_PER_CHILD", default=1000
)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Defaults for tasks that are not jobs; every job type sets its own limits.
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_DEFAULT_QUEUE = "default"
JOBS_QUEUES = ["high", "medium", "low", "default", "video", "maintenance"]
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in JOBS_QUEUES]
CELERY_TASK_CREATE_MISSING_QUEUES = True
# Redis knows no message priority of its own: kombu keeps one list per step,
# and step 0 is served first. Ten steps let job priority 9..0 map onto 0..9.
# Redelivery of an unacknowledged message waits for the visibility timeout,
# so it must outlast the longest hard time limit plus the longest countdown.
JOBS_LONGEST_TIME_LIMIT_S = env.int("JOBS_LONGEST_TIME_LIMIT_S", default=2 * 3600)
CELERY_BROKER_VISIBILITY_TIMEOUT_S = env.int(
    "CELERY_BROKER_VISIBILITY_TIMEOUT_S", default=JOBS_LONGEST_TIME_LIMIT_S + 3600
)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT_S,
    # How often a worker sweeps the unacknowledged messages of dead workers
    # back into their queues: about interval x throttle seconds.
    "unacked_restore_interval": env.int(
        "CELERY_BROKER_UNACKED_RESTORE_INTERVAL_S", default=10
    ),
    "unacked_restore_throttle": env.int(
        "CELERY_BROKER_UNACKED_RESTORE_THROTTLE", default=10
    ),
    "priority_steps": list(range(10)),
    "queue_order_strategy": "priority",
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT_S
}
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)

# JOBS ---------------------------------------------------------------------
JOBS_DEFAULT_MAX_RETRIES = env.int("JOBS_DEFAULT_MAX_RETRIES", default=3)
JOBS_RETRY_BACKOFF_BASE_S = env.float("JOBS_RETRY_BACKOFF_BASE_S", default=2.0)
JOBS_RETRY_BACKOFF_MAX_S = env.float("JOBS_RETRY_BACKOFF_MAX_S", default=600.0)
JOBS_HEARTBEAT_INTERVAL_S = env.float("JOBS_HEARTBEAT_INTERVAL_S", default=30.0)
JOBS_STALE_HEARTBEAT_S = env.float("JOBS_STALE_HEARTBEAT_S", default=300.0)
JOBS_QUEUED_GRACE_S = env.float("JOBS_QUEUED_GRACE_S", default=60.0)
JOBS_RETENTION_DAYS = env.int("JOBS_RETENTION_DAYS", default=30)
JOBS_WATCHDOG_INTERVAL_MIN = env.int("JOBS_WATCHDOG_INTERVAL_MIN", default=15)
JOBS_INSPECT_TIMEOUT_S = env.float("JOBS_INSPECT_TIMEOUT_S", default=1.0)
# Workers write their presence (queues, pool size) to Redis this often; one
# silent for three intervals counts as gone (watchdog, health, queues page).
JOBS_WORKER_PRESENCE_INTERVAL_S = env.float(
    "JOBS_WORKER_PRESENCE_INTERVAL_S", default=5.0
)
# A message of a paused queue that a worker took anyway goes back after this.
JOBS_PAUSED_REQUEUE_DELAY_S = env.float("JOBS_PAUSED_REQUEUE_DELAY_S", default=1.0)
# Worker processes commit their state changes without waiting for the WAL
# flush (PostgreSQL's synchronous_commit=off): a job costs two commits, and
# the flush is most of their time. A PostgreSQL crash can then lose the last
# fraction of a second of worker writes, never a submitted job: the watchdog
# finds a job left `running` or `queued` without a message and runs it again
# (every task is idempotent). Web processes always commit synchronously.
JOBS_WORKER_SYNCHRONOUS_COMMIT = env.bool(
    "JOBS_WORKER_SYNCHRONOUS_COMMIT", default=False
)
# The hot statements (a job's claim and completion; ingest's device lookup,
# device lock and duplicate check) are prepared once per connection. Behind a connection pooler in transaction mode, prepared
# statements need PgBouncer >= 1.21 with max_prepared_statements set; turn
# this off otherwise.
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)

# DRF ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "inputs.pagination.StrictPageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["ratelimits.drf.AdaptiveRateThrottle"],
    "DEFAULT_PARSER_CLASSES": [
        "inputs.parsers.GuardedJSONParser",
        "inputs.parsers.GuardedFormParser",
        "inputs.parsers.GuardedMultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mediaqueue API",
    "DESCRIPTION": "Media ingest and processing jobs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.add_error_responses",
    ],
    # The docs pages load nothing from a CDN: sites without internet see them.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status": name each set of choices.
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "jobs.models.ProcessingJob.Status",
        "CaptureStatusEnum": "captures.models.Capture.Status",
        "DocumentStatusEnum": "documents.models.Document.Status",
        "DocumentKindEnum": "documents.models.Document.Kind",
        "ReceiptStatusEnum": "documents.models.Receipt.Status",
        "ReceiptOcrJobStatusEnum": "documents.views.RQ_JOB_STATUSES",
        "WebhookDeliveryOutcomeEnum": "documents.models.WebhookDelivery.Outcome",
        "VideoStatusEnum": "videos.models.Video.Status",
        "RenditionStatusEnum": "videos.models.Rendition.Status",
        "VideoUploadStatusEnum": "videos.models.Upload.Status",
        "PhotoStatusEnum": "photos.models.Photo.Status",
        "ExportStatusEnum": "photos.models.Export.Status",
        "ExportFormatEnum": "photos.models.Export.Format",
        "HealthStatusEnum": ["ok", "unavailable"],
    },
}

# RATE LIMITS --------------------------------------------------------------
# Token buckets in Redis ("count/period", period s|m|h|d; empty = unlimited),
# per user or client IP: "api" for the REST API, "staff" for staff on it
# (operators' bulk work), "login" for failed logins per username and per IP.
# Apps add scopes of their own (CAPTURES_RATE_LIMITS).
API_RATELIMIT_ENABLED = env.bool("API_RATELIMIT_ENABLED", default=True)
API_RATE_LIMITS = {
    "api": env("API_RATE_API", default="100/m"),
    "staff": env("API_RATE_STAFF", default="1000/m"),
    "login": env("API_RATE_LOGIN", default="10/m"),
}
API_RATELIMIT_REDIS_URL = env("API_RATELIMIT_REDIS_URL", default=REDIS_URL)
# The login routes whose failed attempts count against the "login" scope.
API_LOGIN_PATHS = ["/admin/login/", "/api/v1/auth/token/"]
API_RATELIMIT_KEY_PREFIX = env("API_RATELIMIT_KEY_PREFIX", default="rl:")
# Limits shrink linearly to half as queued jobs approach this many; the
# figure is read at most once per API_LOAD_CACHE_S per process.
API_QUEUE_CAPACITY = env.int("API_QUEUE_CAPACITY", default=1000)
API_LOAD_CACHE_S = env.float("API_LOAD_CACHE_S", default=1.0)
# Client IPs come from X-Forwarded-For only behind this many trusted proxies.
API_TRUSTED_PROXY_COUNT = env.int("API_TRUSTED_PROXY_COUNT", default=0)

# LOGGING ------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "celery": {"level": "INFO"},
        # Jobs log one line per outcome (jobs.events); Celery's own
        # received/succeeded lines would add two more per task. Failures
        # still show (ERROR).
        "celery.worker.strategy": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
    },
}

# CAPTURES -----------------------------------------------------------------
CAPTURES_MAX_IMAGE_SIZE = env.int("CAPTURES_MAX_IMAGE_SIZE", default=20 * 1024 * 1024)
CAPTURES_MAX_IMAGE_PIXELS = env.int("CAPTURES_MAX_IMAGE_PIXELS", default=40_000_000)
# The same bytes from the same device within this window are one capture.
CAPTURES_DEDUP_WINDOW_S = env.int("CAPTURES_DEDUP_WINDOW_S", default=600)
CAPTURES_AUTO_PROCESS = env.bool("CAPTURES_AUTO_PROCESS", default=True)
CAPTURES_OCR_ENABLED = env.bool("CAPTURES_OCR_ENABLED", default=True)
CAPTURES_RETENTION_DAYS = env.int("CAPTURES_RETENTION_DAYS", default=30)
# Optional OpenAI-compatible vision endpoint (base URL up to /v1): extra labels.
CAPTURES_VISION_API_URL = env("CAPTURES_VISION_API_URL", default="")
CAPTURES_VISION_API_KEY = env("CAPTURES_VISION_API_KEY", default="")
CAPTURES_VISION_MODEL = env("CAPTURES_VISION_MODEL", default="gpt-4o-mini")
CAPTURES_VISION_TIMEOUT_S = env.float("CAPTURES_VISION_TIMEOUT_S", default=20.0)
# Rate limits of the captures routes ("count/period", period s|m|h|d; empty =
# unlimited): ingest per device, the process routes per user, "admin" the
# other /v1/admin routes. Counted by the project's limiter (see RATE LIMITS).
CAPTURES_RATE_LIMITS = {
    "ingest": env("CAPTURES_RATE_INGEST", default="10/m"),
    # Every ingest request per client IP (answers refused before a device
    # is known carry these headers), and failed device authentications per
    # client IP and per device id.
    "ingest_ip": env("CAPTURES_RATE_INGEST_IP", default="600/m"),
    "auth_failures_ip": env("CAPTURES_RATE_AUTH_FAILURES_IP", default="30/m"),
    "auth_failures_device": env("CAPTURES_RATE_AUTH_FAILURES_DEVICE", default="10/m"),
    "process_capture": env("CAPTURES_RATE_PROCESS_CAPTURE", default="20/m"),
    "process_pending": env("CAPTURES_RATE_PROCESS_PENDING", default="5/m"),
    "admin": env("CAPTURES_RATE_ADMIN", default="100/m"),
}

# PHOTOS -------------------------------------------------------------------
# One uploaded file at most this large (camera RAW files run to ~100 MB).
PHOTOS_MAX_UPLOAD_BYTES = env.int("PHOTOS_MAX_UPLOAD_BYTES", default=200 * 1024 * 1024)
# Files in one upload request (Django refuses more than
# DATA_UPLOAD_MAX_NUMBER_FILES before this is read).
PHOTOS_MAX_FILES_PER_UPLOAD = env.int("PHOTOS_MAX_FILES_PER_UPLOAD", default=100)
# Checked from the header before any pixel is decoded (decompression bombs).
PHOTOS_MAX_PIXELS = env.int("PHOTOS_MAX_PIXELS", default=80_000_000)
# Camera clocks without an EXIF offset are taken to be in this zone.
PHOTOS_DEFAULT_TIMEZONE = env("PHOTOS_DEFAULT_TIMEZONE", default="UTC")
# Uploads queue the EXIF and analysis jobs at once.
PHOTOS_AUTO_ANALYZE = env.bool("PHOTOS_AUTO_ANALYZE", default=True)
# Similar photos: pHash bits apart (of 64) and seconds apart (taken-at).
PHOTOS_GROUP_MAX_DISTANCE = env.int("PHOTOS_GROUP_MAX_DISTANCE", default=10)
PHOTOS_GROUP_WINDOW_S = env.float("PHOTOS_GROUP_WINDOW_S", default=120.0)
# Rate limits per user ("count/period"; empty = unlimited): uploads (each
# request, whatever its number of files) and the original /queue/ routes.
PHOTOS_RATE_LIMITS = {
    "upload": env("PHOTOS_RATE_UPLOAD", default="60/m"),
    "queue": env("PHOTOS_RATE_QUEUE", default="120/m"),
}

# VIDEOS -------------------------------------------------------------------
# What an accepted video may be: its size, and what its header says (checked
# before any frame is decoded; over a limit: 413).
VIDEOS_MAX_UPLOAD_BYTES = env.int("VIDEOS_MAX_UPLOAD_BYTES", default=8 * 1024**3)
VIDEOS_MAX_DURATION_S = env.float("VIDEOS_MAX_DURATION_S", default=4 * 3600)
VIDEOS_MAX_WIDTH = env.int("VIDEOS_MAX_WIDTH", default=7680)  # the long side
VIDEOS_MAX_HEIGHT = env.int("VIDEOS_MAX_HEIGHT", default=4320)  # the short side
VIDEOS_MAX_FPS = env.float("VIDEOS_MAX_FPS", default=240)
# A video posted whole in one request; bigger ones come by tus or multipart.
VIDEOS_DIRECT_UPLOAD_MAX_BYTES = env.int(
    "VIDEOS_DIRECT_UPLOAD_MAX_BYTES", default=100 * 1024**2
)
# An unfinished upload expires this long after it last received data.
VIDEOS_UPLOAD_EXPIRY_S = env.int("VIDEOS_UPLOAD_EXPIRY_S", default=24 * 3600)
VIDEOS_MULTIPART_PART_SIZE_BYTES = env.int(
    "VIDEOS_MULTIPART_PART_SIZE_BYTES", default=16 * 1024**2
)
VIDEOS_MULTIPART_MIN_PART_BYTES = env.int(
    "VIDEOS_MULTIPART_MIN_PART_BYTES", default=1024**2
)
VIDEOS_MULTIPART_MAX_PARTS = env.int("VIDEOS_MULTIPART_MAX_PARTS", default=10_000)
# Local scratch space of web and worker processes (assembling uploads,
# encoding); what a killed process left is removed by the next run.
VIDEOS_WORK_DIR = env("VIDEOS_WORK_DIR", default=str(VAR_DIR / "videos-work"))
# Decoding of uploads runs in a forked child with this much memory and time.
VIDEOS_DECODER_MEMORY_BYTES = env.int(
    "VIDEOS_DECODER_MEMORY_BYTES", default=2 * 1024**3
)
VIDEOS_DECODER_TIMEOUT_S = env.float("VIDEOS_DECODER_TIMEOUT_S", default=120.0)
VIDEOS_THUMBNAIL_POSITION = env.float("VIDEOS_THUMBNAIL_POSITION", default=0.10)
VIDEOS_THUMBNAIL_MAX_SIZE = env.int("VIDEOS_THUMBNAIL_MAX_SIZE", default=1280)
VIDEOS_CONTACT_SHEET_FRAMES = env.int("VIDEOS_CONTACT_SHEET_FRAMES", default=12)
VIDEOS_CONTACT_SHEET_COLUMNS = env.int("VIDEOS_CONTACT_SHEET_COLUMNS", default=4)
# Frame analysis (people, faces, codes, text by the captures analyser) of a
# frame every N seconds, at most MAX_SAMPLES frames (longer videos are
# sampled further apart), and scene cuts; queued for every new video if AUTO.
VIDEOS_ANALYZE_AUTO = env.bool("VIDEOS_ANALYZE_AUTO", default=True)
VIDEOS_ANALYZE_EVERY_S = env.float("VIDEOS_ANALYZE_EVERY_S", default=2.0)
VIDEOS_ANALYZE_MAX_SAMPLES = env.int("VIDEOS_ANALYZE_MAX_SAMPLES", default=600)
VIDEOS_ANALYZE_OCR = env.bool("VIDEOS_ANALYZE_OCR", default=True)
# Rate limits ("count/period"; empty = unlimited) per user: creating uploads,
# sending their data (tus PATCH, multipart parts), re-running jobs.
VIDEOS_RATE_LIMITS = {
    "upload": env("VIDEOS_RATE_UPLOAD", default="30/m"),
    "upload_data": env("VIDEOS_RATE_UPLOAD_DATA", default="3000/m"),
    "reprocess": env("VIDEOS_RATE_REPROCESS", default="30/m"),
}

# DOCUMENTS ----------------------------------------------------------------
# Uploads larger than this are refused (413) before anything is stored.
DOCUMENTS_MAX_UPLOAD_BYTES = env.int(
    "DOCUMENTS_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024
)
# Caps of one extraction (documents.extraction.Limits): pages, pages read by
# OCR, the parser process's memory on top of what it inherits, and time.
DOCUMENTS_MAX_PAGES = env.int("DOCUMENTS_MAX_PAGES", default=2000)
DOCUMENTS_MAX_OCR_PAGES = env.int("DOCUMENTS_MAX_OCR_PAGES", default=100)
DOCUMENTS_PARSER_MEMORY_MB = env.int("DOCUMENTS_PARSER_MEMORY_MB", default=1024)
DOCUMENTS_EXTRACTION_TIME_LIMIT_S = env.float(
    "DOCUMENTS_EXTRACTION_TIME_LIMIT_S", default=600.0
)
DOCUMENTS_OCR_DPI = env.int("DOCUMENTS_OCR_DPI", default=150)
# onnxruntime threads per worker process for OCR (0: one per core). A
# prefork worker with one process per core runs best with 1.
DOCUMENTS_OCR_THREADS = env.int("DOCUMENTS_OCR_THREADS", default=0)
DOCUMENTS_CHUNK_SIZE = env.int("DOCUMENTS_CHUNK_SIZE", default=1000)
DOCUMENTS_CHUNK_OVERLAP = env.int("DOCUMENTS_CHUNK_OVERLAP", default=150)
# PostgreSQL text search configuration of new collections (each collection
# can pick its own; SQLite's FTS5 uses Porter stemming for all).
DOCUMENTS_DEFAULT_SEARCH_LANGUAGE = env(
    "DOCUMENTS_DEFAULT_SEARCH_LANGUAGE", default="english"
)
# Web pages fetched by URL: size and time caps.
DOCUMENTS_WEBPAGE_MAX_BYTES = env.int(
    "DOCUMENTS_WEBPAGE_MAX_BYTES", default=5 * 1024 * 1024
)
DOCUMENTS_WEBPAGE_TIMEOUT_S = env.float("DOCUMENTS_WEBPAGE_TIMEOUT_S", default=20.0)
# Networks that web-page fetches and webhooks may reach besides the public
# internet (CIDR list). Empty in production; tests allow 127.0.0.0/8.
DOCUMENTS_OUTBOUND_ALLOWED_NETWORKS = env.list(
    "DOCUMENTS_OUTBOUND_ALLOWED_NETWORKS", default=[]
)
# Signed completion webhooks: time per attempt and attempts after the first
# (spaced by the engine's backoff).
DOCUMENTS_WEBHOOK_TIMEOUT_S = env.float("DOCUMENTS_WEBHOOK_TIMEOUT_S", default=10.0)
DOCUMENTS_WEBHOOK_MAX_RETRIES = env.int("DOCUMENTS_WEBHOOK_MAX_RETRIES", default=5)
# Receipts: image size cap, and whether an upload queues its OCR at once
# (otherwise POST /receipts/ocr/process-all does).
DOCUMENTS_RECEIPT_MAX_BYTES = env.int(
    "DOCUMENTS_RECEIPT_MAX_BYTES", default=20 * 1024 * 1024
)
DOCUMENTS_RECEIPT_AUTO_OCR = env.bool("DOCUMENTS_RECEIPT_AUTO_OCR", default=True)
DOCUMENTS_RECEIPT_PROCESS_ALL_MAX = env.int(
    "DOCUMENTS_RECEIPT_PROCESS_ALL_MAX", default=500
)
# Optional OpenAI-compatible embeddings endpoint (base URL up to /v1) for
# semantic ranking; never required: search is full-text without it.
DOCUMENTS_EMBEDDINGS_API_URL = env("DOCUMENTS_EMBEDDINGS_API_URL", default="")
DOCUMENTS_EMBEDDINGS_API_KEY = env("DOCUMENTS_EMBEDDINGS_API_KEY", default="")
DOCUMENTS_EMBEDDINGS_MODEL = env(
    "DOCUMENTS_EMBEDDINGS_MODEL", default="text-embedding-3-small"
)
DOCUMENTS_EMBEDDINGS_TIMEOUT_S = env.float(
    "DOCUMENTS_EMBEDDINGS_TIMEOUT_S", default=20.0
)
DOCUMENTS_EMBEDDINGS_BATCH_SIZE = env.int("DOCUMENTS_EMBEDDINGS_BATCH_SIZE", default=64)
# Rate limits of the documents routes per user ("count/period"; empty =
# unlimited), counted by the project's limiter (see RATE LIMITS).
DOCUMENTS_RATE_LIMITS = {
    "upload": env("DOCUMENTS_RATE_UPLOAD", default="60/m"),
    "url": env("DOCUMENTS_RATE_URL", default="30/m"),
    "search": env("DOCUMENTS_RATE_SEARCH", default="120/m"),
    "receipt_upload": env("DOCUMENTS_RATE_RECEIPT_UPLOAD", default="60/m"),
    "receipt_process_all": env("DOCUMENTS_RATE_RECEIPT_PROCESS_ALL", default="5/m"),
    "receipt_status": env("DOCUMENTS_RATE_RECEIPT_STATUS", default="120/m"),
    "webhook_test": env("DOCUMENTS_RATE_WEBHOOK_TEST", default="10/m"),
}

# OPERATIONS ---------------------------------------------------------------
# The operator's view (dashboard, failure groups, job pages, /metrics,
# job-outcome webhooks). The dashboard polls its JSON this often (seconds)
# while its tab is visible; its charts every OPS_CHARTS_POLL_S.
OPS_DASHBOARD_POLL_S = env.float("OPS_DASHBOARD_POLL_S", default=3.0)
OPS_CHARTS_POLL_S = env.float("OPS_CHARTS_POLL_S", default=30.0)
# A queued job counts as stuck once it waited this many times its queue's
# usual wait (last hour's average), and at least OPS_STUCK_QUEUED_MIN_S.
OPS_STUCK_QUEUED_FACTOR = env.float("OPS_STUCK_QUEUED_FACTOR", default=10.0)
OPS_STUCK_QUEUED_MIN_S = env.float("OPS_STUCK_QUEUED_MIN_S", default=600.0)
# Failure groups look this many days back by default (1, 7 or 30 on the page).
OPS_FAILURE_WINDOW_DAYS = env.int("OPS_FAILURE_WINDOW_DAYS", default=7)
# A bulk action (retry, cancel, purge a group; re-run, fail) touches at most
# this many jobs; run it again for the rest.
OPS_BULK_MAX_JOBS = env.int("OPS_BULK_MAX_JOBS", default=1000)
# Progress reports kept per send of a job for its timeline.
OPS_PROGRESS_HISTORY_MAX = env.int("OPS_PROGRESS_HISTORY_MAX", default=30)
# /metrics: staff (session or API token), or this bearer token (empty: none).
OPS_METRICS_TOKEN = env("OPS_METRICS_TOKEN", default="")
# Finished jobs are counted once they are this old (a commit may lag its
# completed_at), catching up at most OPS_METRICS_MAX_CATCHUP_S after a gap.
OPS_METRICS_LAG_S = env.float("OPS_METRICS_LAG_S", default=10.0)
OPS_METRICS_MAX_CATCHUP_S = env.float("OPS_METRICS_MAX_CATCHUP_S", default=3600.0)
# Jobs by type of finished statuses (a count over the whole table) are
# recounted at most this often; active statuses are counted on every scrape.
OPS_METRICS_FINISHED_COUNTS_MAX_AGE_S = env.float(
    "OPS_METRICS_FINISHED_COUNTS_MAX_AGE_S", default=300.0
)
OPS_METRICS_DURATION_BUCKETS_S = env.list(
    "OPS_METRICS_DURATION_BUCKETS_S",
    cast=float,
    default=[0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
)
# Models with a file field of one of these names hold uploads: their row
# counts are the ingest and upload counts of /metrics.
OPS_METRICS_UPLOAD_FIELDS = env.list(
    "OPS_METRICS_UPLOAD_FIELDS", default=["original", "image"]
)
# Job-outcome webhooks: networks deliveries may reach besides the public
# internet (CIDR list; empty in production, tests allow 127.0.0.0/8), time
# per attempt, retries after the first (engine backoff), their queue, the
# sweep's look-back, and how long a process trusts its list of owners.
OPS_WEBHOOK_ALLOWED_NETWORKS = env.list("OPS_WEBHOOK_ALLOWED_NETWORKS", default=[])
OPS_WEBHOOK_TIMEOUT_S = env.float("OPS_WEBHOOK_TIMEOUT_S", default=10.0)
OPS_WEBHOOK_MAX_RETRIES = env.int("OPS_WEBHOOK_MAX_RETRIES", default=5)
OPS_WEBHOOK_QUEUE = env("OPS_WEBHOOK_QUEUE", default="default")
OPS_WEBHOOK_SWEEP_WINDOW_S = env.float("OPS_WEBHOOK_SWEEP_WINDOW_S", default=900.0)
OPS_WEBHOOK_OWNER_CACHE_S = env.float("OPS_WEBHOOK_OWNER_CACHE_S", default=10.0)
# Rate-limit refusals (429s) counted for /metrics, whichever layer refused.
MIDDLEWARE.insert(1, "jobs.ops.middleware.RateLimitRefusalCounterMiddleware")
