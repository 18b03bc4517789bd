"""Tracked-job throughput and submit latency against bare Celery, in one run;
then how long an urgent job waits behind a backlog under each prefetch setting.

    .venv/bin/python bench/jobs.py [--jobs 2000] [--rounds 5] [--concurrency 2]
                                   [--worker-log-level info] [--skip-priority]

Uses DATABASE_URL (default: PostgreSQL database `mediaqueue_bench` on
127.0.0.1, created and migrated if missing) and REDIS_URL (default Redis
database 7 of 127.0.0.1:6379, which it empties). The same worker process
(prefork, same settings) serves both kinds of work; each round queues N
messages while the worker is not consuming, then tells it to consume and
times until the last one is done. Prints medians of the rounds and ratios.

The priority part starts a worker per prefetch setting (multiplier 4, 1, and
--disable-prefetch), queues a backlog of 1-second jobs at priority 5, lets
the worker take what it prefetches, then submits one priority-9 job and
measures how long it waits to start; and the no-op throughput each setting
costs.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/mediaqueue_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"
QUEUE = "default"


def prepare_environment() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DJANGO_DEBUG"] = "False"  # DEBUG keeps every query in memory
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    if os.environ["REDIS_URL"].rstrip("/").endswith(":6379/0"):
        raise SystemExit(
            "bench empties its Redis database: point REDIS_URL at a spare one"
        )
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgres"):
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


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


class Bench:
    def __init__(
        self, *, jobs: int, rounds: int, concurrency: int, log_level: str = "warning"
    ):
        import django

        django.setup()
        from celery import current_app

        from jobs import broker

        self.app = current_app
        self.redis = broker.broker_client()
        self.jobs = jobs
        self.rounds = rounds
        self.concurrency = concurrency
        self.log_level = log_level
        self.worker_name = f"bench-{uuid.uuid4().hex[:6]}@localhost"

    def start_worker(self, *extra_args: str) -> subprocess.Popen:
        self.redis.flushdb()
        env = {**os.environ, "CELERY_SKIP_CHECKS": "1"}
        self.worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                QUEUE,
                "-c",
                str(self.concurrency),
                "-n",
                self.worker_name,
                "-l",
                self.log_level,
                "--without-mingle",
                "--without-gossip",
                "--include",
                "bench.noop_tasks",
                *extra_args,
            ],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(200):
            if self.app.control.ping(destination=[self.worker_name], timeout=0.5):
                break
        else:
            raise SystemExit("bench worker did not start")
        self.consume(False)
        return self.worker

    def consume(self, on: bool) -> None:
        if on:
            self.app.control.add_consumer(
                QUEUE, destination=[self.worker_name], reply=True, timeout=2
            )
        else:
            self.app.control.cancel_consumer(
                QUEUE, destination=[self.worker_name], reply=True, timeout=2
            )

    def time_drain(self, finished) -> float:
        started = time.perf_counter()
        self.consume(True)
        # Polled every 25 ms: the bench process shares the cores with the
        # system under test, and the drain lasts seconds (error < 1 %).
        while not finished():
            time.sleep(0.025)
        elapsed = time.perf_counter() - started
        self.consume(False)
        return elapsed

    def bare_round(self) -> float:
        from bench.noop_tasks import noop

        self.redis.delete("bench:noop-done")
        with self.app.producer_or_acquire() as producer:
            for _ in range(self.jobs):
                noop.apply_async(queue=QUEUE, producer=producer)
        return self.time_drain(
            lambda: int(self.redis.get("bench:noop-done") or 0) >= self.jobs
        )

    def tracked_round(self) -> float:
        from jobs import services
        from jobs.models import ProcessingJob

        ProcessingJob.objects.all().delete()
        for start in range(0, self.jobs, 1000):
            count = min(1000, self.jobs - start)
            services.job_submit_batch(
                job_type="jobs.diagnostic", items=[{}] * count, queue=QUEUE
            )
        # An index lookup that stops at the first unfinished job: counting
        # the completed ones on every poll would load the database under test.
        unfinished = ProcessingJob.objects.filter(
            status__in=ProcessingJob.ACTIVE_STATUSES
        )
        elapsed = self.time_drain(lambda: not unfinished.exists())
        assert not ProcessingJob.objects.exclude(
            status=ProcessingJob.Status.COMPLETED
        ).exists()
        return elapsed

    def submit_latencies(self, samples: int = 500) -> tuple[list[float], list[float]]:
        from bench.noop_tasks import noop
        from jobs import services

        bare, tracked = [], []
        for _ in range(samples):
            started = time.perf_counter()
            noop.apply_async(queue=QUEUE)
            bare.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            services.job_submit(job_type="jobs.diagnostic", queue=QUEUE)
            tracked.append((time.perf_counter() - started) * 1000)
        self.redis.flushdb()
        return bare, tracked

    def db_sessions(self) -> int | None:
        from django.db import connection

        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
            )
            return cursor.fetchone()[0]

    def urgent_wait_round(self, backlog: int, job_s: float) -> float:
        """Seconds a priority-9 job waits to start behind `backlog` priority-5 jobs."""
        from jobs import services
        from jobs.models import ProcessingJob

        ProcessingJob.objects.all().delete()
        services.job_submit_batch(
            job_type="jobs.diagnostic",
            items=[{"params": {"sleep_s": job_s}}] * backlog,
            queue=QUEUE,
            priority=5,
        )
        self.consume(True)
        time.sleep(job_s * 1.5)  # the worker runs two and prefetches what it may
        urgent = services.job_submit(
            job_type="jobs.diagnostic",
            params={"result": "urgent"},
            queue=QUEUE,
            priority=9,
        )
        while True:
            urgent.refresh_from_db()
            if urgent.status == ProcessingJob.Status.COMPLETED:
                break
            time.sleep(0.02)
        self.consume(False)
        services.queue_purge(queue=QUEUE)  # the rest of the backlog is not needed
        while ProcessingJob.objects.filter(
            status=ProcessingJob.Status.RUNNING
        ).exists():
            time.sleep(0.05)
        return (urgent.started_at - urgent.queued_at).total_seconds()

    def priority_under_prefetch(self, *, backlog: int = 12, job_s: float = 1.0) -> None:
        settings = {
            "prefetch x4": ["--prefetch-multiplier", "4"],
            "prefetch x1": ["--prefetch-multiplier", "1"],
            "no prefetch": ["--disable-prefetch"],
        }
        rows = []
        for label, args in settings.items():
            self.start_worker(*args)
            try:
                waits = [self.urgent_wait_round(backlog, job_s) for _ in range(3)]
                self.tracked_round()  # warm-up
                rates = [self.jobs / self.tracked_round() for _ in range(3)]
            finally:
                self.worker.terminate()
                self.worker.wait(timeout=30)
            rows.append((label, statistics.median(waits), statistics.median(rates)))
        base_rate = rows[0][2]
        print(
            f"\npriority under prefetch: a priority-9 job behind {backlog} x {job_s:g} s "
            f"jobs at priority 5, prefork -c {self.concurrency} (median of 3)"
        )
        print(f"{'':16}{'urgent waits (s)':>18}{'no-op jobs/s':>14}{'vs x4':>8}")
        for label, wait_s, rate in rows:
            print(f"{label:16}{wait_s:>18.2f}{rate:>14.0f}{rate / base_rate:>8.2f}")

    def run(self, *, priority: bool = True) -> None:
        from django.db import connection

        self.start_worker()
        try:
            self.bare_round()  # warm-up: pool processes, connections
            self.tracked_round()
            bare_times, tracked_times = [], []
            sessions_before = self.db_sessions()
            for _ in range(self.rounds):
                bare_times.append(self.bare_round())
                tracked_times.append(self.tracked_round())
            sessions_after = self.db_sessions()
            bare_submit, tracked_submit = self.submit_latencies()
        finally:
            self.worker.terminate()
            self.worker.wait(timeout=30)
        bare_rate = self.jobs / statistics.median(bare_times)
        tracked_rate = self.jobs / statistics.median(tracked_times)
        print(f"database: {connection.vendor}   broker: {os.environ['REDIS_URL']}")
        print(
            f"worker: prefork -c {self.concurrency}, {self.jobs} messages per round, "
            f"median of {self.rounds} rounds\n"
        )
        print(f"{'':32}{'bare Celery':>14}{'tracked job':>14}{'ratio':>9}")
        print(
            f"{'throughput (tasks/s)':32}{bare_rate:>14.0f}{tracked_rate:>14.0f}"
            f"{tracked_rate / bare_rate:>9.2f}"
        )
        for label, fraction in (
            ("submit latency p50 (ms)", 0.5),
            ("submit latency p99 (ms)", 0.99),
        ):
            bare_ms = percentile(bare_submit, fraction)
            tracked_ms = percentile(tracked_submit, fraction)
            print(
                f"{label:32}{bare_ms:>14.2f}{tracked_ms:>14.2f}{tracked_ms / bare_ms:>9.2f}"
            )
        rounds = ", ".join(f"{self.jobs / t:.0f}" for t in tracked_times)
        print(f"\ntracked rounds (jobs/s): {rounds}")
        print(
            f"bare rounds (tasks/s): {', '.join(f'{self.jobs / t:.0f}' for t in bare_times)}"
        )
        if sessions_before is not None:
            print(
                f"new PostgreSQL sessions during the timed rounds: {sessions_after - sessions_before}"
            )
        print(f"worker log level: {self.log_level}")
        if priority:
            self.priority_under_prefetch()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--worker-log-level",
        default="info",
        help="the worker's -l (info, as in production; warning hides job lines)",
    )
    parser.add_argument("--skip-priority", action="store_true")
    args = parser.parse_args()
    prepare_environment()
    Bench(
        jobs=args.jobs,
        rounds=args.rounds,
        concurrency=args.concurrency,
        log_level=args.worker_log_level,
    ).run(priority=not args.skip_priority)


if __name__ == "__main__":
    main()
