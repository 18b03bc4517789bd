"""Ingest throughput and latency of POST /v1/ingest under gunicorn, against a trivial route.

    .venv/bin/python bench/captures_ingest.py [--requests 500] [--concurrency 4]
                                              [--rounds 5] [--workers 2] [--sqlite]

Starts gunicorn (2 sync workers) serving the project on a free port, creates
a device, then a second process (this script with --client) fires a bounded
load: N requests from C concurrent clients, one connection per request. Each
request posts a distinct ~100 KB 640x480 JPEG (one counter in a JPEG comment
segment, so no request is answered as a duplicate), as multipart and as base64
JSON. The baseline is `GET /v1/ingest` on the same gunicorn: a 405 answered by
the same middleware stack without touching the database, Redis or the body.
Rounds interleave the three; the script prints medians of the rounds:
throughput (req/s), p50 and p99 latency, and each ingest mode as a ratio of
the baseline's throughput.

Settings: config.settings.local with DEBUG off, rate limiting off
(CAPTURES_RATELIMIT_ENABLED=False: one device would otherwise get 10/min);
--ingest-rate 1000000/m measures with the limiter counting but never refusing.
CAPTURES_AUTO_PROCESS stays on (--no-auto-process turns it off), so every
ingest also writes its analysis job row and publishes the Celery message; no
worker runs, the messages just pile up in Redis (emptied at the end). Media goes to a temporary directory.
DATABASE_URL defaults to PostgreSQL `mediaqueue_bench_captures` on 127.0.0.1
(created and migrated if missing); --sqlite uses a fresh SQLite file (the
embedded default) instead. REDIS_URL defaults to database 8 of
127.0.0.1:6379, which the script empties.
"""

import argparse
import base64
import http.client
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/mediaqueue_bench_captures"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
TARGET_JPEG_BYTES = 100_000
MODES = ("baseline", "multipart", "json")


# The image ------------------------------------------------------------------


def camera_jpeg() -> bytes:
    """A 640x480 camera-like JPEG of about TARGET_JPEG_BYTES."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(11)
    rows = np.linspace(60, 200, 480)[:, None, None]
    cols = np.linspace(0, 50, 640)[None, :, None]
    best = b""
    for noise in (4, 6, 8, 10, 12, 14, 16, 20, 24, 28):
        pixels = (
            rows + cols + np.array([0, 12, 24]) + rng.normal(0, noise, (480, 640, 3))
        )
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        best = out.getvalue()
        if len(best) >= TARGET_JPEG_BYTES:
            break
    return best


def numbered(jpeg: bytes, number: int) -> bytes:
    """The same JPEG with a comment segment holding `number`: valid, distinct bytes."""
    comment = f"bench {number} {uuid.uuid4().hex}".encode()
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    return jpeg[:2] + segment + jpeg[2:]


# The client process -----------------------------------------------------------


def _multipart(device_id: str, image: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="device_id"\r\n\r\n'
        f"{device_id}\r\n".encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
        f'filename="capture.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode(),
        image,
        f"\r\n--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _requests_for(mode: str, *, device_id: str, count: int, offset: int) -> list:
    if mode == "baseline":
        return [("GET", None, {}) for _ in range(count)]
    jpeg = camera_jpeg()
    prepared = []
    for n in range(count):
        image = numbered(jpeg, offset + n)
        if mode == "multipart":
            body, content_type = _multipart(device_id, image)
        else:
            body = json.dumps(
                {"device_id": device_id, "image_data": base64.b64encode(image).decode()}
            ).encode()
            content_type = "application/json"
        prepared.append(("POST", body, {"Content-Type": content_type}))
    return prepared


def run_client(args: argparse.Namespace) -> None:
    """Fire the requests with C threads; print latencies and elapsed time as JSON."""
    prepared = _requests_for(
        args.mode, device_id=args.device_id, count=args.requests, offset=args.offset
    )
    expected = 405 if args.mode == "baseline" else 201
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    next_index = iter(range(len(prepared)))

    def work() -> None:
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                return
            method, body, headers = prepared[index]
            headers = {**headers, "X-Device-Key": args.key}
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
            connection.request(method, "/v1/ingest", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            connection.close()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if response.status != expected:
                    failures.append(response.status)

    threads = [threading.Thread(target=work) for _ in range(args.concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    print(json.dumps({"wall_s": wall, "latencies_s": latencies, "failures": failures}))


# The driver -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def prepare_environment(args: argparse.Namespace, var_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "False",
        "DJANGO_LOG_LEVEL": "ERROR",  # 4xx answers log warnings
        "DJANGO_SECRET_KEY": "bench-only-" + uuid.uuid4().hex,
        "MEDIAQUEUE_VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(var_dir / "media"),
        "CAPTURES_RATELIMIT_ENABLED": str(bool(args.ingest_rate)),
        "CAPTURES_RATE_INGEST": args.ingest_rate or "",
        "CAPTURES_AUTO_PROCESS": str(args.auto_process),
        "REDIS_URL": os.environ.get("REDIS_URL", DEFAULT_REDIS_URL),
    }
    env["CELERY_BROKER_URL"] = env["REDIS_URL"]
    if env["REDIS_URL"].rstrip("/").endswith(":6379/0"):
        raise SystemExit(
            "the bench empties its Redis database: point REDIS_URL at a spare one"
        )
    if args.sqlite:
        env.pop("DATABASE_URL", None)
    else:
        env["DATABASE_URL"] = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
        if env["DATABASE_URL"].startswith("postgres"):
            import psycopg

            name = env["DATABASE_URL"].rsplit("/", 1)[1]
            admin_url = env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
            with psycopg.connect(admin_url, autocommit=True) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [name]
                ).fetchone()
                if not exists:
                    conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
    )
    return env


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def create_device(env: dict[str, str]) -> tuple[str, str]:
    device_id = f"bench-{uuid.uuid4().hex[:8]}"
    key = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "captures_create_device",
            device_id,
            "--key-only",
        ],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return device_id, key


def start_gunicorn(
    env: dict[str, str], *, port: int, workers: int, log_path: Path
) -> subprocess.Popen:
    log = open(log_path, "wb")  # noqa: SIM115  (the child keeps it)
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "config.wsgi:application",
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/v1/ingest")
            connection.getresponse().read()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"gunicorn did not start:\n{log_path.read_text()[-3000:]}")


def run_round(
    mode: str, *, port: int, device: tuple[str, str], args, offset: int
) -> dict:
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--client",
            "--mode",
            mode,
            "--port",
            str(port),
            "--device-id",
            device[0],
            "--key",
            device[1],
            "--requests",
            str(args.requests),
            "--concurrency",
            str(args.concurrency),
            "--offset",
            str(offset),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = json.loads(output)
    if result["failures"]:
        statuses = sorted(set(result["failures"]))
        raise SystemExit(
            f"{mode}: {len(result['failures'])} unexpected answers {statuses}"
        )
    latencies = result["latencies_s"]
    return {
        "throughput": len(latencies) / result["wall_s"],
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument(
        "--ingest-rate",
        default="",
        help='measure with the rate limiter on at this rate, e.g. "1000000/m" (default off)',
    )
    parser.add_argument(
        "--auto-process",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="queue the analysis job of each capture (default on; no worker runs)",
    )
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--device-id", help=argparse.SUPPRESS)
    parser.add_argument("--key", default="", help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        run_client(args)
        return

    var_dir = Path(tempfile.mkdtemp(prefix="mq-bench-ingest-"))
    env = prepare_environment(args, var_dir)
    flush_redis(env["REDIS_URL"])
    device = create_device(env)
    port = free_port()
    server = start_gunicorn(
        env, port=port, workers=args.workers, log_path=var_dir / "gunicorn.log"
    )
    results: dict[str, list[dict]] = {mode: [] for mode in MODES}
    try:
        for mode in MODES:  # warm-up: imports, connections, first requests
            run_round(mode, port=port, device=device, args=args, offset=10**9)
        for round_number in range(args.rounds):
            for mode in MODES:
                offset = (round_number * len(MODES) + MODES.index(mode)) * args.requests
                results[mode].append(
                    run_round(mode, port=port, device=device, args=args, offset=offset)
                )
    finally:
        server.terminate()
        server.wait(timeout=15)
        flush_redis(env["REDIS_URL"])
        shutil.rmtree(var_dir, ignore_errors=True)

    database = "SQLite" if args.sqlite else env["DATABASE_URL"].split("://")[0]
    print(
        f"POST /v1/ingest, ~{len(camera_jpeg()) // 1000} KB 640x480 JPEG, gunicorn "
        f"-w {args.workers} (sync), {args.concurrency} clients, {args.requests} requests "
        f"x {args.rounds} rounds, {database}, "
        f"rate limit {args.ingest_rate or 'off'}, auto-process "
        f"{'on (job row + message, no worker)' if args.auto_process else 'off'}"
    )
    baseline = statistics.median(r["throughput"] for r in results["baseline"])
    print(f"{'mode':<28}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs baseline':>13}")
    labels = {
        "baseline": "baseline GET /v1/ingest 405",
        "multipart": "ingest multipart",
        "json": "ingest base64 JSON",
    }
    for mode in MODES:
        throughput = statistics.median(r["throughput"] for r in results[mode])
        p50 = statistics.median(r["p50_ms"] for r in results[mode])
        p99 = statistics.median(r["p99_ms"] for r in results[mode])
        print(
            f"{labels[mode]:<28}{throughput:>9.0f}{p50:>9.1f}{p99:>9.1f}"
            f"{throughput / baseline:>12.2f}x"
        )


if __name__ == "__main__":
    main()
