"""Captures analysed per second by captures.analysis, in one process.

    .venv/bin/python bench/captures_analysis.py [--frames 20] [--ocr-frames 8]
                                                [--rounds 5]

Generates a 640x480 JPEG scene of about 100 KB (shapes, a QR code, text,
sensor noise) and a second one with a shape moved, then analyses them in
turn (each with the other as the previous frame, so motion runs too). After
a warm-up that loads every detector and the OCR models, it times ROUNDS
rounds of N frames without OCR and with OCR and prints medians: captures per
second and per minute in this one process (what one prefork worker process
does) and per-stage milliseconds, against the original system's 50-100
captures per minute per worker. OpenCV and onnxruntime keep their default
thread counts, so one process may use several cores.
"""

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

import numpy as np  # noqa: E402
import qrcode  # noqa: E402
from PIL import Image  # noqa: E402
from PIL import ImageDraw  # noqa: E402
from PIL import ImageFont  # noqa: E402

from captures import analysis  # noqa: E402

ORIGINAL_PER_MINUTE = (50, 100)
TARGET_JPEG_BYTES = 100_000


def scene(*, shift: int) -> bytes:
    """A camera-like JPEG close to TARGET_JPEG_BYTES; `shift` moves one shape."""
    rng = np.random.default_rng(7)
    rows = np.linspace(70, 190, 480)[:, None, None]
    cols = np.linspace(0, 40, 640)[None, :, None]
    pixels = rows + cols + np.array([0, 10, 20]) + rng.normal(0, 10, (480, 640, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.rectangle([40 + shift, 300, 200 + shift, 420], fill=(180, 40, 40))
    draw.ellipse([240, 320, 360, 440], fill=(40, 90, 190))
    draw.polygon([(520, 300), (600, 440), (440, 440)], fill=(230, 200, 60))
    draw.text(
        (30, 30), "DOCK 4 - NORTH GATE", fill="black", font=ImageFont.load_default(36)
    )
    draw.text(
        (30, 90), "Delivery bay camera", fill="white", font=ImageFont.load_default(24)
    )
    symbol = qrcode.make("https://mediaqueue.example/cameras/dock-4", border=2)
    symbol = symbol.get_image().convert("RGB").resize((180, 180), Image.NEAREST)
    image.paste(symbol, (430, 60))
    return _jpeg_near(image, TARGET_JPEG_BYTES)


def _jpeg_near(image: Image.Image, size_bytes: int) -> bytes:
    best = b""
    for quality in range(95, 30, -5):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        best = buffer.getvalue()
        if len(best) <= size_bytes * 1.1:
            break
    return best


def run_round(frames: list[bytes], count: int, *, ocr: bool) -> tuple[float, list]:
    """Analyse `count` captures; return captures/s and each result's timings."""
    timings = []
    started = time.perf_counter()
    for index in range(count):
        current = frames[index % 2]
        previous = frames[(index + 1) % 2]
        result = analysis.analyze_image(current, previous=previous, ocr=ocr)
        timings.append(result.timings_ms)
    return count / (time.perf_counter() - started), timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20, help="per round, no OCR")
    parser.add_argument("--ocr-frames", type=int, default=8, help="per round, OCR")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    frames = [scene(shift=0), scene(shift=60)]
    started = time.perf_counter()
    analysis.warm_up(ocr=True)
    load_s = time.perf_counter() - started
    check = analysis.analyze_image(frames[0], previous=frames[1])
    for _ in range(3):
        analysis.analyze_image(frames[0], previous=frames[1], ocr=False)

    print(f"analyzer {analysis.ANALYZER_NAME} v{analysis.ANALYZER_VERSION}")
    print(f"cpu cores: {os.cpu_count()}; python {sys.version.split()[0]}")
    kilobytes = [round(len(frame) / 1024) for frame in frames]
    print(f"scene: 640x480 JPEG, {kilobytes[0]} / {kilobytes[1]} KB")
    print(f"warm-up (detectors + OCR models): {load_s:.2f} s")
    codes = [code["value"] for code in check.codes]
    print(f"scene check: codes={codes} text={check.text!r} labels={check.labels}")

    modes = [("without OCR", False, args.frames), ("with OCR", True, args.ocr_frames)]
    rates: dict[str, float] = {}
    stage_medians: dict[str, dict[str, float]] = {}
    for name, ocr, count in modes:
        round_rates = []
        all_timings = []
        for _ in range(args.rounds):
            rate, timings = run_round(frames, count, ocr=ocr)
            round_rates.append(rate)
            all_timings.extend(timings)
        rates[name] = statistics.median(round_rates)
        stage_medians[name] = {
            stage: statistics.median(t[stage] for t in all_timings)
            for stage in all_timings[0]
        }
        spread = f"{min(round_rates):.1f}-{max(round_rates):.1f}"
        print(f"{name}: {args.rounds} rounds x {count} captures, rates {spread}/s")

    print()
    print(f"{'':24}{'without OCR':>14}{'with OCR':>14}")
    stages = list(stage_medians["without OCR"]) + ["ocr"]
    stages.remove("total")
    for stage in [*stages, "total"]:
        cells = []
        for name, _, _ in modes:
            value = stage_medians[name].get(stage)
            cells.append(f"{value:14.1f}" if value is not None else f"{'-':>14}")
        print(f"{'median ms ' + stage:24}{''.join(cells)}")
    print(f"{'captures/s (1 process)':24}", end="")
    print("".join(f"{rates[name]:14.1f}" for name, _, _ in modes))
    print(f"{'captures/min (1 worker)':24}", end="")
    print("".join(f"{rates[name] * 60:14.0f}" for name, _, _ in modes))
    low, high = ORIGINAL_PER_MINUTE
    print(f"{'vs original 50-100/min':24}", end="")
    print(
        "".join(
            f"{f'{rates[name] * 60 / high:.1f}x-{rates[name] * 60 / low:.1f}x':>14}"
            for name, _, _ in modes
        )
    )


if __name__ == "__main__":
    main()
