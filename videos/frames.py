"""Scene cuts and sampled frames of a local video, for the analysis timeline.

The analysis job passes each sampled frame to the captures image analyser;
this module only finds cuts and yields small upright JPEGs with their times.
A cut is where the colour histogram of consecutive frames, downscaled to a
few thousand pixels, changes by more than a threshold: cheap next to the
decoding, and blind to motion within a scene, which moves pixels but keeps
their colours.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass

import av
import numpy as np

from videos.decoding import Picture
from videos.decoding import frames_at
from videos.decoding import rounding_tolerance_s
from videos.decoding import to_picture
from videos.errors import Cancelled
from videos.probe import VideoLimits
from videos.probe import opened_video

HISTOGRAM_SIZE = (64, 36)  # pixels per frame compared; the aspect is irrelevant
LEVELS = 4  # per RGB channel: 64 joint bins
DEFAULT_THRESHOLD = 0.35  # share of pixels that changed colour bin
PROGRESS_EVERY_S = 0.25


@dataclass(frozen=True)
class SceneCut:
    """A cut: the time of the first frame of the new scene, and how different it is (0-1)."""

    at_s: float
    score: float


def sample_frames(
    path: str | os.PathLike,
    *,
    every_s: float = 2.0,
    max_size: int | None = 640,
    quality: int = 80,
    limits: VideoLimits | None = None,
) -> Iterator[Picture]:
    """The exact frames at 0, every_s, 2 x every_s... as small upright JPEGs (seeking between)."""
    if every_s <= 0:
        raise ValueError("every_s must be positive.")
    with opened_video(path, limits=limits) as video:
        count = max(1, math.ceil(video.duration_s / every_s - 1e-9))
        times = [index * every_s for index in range(count)]
        aspect = video.stream.sample_aspect_ratio
        early_s = rounding_tolerance_s(video.stream)
        found = frames_at(video.container, video.stream, times)
        for wanted_s, (at_s, frame) in zip(times, found, strict=False):
            if at_s < wanted_s - early_s:
                return  # past the last frame: the header duration ran longer
            yield to_picture(
                frame,
                at_s=at_s,
                sample_aspect=aspect,
                max_size=max_size,
                quality=quality,
            )


def detect_scene_cuts(
    path: str | os.PathLike,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_scene_s: float = 0.5,
    on_progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    limits: VideoLimits | None = None,
) -> list[SceneCut]:
    """Every scene cut of the video, in time order (decodes every frame)."""
    events = scan(
        path,
        every_s=None,
        threshold=threshold,
        min_scene_s=min_scene_s,
        on_progress=on_progress,
        should_cancel=should_cancel,
        limits=limits,
    )
    return [event for event in events if isinstance(event, SceneCut)]


def scan(
    path: str | os.PathLike,
    *,
    every_s: float | None = 2.0,
    threshold: float = DEFAULT_THRESHOLD,
    min_scene_s: float = 0.5,
    max_size: int | None = 640,
    quality: int = 80,
    on_progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    limits: VideoLimits | None = None,
) -> Iterator[SceneCut | Picture]:
    """Scene cuts and, if `every_s`, sampled frames in time order, from one decoding pass."""
    # on_progress(frames_done, frames_expected) runs a few times a second;
    # should_cancel() is checked at every frame and true raises Cancelled.
    with opened_video(path, limits=limits) as video:
        stream = video.stream
        stream.thread_type = "AUTO"
        expected = max(1, stream.frames or round(video.duration_s * video.fps))
        start = stream.start_time or 0
        aspect = stream.sample_aspect_ratio
        tolerance_s = rounding_tolerance_s(stream)
        next_sample_s = 0.0 if every_s else math.inf
        previous: np.ndarray | None = None
        last_cut_s = -math.inf
        reported_at = time.monotonic()
        for done, frame in enumerate(video.container.decode(stream), start=1):
            if should_cancel and should_cancel():
                raise Cancelled("The scan was cancelled.")
            if frame.pts is None:
                continue
            at_s = float((frame.pts - start) * stream.time_base)
            histogram = _histogram(frame)
            if previous is not None:
                score = float(np.abs(histogram - previous).sum() / 2)
                if score >= threshold and at_s - last_cut_s >= min_scene_s:
                    last_cut_s = at_s
                    yield SceneCut(round(at_s, 6), round(score, 4))
            previous = histogram
            if at_s >= next_sample_s - tolerance_s:
                yield to_picture(
                    frame,
                    at_s=at_s,
                    sample_aspect=aspect,
                    max_size=max_size,
                    quality=quality,
                )
                while next_sample_s <= at_s + tolerance_s:
                    next_sample_s += every_s
            if on_progress and time.monotonic() - reported_at >= PROGRESS_EVERY_S:
                reported_at = time.monotonic()
                on_progress(min(done, expected - 1), expected)
        if on_progress:
            on_progress(expected, expected)


def _histogram(frame: av.VideoFrame) -> np.ndarray:
    """Share of the frame's pixels in each of LEVELS**3 colour bins."""
    width, height = HISTOGRAM_SIZE
    # Sparse sampling is fine for a histogram, and 3x cheaper than AREA.
    pixels = frame.to_ndarray(
        width=width, height=height, format="rgb24", interpolation="FAST_BILINEAR"
    )
    bins = (pixels // (256 // LEVELS)).astype(np.int32)
    index = (bins[..., 0] * LEVELS + bins[..., 1]) * LEVELS + bins[..., 2]
    counts = np.bincount(index.ravel(), minlength=LEVELS**3)
    return counts / counts.sum()
