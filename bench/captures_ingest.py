"""Ingest throughput and latency of POST /v1/ingest under gunicorn, against a trivial route.

    .venv/bin/python bench/captures_ingest.py [--requests 1000] [--concurrency 8]
        [--devices 50] [--rounds 5] [--workers 2] [--worker-class gthread]
        [--threads 4] [--sqlite] [--profile] [--rate 150]

Starts gunicorn serving the project on a free port, creates the devices, then
a second process (this script with --client) fires a bounded load: N
requests from C concurrent clients, each on one kept-alive connection
(reopened when the server closes it, as sync workers do), spread over the
devices. Each request posts a distinct ~100 KB 640x480 JPEG (one counter in
a JPEG comment segment, so no request is answered as a duplicate), as
multipart and as base64 JSON. The baseline is a trivial route on the same
gunicorn (`GET /v1/no-such-route`: a JSON 404 answered by the same middleware
stack without the database, Redis or a body). Rounds interleave the three;
the script prints medians of the rounds: throughput (req/s), p50 and p99
latency, and each mode as a ratio of the baseline's throughput. The clients
run on the same machine and are included in the figures.

Settings: config.settings.local with DEBUG off, the rate limiter on but not
limiting (every scope the ingest uses at 1,000,000/min: the buckets are
counted, nothing is refused; --no-limiter switches it off). Every ingest
writes its analysis job row and publishes the Celery message
(--no-auto-process turns that off); no worker runs, the messages pile up in
Redis (emptied at the end). Media goes to a temporary directory.
DATABASE_URL defaults to PostgreSQL `mediaqueue_bench_captures` on 127.0.0.1
(created and migrated if missing); --sqlite uses a fresh SQLite file (the
embedded default) instead. REDIS_URL defaults to database 8 of 127.0.0.1:6379,
which the script empties.

--rate R paces the load instead (open loop): request i is due R-th of a
second after request i-1, whatever the answers before it, and its latency
counts from when it was due, so a server that falls behind shows it in the
latency (no coordinated omission). The C clients still cap what is in
flight. Closed-loop figures answer "how many per second at saturation";
paced ones answer "how fast is each answer at this load". With 8 closed-loop
clients, Little's law ties the two: at 300/s the mean latency is at least
8/300 s = 27 ms, so throughput and latency targets are read from the two
modes.

--profile runs one extra multipart round with pyinstrument sampling inside
the gunicorn workers and prints where a request's time goes.
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
BASELINE_PATH = "/v1/no-such-route"
UNLIMITED = "1000000/m"


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


def _requests_for(mode: str, *, devices: list[list[str]], count: int, offset: int):
    if mode == "baseline":
        return [("GET", BASELINE_PATH, None, {}) for _ in range(count)]
    jpeg = camera_jpeg()
    prepared = []
    for n in range(count):
        device_id, key = devices[n % len(devices)]
        image = numbered(jpeg, offset + n)
        if mode == "multipart":
            body, content_type = _multipart(device_id, image)
        else:
            body = json.dumps(
                {"device_id": device_id, "image_data": base64.b64encode(image).decode()}
            ).encode()
            content_type = "application/json"
        headers = {"Content-Type": content_type, "X-Device-Key": key}
        prepared.append(("POST", "/v1/ingest", body, headers))
    return prepared


def run_client(args: argparse.Namespace) -> None:
    """Fire the requests with C threads on kept-alive connections; print results as JSON."""
    devices = json.loads(Path(args.devices_file).read_text())
    prepared = _requests_for(
        args.mode, devices=devices, count=args.requests, offset=args.offset
    )
    expected = 404 if args.mode == "baseline" else 201
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    next_index = iter(range(len(prepared)))
    interval_s = 1 / args.rate if args.rate else 0.0
    schedule_start = time.perf_counter() + 0.05

    def work() -> None:
        connection = None
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                break
            method, path, body, headers = prepared[index]
            if interval_s:
                started = schedule_start + index * interval_s
                delay = started - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            else:
                started = time.perf_counter()
            for attempt in range(2):
                if connection is None:
                    connection = http.client.HTTPConnection(
                        "127.0.0.1", args.port, timeout=60
                    )
                try:
                    connection.request(method, path, body=body, headers=headers)
                    response = connection.getresponse()
                    response.read()
                    break
                except (http.client.HTTPException, ConnectionError):
                    connection.close()  # the server closed a kept-alive connection
                    connection = None
                    if attempt:
                        raise
            if response.will_close:
                connection.close()
                connection = None
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if response.status != expected:
                    failures.append(response.status)
        if connection is not None:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(args.concurrency)]
    started = schedule_start if interval_s else time.perf_counter()
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
        "API_RATELIMIT_ENABLED": str(args.limiter),
        "CAPTURES_RATE_INGEST": UNLIMITED,
        "CAPTURES_RATE_INGEST_IP": UNLIMITED,
        "CAPTURES_RATE_AUTH_FAILURES_IP": UNLIMITED,
        "API_QUEUE_CAPACITY": "100000000",
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


CREATE_DEVICES = """
import json, sys
from captures import services
devices = []
for n in range(int(sys.argv[1])):
    device, key = services.device_create(device_id=sys.argv[2] + str(n), name="bench")
    devices.append([device.device_id, key])
print(json.dumps(devices))
"""


def create_devices(env: dict[str, str], count: int, path: Path) -> list[list[str]]:
    """Create the bench's devices in one process; write [[device_id, key], ...] to path."""
    prefix = f"bench-{uuid.uuid4().hex[:6]}-"
    script = path.with_suffix(".py")
    script.write_text(CREATE_DEVICES)
    output = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "--no-imports",
            "-c",
            f"import sys; sys.argv = ['x', '{count}', '{prefix}']; "
            f"exec(open('{script}').read())",
        ],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    devices = json.loads(output.strip().splitlines()[-1])
    path.write_text(json.dumps(devices))
    return devices


def start_gunicorn(
    env: dict[str, str], *, port: int, args, log_path: Path, profile_dir=None
) -> subprocess.Popen:
    log = open(log_path, "wb")  # noqa: SIM115  (the child keeps it)
    extra = ["--worker-class", args.worker_class]
    if args.worker_class == "gthread":
        extra += ["--threads", str(args.threads)]
    if profile_dir is not None:
        extra += ["--config", str(PROJECT_DIR / "bench" / "gunicorn_profile.py")]
        env = {**env, "BENCH_PROFILE_DIR": str(profile_dir)}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            *extra,
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
            connection.request("GET", BASELINE_PATH)
            connection.getresponse().read()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"gunicorn did not start:\n{log_path.read_text()[-3000:]}")


def run_round(mode: str, *, port: int, devices_file: Path, args, offset: int) -> dict:
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--client",
            "--mode",
            mode,
            "--port",
            str(port),
            "--devices-file",
            str(devices_file),
            "--requests",
            str(args.requests),
            "--concurrency",
            str(args.concurrency),
            "--offset",
            str(offset),
            "--rate",
            str(args.rate),
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


def run_server(args, env, var_dir: Path, devices_file: Path) -> dict:
    port = free_port()
    server = start_gunicorn(
        env, port=port, args=args, log_path=var_dir / "gunicorn.log"
    )
    results: dict[str, list[dict]] = {mode: [] for mode in MODES}
    try:
        for mode in MODES:  # warm-up: imports, connections, first requests
            run_round(
                mode, port=port, devices_file=devices_file, args=args, offset=10**9
            )
        for round_number in range(args.rounds):
            for mode in MODES:
                offset = (round_number * len(MODES) + MODES.index(mode)) * args.requests
                results[mode].append(
                    run_round(
                        mode,
                        port=port,
                        devices_file=devices_file,
                        args=args,
                        offset=offset,
                    )
                )
    finally:
        server.terminate()
        server.wait(timeout=15)
    return results


def profile_round(args, env, var_dir: Path, devices_file: Path) -> None:
    """One multipart round with pyinstrument in the workers; print the breakdown."""
    profile_dir = var_dir / "profiles"
    profile_dir.mkdir()
    port = free_port()
    server = start_gunicorn(
        env,
        port=port,
        args=args,
        log_path=var_dir / "gunicorn-profile.log",
        profile_dir=profile_dir,
    )
    try:
        run_round(
            "multipart", port=port, devices_file=devices_file, args=args, offset=10**8
        )
        run_round(
            "multipart",
            port=port,
            devices_file=devices_file,
            args=args,
            offset=2 * 10**8,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    for report in sorted(profile_dir.glob("*.txt")):
        print(f"\n--- profile of gunicorn worker {report.stem} ---")
        print(report.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument(
        "--limiter", action=argparse.BooleanOptionalAction, default=True
    )
    parser.add_argument(
        "--auto-process",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="queue the analysis job of each capture (default on; no worker runs)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="requests per second, paced (open loop); default: as fast as answered",
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--devices-file", help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        run_client(args)
        return

    var_dir = Path(tempfile.mkdtemp(prefix="mq-bench-ingest-"))
    env = prepare_environment(args, var_dir)
    flush_redis(env["REDIS_URL"])
    devices_file = var_dir / "devices.json"
    create_devices(env, args.devices, devices_file)
    try:
        results = run_server(args, env, var_dir, devices_file)
        if args.profile:
            profile_round(args, env, var_dir, devices_file)
    finally:
        flush_redis(env["REDIS_URL"])
        shutil.rmtree(var_dir, ignore_errors=True)

    database = "SQLite" if args.sqlite else env["DATABASE_URL"].split("://")[0]
    threads = f" --threads {args.threads}" if args.worker_class == "gthread" else ""
    print(
        f"\nPOST /v1/ingest, ~{len(camera_jpeg()) // 1000} KB 640x480 JPEG, gunicorn "
        f"-w {args.workers} -k {args.worker_class}{threads}, {args.concurrency} "
        f"kept-alive clients on this machine, {args.devices} devices, "
        f"{args.requests} requests x {args.rounds} rounds, {database}, limiter "
        f"{'on (not limiting)' if args.limiter else 'off'}, auto-process "
        f"{'on (job row + message, no worker)' if args.auto_process else 'off'}"
        + (
            f", paced at {args.rate:g}/s (latency from when each request was due)"
            if args.rate
            else ", closed loop (as fast as answered)"
        )
    )
    baseline = statistics.median(r["throughput"] for r in results["baseline"])
    print(f"{'mode':<30}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs baseline':>13}")
    labels = {
        "baseline": f"baseline GET {BASELINE_PATH}",
        "multipart": "ingest multipart",
        "json": "ingest base64 JSON",
    }
    for mode in MODES:
        throughput = statistics.median(r["throughput"] for r in results[mode])
        p50 = statistics.median(r["p50_ms"] for r in results[mode])
        p99 = statistics.median(r["p99_ms"] for r in results[mode])
        print(
            f"{labels[mode]:<30}{throughput:>9.0f}{p50:>9.1f}{p99:>9.1f}"
            f"{throughput / baseline:>12.2f}x"
        )
    multipart = statistics.median(r["throughput"] for r in results["multipart"])
    as_json = statistics.median(r["throughput"] for r in results["json"])
    print(f"base64 JSON takes {multipart / as_json:.2f}x the time of multipart")


if __name__ == "__main__":
    main()
