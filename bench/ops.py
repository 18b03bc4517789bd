"""The operator's view at scale: dashboard JSON, charts JSON, failure groups and /metrics
answer times with a million job rows in PostgreSQL.

    .venv/bin/python bench/ops.py [--rows 1000000] [--runs 9] [--reload]
                                  [--explain] [--without-waiting-index]

Uses DATABASE_URL (default: PostgreSQL database `mediaqueue_ops_bench` on
127.0.0.1, created and migrated if missing) and REDIS_URL (default Redis
database 9 of 127.0.0.1:6379; only the /metrics keys are removed). The rows
are written once by one INSERT ... SELECT over generate_series (kept between
runs; --reload writes them again): the registered job types, the configured
queues, 30 days of history in insertion order (as a live table grows), 94%
completed, 3% failed with a handful of error shapes, 1% cancelled, about 2%
queued or retrying and a few running.

Each view is called through Django's test client (middleware, sessions and
authentication included, as a browser or Prometheus would) once to warm up,
then --runs times; the script prints the median, the 90th percentile and the
slowest. /metrics is measured warm (its whole-table count of finished jobs is
cached, as between two scrapes) and cold (recounted on every scrape).
--explain prints the plans of the dashboard's and /metrics' queries;
--without-waiting-index measures once more without the partial index
job_waiting_queue_idx (dropped, then put back).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/mediaqueue_ops_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
TARGET_MS = 200.0

LOAD_SQL = """
INSERT INTO jobs_processingjob (
    id, job_type, object_id, queue, priority, status, progress, progress_message,
    attempts, max_retries, dispatch_generation, params, result, error_message,
    traceback, attempt_log, worker, queued_at, started_at, completed_at,
    heartbeat_at, idempotency_key, content_type_id, submitted_by_id, task_id
)
SELECT g.id, t.types[1 + g.i %% cardinality(t.types)], (g.i %% 50000)::text,
    t.queues[1 + (g.i / 7) %% cardinality(t.queues)], 5, g.status,
    CASE WHEN g.status = 'completed' THEN 100 ELSE 0 END, '',
    CASE WHEN g.status = 'failed' THEN 4 ELSE 1 END, 3, 0, '{}'::jsonb, NULL,
    CASE WHEN g.status IN ('failed', 'retrying') THEN (ARRAY[
        'OSError: [Errno 28] No space left on device: ''/var/media/' || g.i || '.jpg''',
        'DiagnosticFailure: diagnostic failure on attempt ' || (g.i %% 4),
        'ValueError: cannot identify image file ' || g.id::text,
        'TimeoutError: ffmpeg timed out after ' || (g.i %% 600) || ' s',
        'HTTPError: 503 from https://vision.example.com/v1/chat?id=' || g.i
    ])[1 + g.i %% 5] ELSE '' END,
    CASE WHEN g.status = 'failed'
        THEN 'Traceback (most recent call last):' || chr(10) || '  File "x.py"'
        ELSE '' END,
    '[]'::jsonb,
    CASE WHEN g.status = 'queued' THEN '' ELSE 'worker' || (g.i %% 4) || '@host' END,
    g.queued_at,
    CASE WHEN g.status = 'queued' THEN NULL ELSE g.queued_at + interval '2 seconds' END,
    CASE WHEN g.status IN ('completed', 'failed', 'cancelled')
        THEN g.queued_at + interval '2 seconds' + (g.i %% 120) * interval '1 second'
        ELSE NULL END,
    CASE WHEN g.status = 'running' THEN now() ELSE NULL END,
    NULL, NULL, NULL, g.id::text
FROM (
    SELECT i, gen_random_uuid() AS id,
        CASE WHEN i %% 1000 < 940 THEN 'completed'
             WHEN i %% 1000 < 970 THEN 'failed'
             WHEN i %% 1000 < 980 THEN 'cancelled'
             WHEN i %% 1000 < 999 THEN 'queued'
             ELSE 'retrying' END AS status,
        -- Active jobs are the recent ones; finished ones span 30 days.
        CASE WHEN i %% 1000 >= 980
             THEN now() - random() * interval '2 hours'
             ELSE now() - random() * interval '30 days' END AS queued_at
    FROM generate_series(1, %(rows)s) i
) g, (SELECT %(types)s::text[] AS types, %(queues)s::text[] AS queues) t
ORDER BY g.queued_at
"""


def prepare_environment() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DJANGO_DEBUG"] = "False"  # DEBUG keeps every query in memory
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        raise SystemExit("bench/ops.py measures PostgreSQL: set a postgres:// URL")
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=PROJECT_DIR,
        check=True,
    )


def load_rows(rows: int, *, reload: bool) -> None:
    from django.conf import settings
    from django.db import connection

    from jobs.job_types import job_type_list
    from jobs.models import ProcessingJob

    have = ProcessingJob.objects.count()
    if have >= rows and not reload:
        print(f"{have:,} job rows already there (--reload writes them again)")
        return
    types = [spec.name for spec in job_type_list()]
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE jobs_processingjob CASCADE")
        cursor.execute(
            LOAD_SQL,
            {"rows": rows, "types": types, "queues": list(settings.JOBS_QUEUES)},
        )
        cursor.execute(
            "UPDATE jobs_processingjob SET status = 'running', completed_at = NULL, "
            "heartbeat_at = now(), progress = 40 WHERE id IN (SELECT id FROM "
            "jobs_processingjob WHERE status = 'completed' ORDER BY queued_at DESC "
            "LIMIT 40)"
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE jobs_processingjob")
    print(
        f"wrote {rows:,} job rows ({len(types)} types) in "
        f"{time.monotonic() - started:.0f} s"
    )


def timed(client, path: str, runs: int, **headers) -> list[float]:
    response = client.get(path, **headers)  # warm-up
    assert response.status_code == 200, (path, response.status_code)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, **headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times


def line(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    median = statistics.median(times)
    verdict = "ok" if median <= TARGET_MS else "OVER"
    return (
        f"{name:<34} {median:8.1f} {p90:8.1f} {ordered[-1]:8.1f}   "
        f"{verdict} (target p50 <= {TARGET_MS:.0f} ms)"
    )


def measure(runs: int, label: str) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from jobs import broker

    user, _ = get_user_model().objects.get_or_create(
        username="ops-bench", defaults={"is_staff": True, "is_superuser": True}
    )
    token, _ = Token.objects.get_or_create(user=user)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    metrics_auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    for key in broker.broker_client().scan_iter("mq:ops:metrics:*"):
        broker.broker_client().delete(key)
    print(f"\n{label}: {runs} runs after a warm-up, milliseconds")
    print(f"{'view':<34} {'p50':>8} {'p90':>8} {'max':>8}")
    print(line("dashboard JSON", timed(client, "/admin/jobs/dashboard/data/", runs)))
    print(
        line(
            "dashboard charts JSON",
            timed(client, "/admin/jobs/dashboard/charts/", runs),
        )
    )
    print(
        line(
            "/metrics (warm)",
            timed(Client(HTTP_HOST="localhost"), "/metrics", runs, **metrics_auth),
        )
    )
    settings.OPS_METRICS_FINISHED_COUNTS_MAX_AGE_S = 0
    print(
        line(
            "/metrics (cold: recount each)",
            timed(Client(HTTP_HOST="localhost"), "/metrics", runs, **metrics_auth),
        )
    )
    settings.OPS_METRICS_FINISHED_COUNTS_MAX_AGE_S = 300.0
    print(
        line(
            "failure groups page (7 days)",
            timed(client, "/admin/jobs/failuregroup/", runs),
        )
    )
    print(line("jobs list page", timed(client, "/admin/jobs/processingjob/", runs)))


def explain() -> None:
    from datetime import timedelta

    from django.db.models import Count
    from django.db.models import Min
    from django.utils import timezone

    from jobs.models import ProcessingJob

    now = timezone.now()
    queries = {
        "waiting per queue, oldest": ProcessingJob.objects.filter(
            status__in=["queued", "retrying"]
        )
        .values("queue")
        .annotate(n=Count("id"), oldest=Min("queued_at"))
        .order_by(),
        "outcomes of the last day per queue": ProcessingJob.objects.filter(
            status__in=["completed", "failed"],
            completed_at__gte=now - timedelta(days=1),
        )
        .values("queue", "status")
        .annotate(n=Count("id"))
        .order_by(),
        "active jobs per type and status": ProcessingJob.objects.filter(
            status__in=["queued", "running", "retrying"]
        )
        .values("job_type", "status")
        .annotate(n=Count("id"))
        .order_by(),
        "overdue waiting jobs": ProcessingJob.objects.filter(
            status__in=["queued", "retrying"],
            queue="low",
            queued_at__lt=now - timedelta(minutes=10),
        )
        .order_by("queued_at")
        .values("id")[:50],
    }
    for name, queryset in queries.items():
        print(f"\n-- {name}")
        print(queryset.explain(analyze=True))


def without_waiting_index(runs: int) -> None:
    from django.db import connection

    from jobs.models import ProcessingJob

    index = next(
        index
        for index in ProcessingJob._meta.indexes
        if index.name == "job_waiting_queue_idx"
    )
    with connection.schema_editor() as editor:
        editor.remove_index(ProcessingJob, index)
    try:
        measure(runs, "without job_waiting_queue_idx")
    finally:
        with connection.schema_editor() as editor:
            editor.add_index(ProcessingJob, index)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE jobs_processingjob")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--without-waiting-index", action="store_true")
    args = parser.parse_args()
    prepare_environment()
    import django

    django.setup()
    from django.db import connection

    print(f"database: {connection.settings_dict['NAME']} (PostgreSQL)")
    load_rows(args.rows, reload=args.reload)
    measure(args.runs, f"{args.rows:,} job rows")
    if args.explain:
        explain()
    if args.without_waiting_index:
        without_waiting_index(args.runs)


if __name__ == "__main__":
    main()
