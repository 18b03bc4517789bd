"""Proxy encode, metadata and thumbnail times of the videos modules, 60 s 1080p30.

    .venv/bin/python bench/videos.py [--rounds 3] [--samples 15]

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
before a keyframe (target <= 300 ms).
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

import av  # noqa: E402

from videos import probe  # noqa: E402
from videos import thumbnail  # noqa: E402
from videos import transcode  # noqa: E402

DURATION_S = 60
SOURCE_FPS = 30
KEYFRAME_INTERVAL = 60
CLIP = Path(tempfile.gettempdir()) / "mediaqueue-bench-videos" / "clip-1080p30-60s.mp4"
TARGETS = {"ratio": 1.1, "metadata_ms": 50, "thumbnail_ms": 300}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="encodes of each kind")
    parser.add_argument(
        "--samples", type=int, default=15, help="metadata/thumbnail runs"
    )
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
