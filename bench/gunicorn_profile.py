"""gunicorn config for `bench/captures_ingest.py --profile`: pyinstrument per request.

Each sync worker samples every request it serves (not its idle time between
requests) into one session, and writes a text report when it exits.
Bench-only: never used to serve.
"""

import os
from pathlib import Path


def post_fork(server, worker):
    from pyinstrument import Profiler

    worker.bench_profiler = Profiler(interval=0.0002, async_mode="disabled")


def pre_request(worker, request):
    if request.path == "/v1/ingest":
        worker.bench_profiler.start()


def post_request(worker, request, environ, response):
    profiler = worker.bench_profiler
    if profiler.is_running:
        profiler.stop()


def worker_exit(server, worker):
    profiler = getattr(worker, "bench_profiler", None)
    if profiler is None or profiler.last_session is None:
        return
    report = profiler.output_text(unicode=False, color=False, show_all=False)
    out = Path(os.environ["BENCH_PROFILE_DIR"]) / f"{worker.pid}.txt"
    out.write_text(report)
