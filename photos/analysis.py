"""The analysis of one photo, as the original's process_photo ran it: plain data out.

Stages, each timed: decode (at 640 px: JPEG draft, RAW embedded preview),
EXIF, quality (measures, faces, score), context labels, perceptual hash,
preset selection and the job priority the score gives. No Django here:
the analyse service stores the result and its `as_json()`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Hashable
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from photos import exif
from photos import formats
from photos import grouping
from photos import presets
from photos import quality
from photos.containers import PhotoSource
from photos.containers import read_source

ANALYZER_VERSION = "1"  # bump when results would change


@dataclass
class PhotoAnalysis:
    """Everything analysis found about one photo."""

    format: str
    content_type: str
    width: int
    height: int
    exif: exif.ExifData
    quality: quality.Quality
    labels: list[str]
    phash: str
    preset: Hashable | None
    priority: int
    timings_ms: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (datetimes as ISO 8601)."""
        result = dataclasses.asdict(self)
        taken_at = self.exif.taken_at
        result["exif"]["taken_at"] = taken_at.isoformat() if taken_at else None
        return result


@contextmanager
def _timed(timings: dict[str, float], stage: str):
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = round((time.perf_counter() - started) * 1000, 2)


def analyze_photo(
    source: PhotoSource,
    *,
    preset_choices: Sequence[presets.PresetChoice] = (),
    user_requested: bool = False,
    default_tz: dt.tzinfo = dt.UTC,
    max_pixels: int = formats.MAX_PIXELS,
    decoded: formats.DecodedPhoto | None = None,
) -> PhotoAnalysis:
    """Analyse a photo; raises the photos.errors types for files it refuses.

    `decoded` is the photo already decoded at any size (the analysis job
    decodes once at preview size and makes the thumbnail and preview from
    the same pixels); it is brought to 640 px here, so the measures and the
    hash are taken at the same scale either way.
    """
    timings: dict[str, float] = {}
    with _timed(timings, "total"):
        data = read_source(source)
        with _timed(timings, "decode"):
            if decoded is None:
                decoded = formats.decode(
                    data, long_edge=quality.ANALYSIS_LONG_EDGE, max_pixels=max_pixels
                )
            image = formats.fit(decoded.image, quality.ANALYSIS_LONG_EDGE)
        info = decoded.info
        with _timed(timings, "exif"):
            exif_data = exif.read_exif(
                data, photo_format=info.format, default_tz=default_tz
            )
        with _timed(timings, "quality"):
            measured = quality.measure(image)
        with _timed(timings, "context"):
            labels = quality.context_labels(
                measured,
                width=info.width,
                height=info.height,
                iso=exif_data.iso,
                shutter_s=exif_data.shutter_s,
                flash_fired=exif_data.flash_fired,
                focal_length_mm=exif_data.focal_length_mm,
                taken_at=exif_data.taken_at,
            )
        with _timed(timings, "phash"):
            phash = grouping.perceptual_hash(image)
        with _timed(timings, "preset"):
            preset = presets.select_preset(
                preset_choices, labels=labels, score=measured.score
            )
    return PhotoAnalysis(
        format=info.format.name,
        content_type=info.format.content_type,
        width=info.width,
        height=info.height,
        exif=exif_data,
        quality=measured,
        labels=labels,
        phash=phash,
        preset=preset,
        priority=quality.priority_for(measured.score, user_requested=user_requested),
        timings_ms=timings,
    )
