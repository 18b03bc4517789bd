"""The proxy of a local video: 480p, 10 fps, H.264 (yuv420p) + AAC, `+faststart`.

Made by the ffmpeg command line of the imageio-ffmpeg wheel, run as a child
process (`videos.ffmpeg`), rather than in-process with PyAV. Measured on a
60 s 1080p30 H.264+AAC clip (keyframe every 2 s), x264 veryfast, crf 23,
threads auto, a keyframe every 2 s of proxy for every contender, on 2 cores
shared with other engineers' work, runs alternating in one session:

                                        quiet, 2 rounds    busy (load 3-6), 3 rounds
    ffmpeg command line (reference)     7.2-7.3 s          12.0 s  1.00
    PyAV, decode/filter/encode in turn  7.9-8.6 s  1.08-1.18x   15.6 s  1.30
    PyAV, decoding thread + encoding    6.9-7.3 s  0.96-1.00x   15.5 s  1.29
    this module                         -                  12.3 s  1.02

and bench/videos.py, 5 back-to-back pairs per run: median pair ratio 0.97
and CPU seconds ratio 0.98 at load 5-8, 1.03 and 1.02 at load 2-7. Decoding the 1080p source is most of the cost.
The command line runs demuxer, decoder, filters and encoder in threads of
their own; PyAV in one Python thread runs them in turn and misses the 1.1x
target, and a two-thread PyAV pipeline ties with it only on an idle machine.
The child process also isolates what matters for untrusted uploads: a
decoder crash or a memory blow-up ends ffmpeg, not the Celery worker, and
cancelling is a kill that no C call can hold up. PyAV stays the tool for
the short reads (metadata, thumbnails, frames), where starting a process
would cost more than the work.

Output goes to a hidden partial file next to the destination, renamed into
place only when complete; partial files left by a killed worker are removed
by the next run for the same destination.
"""

from __future__ import annotations

import glob
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from videos.errors import TranscodeFailed
from videos.ffmpeg import ProgressCallback
from videos.ffmpeg import ffmpeg_executable
from videos.ffmpeg import ffmpeg_input_args
from videos.ffmpeg import progress_args
from videos.ffmpeg import run
from videos.probe import VideoLimits
from videos.probe import VideoMetadata
from videos.probe import read_metadata
from videos.sniff import sniff_path

logger = logging.getLogger(__name__)

MAX_AUDIO_RATE = 48000  # above it, players and the AAC encoder balk
TRANSPOSE = {90: "transpose=clock", 180: "hflip,vflip", 270: "transpose=cclock"}


@dataclass(frozen=True)
class ProxySettings:
    """How a proxy is encoded; the defaults are the original system's proxy."""

    height: int = 480  # never upscaled: a lower source keeps its height
    fps: int = 10
    preset: str = "veryfast"
    crf: int = 23
    threads: int = 0  # 0: as many as FFmpeg sees fit
    keyframe_interval_s: float = 2.0  # seeking in a player lands on keyframes
    audio_bitrate: int = 128_000
    max_audio_channels: int = 2


@dataclass(frozen=True)
class ProxyResult:
    """What `make_proxy` did: "encode", "copy" (remuxed) or "skip" (the original serves)."""

    method: str
    path: Path | None  # None when skipped
    metadata: VideoMetadata  # of the proxy (of the original when skipped)
    elapsed_s: float


def proxy_plan(metadata: VideoMetadata, settings: ProxySettings | None = None) -> str:
    """The least work that gives a proxy of `settings`: "skip", "copy" or "encode"."""
    settings = settings or ProxySettings()
    fits = (
        metadata.video_codec == "h264"
        and metadata.pixel_format == "yuv420p"
        and metadata.display_size[1] <= settings.height
        and metadata.fps <= settings.fps + 0.01
        and not metadata.is_variable_fps
        and metadata.rotation == 0
        and metadata.display_size[0] == metadata.width
        and metadata.audio_codec in (None, "aac")
        and (metadata.audio_channels or 0) <= settings.max_audio_channels
    )
    if not fits:
        return "encode"
    if metadata.container == "mp4" and metadata.is_faststart:
        return "skip"
    # H.264 in AVI is stored differently (start codes, packed B-frames):
    # re-encoding is the reliable way to MP4.
    return "copy" if metadata.demuxer in ("mov", "matroska") else "encode"


def proxy_size(
    metadata: VideoMetadata, settings: ProxySettings | None = None
) -> tuple[int, int]:
    """Width and height of the encoded proxy: upright, aspect kept, both even."""
    settings = settings or ProxySettings()
    height = _even(min(settings.height, metadata.display_size[1]))
    return _even(height * metadata.display_aspect_ratio), height


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def proxy_command(
    source: str | os.PathLike,
    output: str | os.PathLike,
    *,
    metadata: VideoMetadata,
    settings: ProxySettings | None = None,
    method: str = "encode",
) -> list[str]:
    """The ffmpeg command line that writes the proxy of `source` to `output` as MP4."""
    settings = settings or ProxySettings()
    command = [ffmpeg_executable(), "-nostdin", "-hide_banner", "-loglevel", "error"]
    command += progress_args()
    if method == "encode" and metadata.rotation:
        # Rotated after the frame rate drop and the downscale, so the
        # transpose works on few small frames; the override keeps FFmpeg
        # from rotating first at full size and rate.
        command += ["-display_rotation:v:0", "0"]
    command += ffmpeg_input_args(source, metadata.demuxer)
    command += ["-map", "0:V:0"]
    if metadata.has_audio:
        command += ["-map", "0:a:0"]
    command += ["-map_metadata", "-1", "-map_chapters", "-1"]
    if method == "copy":
        command += ["-c", "copy"]
    else:
        command += _encode_args(metadata, settings)
    return [
        *command,
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        "-y",
        f"file:{os.path.abspath(output)}",
    ]


def _encode_args(metadata: VideoMetadata, settings: ProxySettings) -> list[str]:
    width, height = proxy_size(metadata, settings)
    if metadata.rotation in (90, 270):
        width, height = height, width
    filters = [f"fps={settings.fps}", f"scale={width}:{height}"]
    if metadata.rotation:
        filters.append(TRANSPOSE[metadata.rotation])
    filters += ["setsar=1", "format=yuv420p"]
    args = ["-vf", ",".join(filters), "-c:v", "libx264", "-preset", settings.preset]
    args += ["-crf", str(settings.crf), "-threads", str(settings.threads)]
    args += ["-g", str(max(1, round(settings.keyframe_interval_s * settings.fps)))]
    if metadata.has_audio:
        args += ["-c:a", "aac", "-b:a", str(settings.audio_bitrate)]
        if (metadata.audio_channels or 0) > settings.max_audio_channels:
            args += ["-ac", str(settings.max_audio_channels)]
        if (metadata.audio_sample_rate or 0) > MAX_AUDIO_RATE:
            args += ["-ar", str(MAX_AUDIO_RATE)]
    return args


def make_proxy(
    source: str | os.PathLike,
    destination: str | os.PathLike,
    *,
    settings: ProxySettings | None = None,
    metadata: VideoMetadata | None = None,
    limits: VideoLimits | None = None,
    on_progress: ProgressCallback | None = None,
    should_cancel: Callable[[], bool] | None = None,
    timeout_s: float | None = None,
) -> ProxyResult:
    """Write the proxy of `source` to `destination` atomically, or skip when the source is one."""
    # on_progress(frames_done, frames_expected) only rises, to expected at
    # the end. should_cancel() is polled ten times a second; true stops
    # ffmpeg, removes the partial file and raises TranscodeCancelled.
    # `metadata` (read_metadata of this file) saves probing it again;
    # `limits` apply when it is probed here.
    started = time.perf_counter()
    settings = settings or ProxySettings()
    # The demuxer forced on ffmpeg is the one the bytes call for, whatever
    # metadata the caller kept.
    sniffed = sniff_path(source)
    if metadata is None or metadata.demuxer != sniffed.demuxer:
        metadata = read_metadata(source, limits=limits)
    method = proxy_plan(metadata, settings)
    report = _never_backwards(on_progress)
    if method == "skip":
        report(1, 1)
        return ProxyResult("skip", None, metadata, time.perf_counter() - started)
    destination = Path(destination)
    _remove_stale_partials(destination)
    deadline = time.monotonic() + timeout_s if timeout_s else None
    try:
        _write(
            source,
            destination,
            metadata,
            settings,
            method,
            report,
            should_cancel,
            deadline,
        )
    except TranscodeFailed as error:
        if method != "copy" or (deadline and time.monotonic() > deadline):
            raise
        # Some streams that look copyable are not accepted by the MP4 muxer
        # as they are (odd extradata, timestamps): encoding still works.
        logger.warning("Stream copy failed, encoding instead: %s", error.detail)
        method = "encode"
        _write(
            source,
            destination,
            metadata,
            settings,
            method,
            report,
            should_cancel,
            deadline,
        )
    output = read_metadata(destination, limits=VideoLimits(max_size_bytes=None))
    return ProxyResult(method, destination, output, time.perf_counter() - started)


def _write(
    source, destination, metadata, settings, method, report, should_cancel, deadline
):
    """Run ffmpeg into a partial file next to `destination`, then rename it into place."""
    partial = destination.with_name(
        f".{destination.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part"
    )
    if method == "encode":
        expected = max(1, round(metadata.duration_s * settings.fps))
    else:
        expected = max(1, metadata.frame_count)
    command = proxy_command(
        source, partial, metadata=metadata, settings=settings, method=method
    )
    try:
        run(
            command,
            expected=expected,
            on_progress=report,
            should_cancel=should_cancel,
            deadline=deadline,
        )
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    report(expected, expected)


def _never_backwards(on_progress: ProgressCallback | None) -> ProgressCallback:
    """`on_progress`, called only when the share done grows (a retry starts from 0)."""
    best = 0.0

    def report(done: int, expected: int) -> None:
        nonlocal best
        if on_progress and done / expected > best:
            best = done / expected
            on_progress(done, expected)

    return report


def _remove_stale_partials(destination: Path) -> None:
    """Remove partial outputs for `destination` whose process is gone (a killed worker)."""
    pattern = f".{glob.escape(destination.name)}.*.part"
    for partial in destination.parent.glob(pattern):
        pid = partial.name.removeprefix(f".{destination.name}.").split("-")[0]
        if pid.isdigit() and not _is_running(int(pid)):
            partial.unlink(missing_ok=True)


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
