"""Photos per second per core through the photos modules, against a naive decode.

    .venv/bin/python bench/photos.py [--photos 4] [--rounds 5] [--cpu 0]

Generates once (cached in the temp dir) PHOTOS camera-like 24 MP JPEGs
(6000x4000, quality 92, sample photographs from scikit-image scaled up
with sensor-like grain, about 7 MB each). The process pins itself to one
CPU and libvips to one thread, so every figure is per core. Each round
runs every workload over all the photos, workloads taking turns so they
see the same load; medians of ROUNDS rounds are printed:

- analysis (photos.analysis.analyze_photo: decode at 640 px, EXIF, quality,
  faces, labels, pHash, preset, priority), target >= 8 photos/s;
- thumbnail + preview (photos.export.make_thumbnail_and_preview), >= 10;
- the analysis job's pixel work: one decode at preview size serving the
  analysis, the thumbnail and the preview (what photos.analyze runs);
- export to a 2048 px JPEG (photos.export.export_photo), >= 5;
- grouping 1,000 photos (photos.grouping.group_similar), <= 2 s;

each also as a ratio to the naive full-size Pillow decode of the same files
(Image.open().load()). For the engine choice, the same thumbnail/preview
and export work is also done by pyvips alone (thumbnail_buffer with
shrink-on-load, jpegsave) and by Pillow alone (draft, bicubic resize).
Last, peak RSS (resource.getrusage in a child process) for one analysis,
one analysis job, one export and one naive decode; target <= 400 MB for the
analysis and the job (a worker holding one 24 MP photo).
"""

import argparse
import datetime as dt
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
os.environ.setdefault("VIPS_CONCURRENCY", "1")

# Only the standard library at module level: the peak-RSS children start
# while this process is still small, since Linux carries a process's peak
# RSS into the programs it starts (exec keeps ru_maxrss), and a child
# would otherwise report this process's peak as its own.

SIZE = (6000, 4000)
SCENES = ["astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry"]
CACHE = Path(tempfile.gettempdir()) / "mediaqueue-bench-photos"
GRAIN_SIGMA = 5.0
EXPORT_EDGE = 2048
TARGETS = {"analysis": 8.0, "thumbnail+preview": 10.0, "export 2048 JPEG": 5.0}
GROUPING_TARGET_S = 2.0
RSS_TARGET_MB = 400


def photo_paths(count: int) -> list[Path]:
    return [
        CACHE / f"{index:02d}-{SCENES[index % len(SCENES)]}-24mp.jpg"
        for index in range(count)
    ]


def generate(count: int) -> None:
    """Write the missing benchmark JPEGs (a few seconds each)."""
    import numpy as np
    from PIL import Image
    from skimage import data as skimage_data

    CACHE.mkdir(parents=True, exist_ok=True)
    for index, path in enumerate(photo_paths(count)):
        if path.exists():
            continue
        name = SCENES[index % len(SCENES)]
        source = Image.fromarray(getattr(skimage_data, name)()).convert("RGB")
        crop_height = min(source.height, round(source.width * 2 / 3))
        source = source.crop((0, 0, round(crop_height * 1.5), crop_height))
        pixels = np.asarray(source.resize(SIZE, Image.Resampling.BICUBIC)).copy()
        rng = np.random.default_rng(index)
        for top in range(0, SIZE[1], 500):  # in bands, to keep memory low
            band = pixels[top : top + 500].astype(np.float32)
            grain = rng.normal(0, GRAIN_SIGMA, band.shape[:2]).astype(np.float32)
            band = np.clip(band + grain[..., None], 0, 255)
            pixels[top : top + 500] = band.astype(np.uint8)
        partial = path.with_suffix(".part")
        Image.fromarray(pixels).save(partial, "JPEG", quality=92)
        partial.rename(path)


# WORKLOADS ------------------------------------------------------------------


def naive_decode(data: bytes) -> None:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()


def vips_thumbnail_and_preview(data: bytes) -> None:
    import pyvips

    from photos import export

    # Rendered once into memory: a streamed image can be read only once.
    preview = pyvips.Image.thumbnail_buffer(data, export.PREVIEW_LONG_EDGE)
    preview = preview.copy_memory()
    preview.jpegsave_buffer(Q=export.PREVIEW_QUALITY, keep="icc")
    thumbnail = preview.thumbnail_image(export.THUMBNAIL_LONG_EDGE)
    thumbnail.jpegsave_buffer(Q=export.THUMBNAIL_QUALITY, keep="icc")


def vips_export(data: bytes) -> None:
    import pyvips

    image = pyvips.Image.thumbnail_buffer(data, EXPORT_EDGE)
    image.jpegsave_buffer(Q=90, keep="icc")


def _pillow_alone(data: bytes, long_edge: int):
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    scale = long_edge / max(image.size)
    size = (round(image.width * scale), round(image.height * scale))
    image.draft("RGB", size)
    return image.resize(size, Image.Resampling.BICUBIC)


def _jpeg(image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def pillow_thumbnail_and_preview(data: bytes) -> None:
    from PIL import Image

    from photos import export

    preview = _pillow_alone(data, export.PREVIEW_LONG_EDGE)
    _jpeg(preview, export.PREVIEW_QUALITY)
    edge = export.THUMBNAIL_LONG_EDGE
    size = (edge, round(preview.height * edge / preview.width))
    _jpeg(preview.resize(size, Image.Resampling.BICUBIC), export.THUMBNAIL_QUALITY)


def pillow_export(data: bytes) -> None:
    _jpeg(_pillow_alone(data, EXPORT_EDGE), 90)


def analysis_job_path(data: bytes) -> None:
    """What the photos.analyze job does with the pixels: one decode for all three."""
    from photos import analysis
    from photos import export
    from photos import formats

    decoded = formats.decode(
        data, long_edge=export.PREVIEW_LONG_EDGE, slack=export.PREVIEW_SLACK
    )
    analysis.analyze_photo(data, decoded=decoded)
    export.thumbnail_and_preview_from(decoded)


def workloads() -> dict:
    from photos import analysis
    from photos import export

    return {
        "naive full decode (Pillow)": naive_decode,
        "analysis": analysis.analyze_photo,
        "thumbnail+preview": export.make_thumbnail_and_preview,
        "analysis job (all of it)": analysis_job_path,
        "  pyvips alone": vips_thumbnail_and_preview,
        "  Pillow alone": pillow_thumbnail_and_preview,
        "export 2048 JPEG": lambda data: export.export_photo(
            data, long_edge=EXPORT_EDGE
        ),
        "  pyvips alone ": vips_export,
        "  Pillow alone ": pillow_export,
    }


def session_records(count: int = 1000) -> list:
    """A shoot of bursts: 5 frames 2 s apart whose hashes drift by a few bits."""
    from photos.grouping import GroupingRecord

    rng = random.Random(11)
    start = dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC)
    records = []
    phash = 0
    for index in range(count):
        if index % 5 == 0:
            phash = rng.getrandbits(64)
        else:
            for _ in range(rng.randint(1, 3)):
                phash ^= 1 << rng.randrange(64)
        seconds = index * 2 + (index // 5) * 30
        taken_at = start + dt.timedelta(seconds=seconds)
        score = rng.uniform(1, 5)
        records.append(GroupingRecord(index, f"{phash:016x}", taken_at, score))
    rng.shuffle(records)
    return records


# PEAK MEMORY ----------------------------------------------------------------


def child_peak_rss(mode: str, path: Path) -> dict:
    """Peak RSS of a fresh process doing one `mode` run on `path`, and its baseline."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output)


def run_child(mode: str, path: str) -> None:
    from photos import analysis
    from photos import export

    data = Path(path).read_bytes()
    baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if mode == "analysis":
        analysis.analyze_photo(data)
    elif mode == "job":
        analysis_job_path(data)
    elif mode == "export":
        export.export_photo(data, long_edge=EXPORT_EDGE)
    else:
        naive_decode(data)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"baseline_mb": baseline_mb, "peak_mb": peak_mb}))


# MAIN -----------------------------------------------------------------------


def measure(photos: list[bytes], rounds: int) -> tuple[dict, dict, list, int]:
    from photos import grouping

    jobs = workloads()
    for workload in jobs.values():  # warm-up: imports, cascades, codecs
        workload(photos[0])
    rates: dict[str, list[float]] = {name: [] for name in jobs}
    stages: dict[str, list[float]] = {}
    records = session_records()
    grouping_s = []
    groups = []
    for _ in range(rounds):
        for name, workload in jobs.items():
            started = time.perf_counter()
            for photo in photos:
                result = workload(photo)
                if name == "analysis":
                    for stage, ms in result.timings_ms.items():
                        stages.setdefault(stage, []).append(ms)
            rates[name].append(len(photos) / (time.perf_counter() - started))
        started = time.perf_counter()
        groups = grouping.group_similar(records)
        grouping_s.append(time.perf_counter() - started)
    return rates, stages, grouping_s, len(groups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cpu", type=int, default=0, help="the CPU to pin to")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.cpu})
    if args.child:
        run_child(*args.child)
        return
    if args.generate:
        generate(args.generate)
        return

    paths = photo_paths(args.photos)
    if not all(path.exists() for path in paths):
        command = [sys.executable, __file__, "--generate", str(args.photos)]
        subprocess.run(command, check=True)
    memory = {
        mode: child_peak_rss(mode, paths[0])
        for mode in ("analysis", "job", "export", "naive")
    }

    photos = [path.read_bytes() for path in paths]
    rates, stages, grouping_s, group_count = measure(photos, args.rounds)

    megabytes = [round(len(photo) / 1e6, 1) for photo in photos]
    print(
        f"cpu {args.cpu} of {os.cpu_count()} (pinned), VIPS_CONCURRENCY=1, python {sys.version.split()[0]}"
    )
    print(f"{len(photos)} photos {SIZE[0]}x{SIZE[1]} JPEG, MB {megabytes}, in {CACHE}")
    print()
    print(
        f"{'median of ' + str(args.rounds) + ' rounds':32}{'photos/s':>10}{'x naive':>9}{'target':>9}"
    )
    naive = statistics.median(rates["naive full decode (Pillow)"])
    for name, values in rates.items():
        rate = statistics.median(values)
        target = f">= {TARGETS[name]:g}" if name in TARGETS else ""
        print(f"{name:32}{rate:10.2f}{rate / naive:9.2f}{target:>9}")
    seconds = statistics.median(grouping_s)
    print(
        f"{'grouping 1,000 photos':32}{seconds:9.3f}s{'':9}{f'<= {GROUPING_TARGET_S:g} s':>9}"
        f"  ({group_count} groups; a naive decode of 1,000 takes {1000 / naive:.0f} s)"
    )
    print()
    medians = ", ".join(
        f"{stage} {statistics.median(ms):.1f}" for stage, ms in stages.items()
    )
    print(f"analysis stages, median ms: {medians}")
    print()
    for mode, rss in memory.items():
        target = (
            f" (target <= {RSS_TARGET_MB} MB)" if mode in ("analysis", "job") else ""
        )
        print(
            f"peak RSS, one 24 MP {mode:8} {rss['peak_mb']:5.0f} MB"
            f" (imports and file alone {rss['baseline_mb']:.0f} MB){target}"
        )


if __name__ == "__main__":
    main()
