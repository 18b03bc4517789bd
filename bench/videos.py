"""Proxy encode, metadata and thumbnail times of the videos modules, 60 s 1080p30;
and upload throughput through tus with the web worker's memory.

    .venv/bin/python bench/videos.py [--rounds 3] [--samples 15]
        [--upload-mb 1024] [--upload-rounds 2] [--only encode|upload]

Generates once (cached in the temp dir) a 60 s 1920x1080 30 fps H.264 +
AAC clip from FFmpeg's test sources, encoded as a camera would (x264, a
keyframe every 2 s, B-frames, +faststart). Then it times, alternating so
both see the same load, ROUNDS proxy encodes by videos.transcode.make_proxy
(probe, ffmpeg child with progress, rename, probe of the result) and by the
plain ffmpeg command line of the imageio-ffmpeg wheel with the same settings
(preset, crf, threads, keyframe interval, audio), and prints medians, the
median ratio of the back-to-back pairs (target <= 1.1) and the ratio of CPU
seconds, which other processes on the machine do not skew. It also prints
wall and CPU medians of SAMPLES runs of read_metadata (target <= 50 ms) and
of thumbnail, at 10 % of the duration and at the worst spot, the frame
before a keyframe (target <= 300 ms), and both as the jobs run them, in the
forked decoder sandbox (the "cpu" column counts this process only).

Upload: starts gunicorn (one sync worker, config.settings.local, DEBUG off)
on a free loopback port and uploads a generated UPLOAD_MB uncompressed AVI
(a real video, so the server's verification and probe run on it) with tuspy,
the tus client for Python: in 64 MiB PATCH requests, with and without a
sha256 Upload-Checksum on each, and in one PATCH (tuspy's default; the
server then hashes while receiving and links the piece instead of copying). The time runs from the creation request to
the answer of the last PATCH, which includes the server's assembly of the
pieces, the SHA-256 of the whole file against the one announced, the probe
and the Video with its queued jobs (target >= 100 MB/s, MB = 10^6 bytes).
The gunicorn worker's resident memory (VmRSS) is sampled every 20 ms: its
peak over the baseline after a warm-up upload shows whether the file is
streamed (it should not grow with the file). Client and server share the
machine's 2 cores. DATABASE_URL defaults to PostgreSQL
`mediaqueue_bench_videos` on 127.0.0.1 (created and migrated if missing);
REDIS_URL to database 9 of 127.0.0.1:6379, which is emptied (the queued
jobs' messages land there; no worker runs). Media go to a temporary folder.
"""

import argparse
import hashlib
import http.client
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

import av  # noqa: E402

from videos import isolated  # noqa: E402
from videos import probe  # noqa: E402
from videos import thumbnail  # noqa: E402
from videos import transcode  # noqa: E402

DURATION_S = 60
SOURCE_FPS = 30
KEYFRAME_INTERVAL = 60
CLIP = Path(tempfile.gettempdir()) / "mediaqueue-bench-videos" / "clip-1080p30-60s.mp4"
TARGETS = {"ratio": 1.1, "metadata_ms": 50, "thumbnail_ms": 300, "upload_mb_s": 100}
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/mediaqueue_bench_videos"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
UPLOAD_CHUNK_BYTES = 64 * 1024 * 1024


def ensure_clip() -> Path:
    """The benchmark clip, generated on first use (about half a minute)."""
    if CLIP.exists():
        return CLIP
    CLIP.parent.mkdir(parents=True, exist_ok=True)
    partial = CLIP.with_suffix(".part.mp4")
    lavfi = [
        f"testsrc2=size=1920x1080:rate={SOURCE_FPS}:duration={DURATION_S}",
        f"sine=frequency=440:sample_rate=48000:duration={DURATION_S}",
    ]
    command = [transcode.ffmpeg_executable(), "-nostdin", "-loglevel", "error", "-y"]
    for source in lavfi:
        command += ["-f", "lavfi", "-i", source]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-g", str(KEYFRAME_INTERVAL)]
    command += ["-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-ac", "2"]
    command += ["-movflags", "+faststart", str(partial)]
    subprocess.run(command, check=True)
    partial.rename(CLIP)
    return CLIP


def reference_command(source: Path, output: Path, settings) -> list[str]:
    """The ffmpeg command line a person would type for the same proxy."""
    return [
        transcode.ffmpeg_executable(),
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-i",
        str(source),
        "-vf",
        f"fps={settings.fps},scale=-2:{settings.height}",
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libx264",
        "-preset",
        settings.preset,
        "-crf",
        str(settings.crf),
        "-threads",
        str(settings.threads),
        "-g",
        str(round(settings.keyframe_interval_s * settings.fps)),
        "-c:a",
        "aac",
        "-b:a",
        str(settings.audio_bitrate),
        "-movflags",
        "+faststart",
        str(output),
    ]


def cpu_s() -> float:
    """CPU seconds used so far by this process and its waited-for children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def time_encodes(clip: Path, rounds: int, workdir: Path) -> tuple[dict, dict, object]:
    """Wall and CPU seconds of each encode, by "ours" and "reference"."""
    settings = transcode.ProxySettings()
    wall = {"ours": [], "reference": []}
    cpu = {"ours": [], "reference": []}
    result = None
    for index in range(rounds):
        # Alternating which runs first evens out load that drifts.
        order = ["ours", "reference"] if index % 2 == 0 else ["reference", "ours"]
        for name in order:
            output = workdir / f"{name}.mp4"
            output.unlink(missing_ok=True)
            started, started_cpu = time.perf_counter(), cpu_s()
            if name == "ours":
                result = transcode.make_proxy(clip, output, settings=settings)
            else:
                subprocess.run(reference_command(clip, output, settings), check=True)
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(cpu_s() - started_cpu)
    return wall, cpu, result


def time_ms(function, samples: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of `samples` calls, after one warm-up call."""
    function()  # first call pays for imports and library start-up
    wall, cpu = [], []
    for _ in range(samples):
        started, started_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def bench_encode(args) -> None:
    """The proxy, metadata and thumbnail figures of the pure modules."""
    started = time.perf_counter()
    clip = ensure_clip()
    made_s = time.perf_counter() - started
    metadata = probe.read_metadata(clip)
    worst_s = (KEYFRAME_INTERVAL * 3 - 1) / SOURCE_FPS  # the frame before a keyframe

    print(
        f"cpu cores: {os.cpu_count()}; python {sys.version.split()[0]}; PyAV {av.__version__}"
    )
    print(f"ffmpeg: {transcode.ffmpeg_executable()}")
    print(
        f"clip: {metadata.width}x{metadata.height} {metadata.fps:g} fps "
        f"{metadata.duration_s:g} s {metadata.video_codec}+{metadata.audio_codec}, "
        f"{metadata.size_bytes / 1e6:.1f} MB, keyframe every {KEYFRAME_INTERVAL} frames "
        f"({f'generated in {made_s:.0f} s' if made_s > 1 else 'cached'}: {clip})"
    )

    metadata_ms = time_ms(lambda: probe.read_metadata(clip), args.samples)
    default_ms = time_ms(lambda: thumbnail.thumbnail(clip), args.samples)
    worst_ms = time_ms(lambda: thumbnail.thumbnail(clip, at_s=worst_s), args.samples)
    # What the jobs run: the same reads in the forked decoder sandbox.
    sandbox = {"limits": probe.VideoLimits(), "timeout_s": 60, "memory_bytes": 2**31}
    sandboxed_metadata_ms = time_ms(
        lambda: isolated.probe(clip, **sandbox), args.samples
    )
    sandboxed_thumbnail_ms = time_ms(
        lambda: isolated.thumbnails(
            clip, at_s=None, max_size=1280, sheet_frames=0, sheet_columns=1, **sandbox
        ),
        args.samples,
    )
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-videos-") as workdir:
        wall, cpu, result = time_encodes(clip, args.rounds, Path(workdir))
    load_after = os.getloadavg()[0]

    proxy = result.metadata
    print(
        f"proxy: {result.method}, {proxy.width}x{proxy.height} {proxy.fps:g} fps "
        f"{proxy.video_codec}+{proxy.audio_codec}, {proxy.size_bytes / 1e6:.1f} MB"
    )
    print(f"load average around the encodes: {load_before:.1f} -> {load_after:.1f}")
    rows = [
        ("proxy encode, videos.transcode (s)", wall["ours"], cpu["ours"], None),
        (
            "proxy encode, ffmpeg command line (s)",
            wall["reference"],
            cpu["reference"],
            None,
        ),
        ("read_metadata (ms)", *metadata_ms, TARGETS["metadata_ms"]),
        ("thumbnail at 10 % (ms)", *default_ms, TARGETS["thumbnail_ms"]),
        (
            f"thumbnail at {worst_s:.2f} s, worst (ms)",
            *worst_ms,
            TARGETS["thumbnail_ms"],
        ),
        ("metadata, sandboxed as jobs run it (ms)", *sandboxed_metadata_ms, None),
        ("thumbnail 10 %, sandboxed (ms)", *sandboxed_thumbnail_ms, None),
    ]
    print()
    print(f"{'':40}{'median':>9}{'min':>9}{'max':>9}{'cpu':>9}{'target':>9}")
    for name, values, cpu_values, target in rows:
        cells = [*(f(values) for f in (statistics.median, min, max))]
        cells.append(statistics.median(cpu_values))
        line = "".join(
            f"{value:9.2f}" if value < 100 else f"{value:9.0f}" for value in cells
        )
        print(f"{name:40}{line}{'<= ' + str(target) if target else '':>9}")
    # Pairs ran back to back, so their ratios shrug off load that drifts;
    # CPU seconds shrug off the load of other processes too.
    pairs = [
        mine / theirs
        for mine, theirs in zip(wall["ours"], wall["reference"], strict=True)
    ]
    ratio = statistics.median(pairs)
    cpu_ratio = statistics.median(cpu["ours"]) / statistics.median(cpu["reference"])
    verdict = "ok" if ratio <= TARGETS["ratio"] else "over target"
    print(f"encode time ratio, ours / command line: {ratio:.3f} (<= 1.1: {verdict})")
    print(f"  back-to-back pairs: {', '.join(f'{pair:.3f}' for pair in pairs)}")
    print(f"  CPU seconds ratio: {cpu_ratio:.3f}")


# Upload through tus -------------------------------------------------------------


def ensure_upload_file(megabytes: int) -> Path:
    """An uncompressed 640x480 AVI of about `megabytes` MB, generated on first use."""
    path = CLIP.parent / f"upload-{megabytes}mb.avi"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    frame_bytes = 640 * 480 * 3 // 2
    frames = max(30, megabytes * 1_000_000 // frame_bytes)
    partial = path.with_suffix(".part.avi")
    command = [transcode.ffmpeg_executable(), "-nostdin", "-loglevel", "error", "-y"]
    command += ["-f", "lavfi", "-i", "testsrc2=size=640x480:rate=30"]
    command += ["-frames:v", str(frames), "-c:v", "rawvideo", "-pix_fmt", "yuv420p"]
    subprocess.run([*command, str(partial)], check=True)
    partial.rename(path)
    return path


def upload_environment(media_dir: Path) -> dict[str, str]:
    """Settings of the gunicorn under test; the database is created and migrated."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        "REDIS_URL": os.environ.get("REDIS_URL", DEFAULT_REDIS_URL),
        "MEDIA_ROOT": str(media_dir / "media"),
        "VIDEOS_WORK_DIR": str(media_dir / "work"),
        "VIDEOS_MAX_UPLOAD_BYTES": str(64 * 1024**3),
    }
    env["CELERY_BROKER_URL"] = env["REDIS_URL"]
    if env["REDIS_URL"].rstrip("/").endswith(":6379/0"):
        raise SystemExit("the bench empties its Redis database: use a spare one")
    if env["DATABASE_URL"].startswith("postgres"):
        import psycopg

        name = env["DATABASE_URL"].rsplit("/", 1)[1]
        admin_url = env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
    )
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    return env


def bench_token(env: dict[str, str]) -> str:
    script = (
        "from django.contrib.auth import get_user_model\n"
        "from rest_framework.authtoken.models import Token\n"
        "user, _ = get_user_model().objects.get_or_create(username='bench-videos')\n"
        "print(Token.objects.get_or_create(user=user)[0].key)\n"
    )
    output = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return output.strip().splitlines()[-1]


def start_gunicorn(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "600",
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
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("OPTIONS", "/api/v1/videos/uploads/")
            connection.getresponse().read()
            return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"gunicorn did not start:\n{log_path.read_text()[-3000:]}")


def worker_pid(master: int) -> int:
    """The pid of the one gunicorn worker."""
    for task in os.listdir(f"/proc/{master}/task"):
        with open(f"/proc/{master}/task/{task}/children") as listing:
            children = listing.read().split()
        if children:
            return int(children[0])
    raise SystemExit("no gunicorn worker")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class RssSampler:
    """The peak resident memory of a process while the block runs."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def tus_upload(
    url: str, token: str, path: Path, *, checksum: bool, chunk_size: int
) -> float:
    """Upload one file with tuspy; seconds from creation to the last PATCH's answer."""
    from tusclient import client as tus_client
    from tusclient.uploader import Uploader

    class Sha256Uploader(Uploader):
        CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)

    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(8 * 1024 * 1024):
            digest.update(chunk)
    tus = tus_client.TusClient(url, headers={"Authorization": f"Token {token}"})
    uploader = Sha256Uploader(
        file_path=str(path),
        client=tus,
        chunk_size=chunk_size,
        metadata={"filename": path.name, "sha256": digest.hexdigest()},
        upload_checksum=checksum,
    )
    started = time.perf_counter()
    uploader.upload()
    return time.perf_counter() - started


def bench_upload(args) -> None:
    """Upload throughput through tus under gunicorn, and the worker's memory."""
    upload_file = ensure_upload_file(args.upload_mb)
    warm_up_file = ensure_clip()
    size = upload_file.stat().st_size
    scratch = Path(tempfile.mkdtemp(prefix="bench-videos-upload-"))
    env = upload_environment(scratch)
    token = bench_token(env)
    server, port = start_gunicorn(env, scratch / "gunicorn.log")
    url = f"http://127.0.0.1:{port}/api/v1/videos/uploads/"
    modes = {
        "64 MiB PATCHes": (False, UPLOAD_CHUNK_BYTES),
        "64 MiB PATCHes + sha256 each": (True, UPLOAD_CHUNK_BYTES),
        "one PATCH (tuspy's default)": (False, sys.maxsize),
    }
    rows = []
    try:
        pid = worker_pid(server.pid)
        tus_upload(
            url, token, warm_up_file, checksum=True, chunk_size=UPLOAD_CHUNK_BYTES
        )
        baseline = rss_mb(pid)
        for index in range(args.upload_rounds):
            names = list(modes) if index % 2 == 0 else list(reversed(modes))
            for name in names:
                checksum, chunk_size = modes[name]
                with RssSampler(pid) as sampler:
                    seconds = tus_upload(
                        url,
                        token,
                        upload_file,
                        checksum=checksum,
                        chunk_size=chunk_size,
                    )
                rows.append((name, seconds, sampler.peak))
                shutil.rmtree(scratch / "media", ignore_errors=True)
        after = rss_mb(pid)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
        shutil.rmtree(scratch, ignore_errors=True)
    print()
    print(
        f"tus upload of {size / 1e6:.0f} MB ({upload_file.name}) with tuspy, "
        f"gunicorn -w 1 (sync), loopback; load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"gunicorn worker RSS: {baseline:.1f} MB after the warm-up upload, "
        f"{after:.1f} MB after all uploads"
    )
    print(f"{'MB/s':34}{'median':>9}{'min':>9}{'max':>9}{'peak RSS':>10}{'target':>10}")
    for name in modes:
        speeds = [size / 1e6 / row[1] for row in rows if row[0] == name]
        peak = max(row[2] for row in rows if row[0] == name)
        print(
            f"{name:34}{statistics.median(speeds):9.0f}{min(speeds):9.0f}"
            f"{max(speeds):9.0f}{peak:9.1f}M{'>= ' + str(TARGETS['upload_mb_s']):>10}"
        )
    growth = max(row[2] for row in rows) - baseline
    print(
        f"worker peak RSS over its baseline during the uploads: {growth:+.1f} MB "
        f"(the file: {size / 1e6:.0f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="encodes of each kind")
    parser.add_argument(
        "--samples", type=int, default=15, help="metadata/thumbnail runs"
    )
    parser.add_argument(
        "--upload-mb", type=int, default=1024, help="uploaded file size"
    )
    parser.add_argument(
        "--upload-rounds", type=int, default=2, help="uploads of each kind"
    )
    parser.add_argument("--only", choices=["encode", "upload"])
    args = parser.parse_args()
    if args.only != "upload":
        bench_encode(args)
    if args.only != "encode":
        bench_upload(args)


if __name__ == "__main__":
    main()
