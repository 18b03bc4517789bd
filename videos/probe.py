"""Metadata of a local video file, read with PyAV, and the limits checked on it.

Every open goes through `open_video()`: the container is sniffed from the
bytes, FFmpeg gets the open file (no URL, so no protocol), the demuxer forced
to the sniffed one, `file` as the only protocol allowed and an `io_open` hook
that refuses any further file or URL a demuxer might ask for. Limits are
checked on the header values before this module decodes anything, and
FFmpeg's own stream probing gets them as `max_pixels`, so no picture over
them is ever allocated. One frame is then decoded: a stream FFmpeg cannot
decode is as good as no video, and the display matrix (rotation) reaches
PyAV only on decoded frames.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from fractions import Fraction
from typing import Any

import av

from videos.decoding import clockwise
from videos.errors import CorruptVideo
from videos.errors import UnsupportedVideo
from videos.errors import VideoLimitExceeded
from videos.sniff import DEMUXERS
from videos.sniff import Sniffed
from videos.sniff import open_regular_file
from videos.sniff import sniff

# The first frames and the last ones are enough to tell a variable frame
# rate, and keep the index walk short on long files.
RATE_SCAN_HEAD = 2000
RATE_SCAN_TAIL = 500
RATE_SCAN_PACKETS = 240
RATE_JITTER = 0.05  # timestamp rounding stays well under this share of a frame
FIRST_FRAME_PACKETS = 64


@dataclass(frozen=True)
class VideoLimits:
    """What an accepted video may be at most; `None` leaves a value unchecked."""

    max_size_bytes: int | None = 8 * 1024**3
    max_duration_s: float | None = 4 * 3600
    max_width: int | None = 7680  # compared with the long side, either orientation
    max_height: int | None = 4320  # compared with the short side
    max_fps: float | None = 240


@dataclass(frozen=True)
class VideoMetadata:
    """What the header and the first frame say about a video."""

    container: str  # "mp4", "mov", "3gp", "matroska", "webm" or "avi"
    demuxer: str  # the FFmpeg demuxer to force when opening it again
    size_bytes: int
    duration_s: float
    width: int  # stored picture, before rotation
    height: int
    display_aspect_ratio: Fraction  # as displayed: sample aspect and rotation applied
    rotation: int  # clockwise degrees that turn the stored picture upright
    fps: float  # average
    is_variable_fps: bool
    frame_count: int  # from the index when the container has one, else estimated
    video_codec: str
    pixel_format: str | None
    bitrate: int | None  # bits per second, whole file
    audio_codec: str | None
    audio_channels: int | None
    audio_sample_rate: int | None
    creation_time: datetime | None
    is_faststart: bool | None  # MP4/MOV: plays before it is fully downloaded

    @property
    def has_audio(self) -> bool:
        """Whether the file has an audio stream."""
        return self.audio_codec is not None

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height of the upright picture, square pixels."""
        height = self.width if self.rotation in (90, 270) else self.height
        return round(height * self.display_aspect_ratio), height

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly values (aspect as "16:9", time in ISO 8601)."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        aspect = self.display_aspect_ratio
        values["display_aspect_ratio"] = f"{aspect.numerator}:{aspect.denominator}"
        if self.creation_time:
            values["creation_time"] = self.creation_time.isoformat()
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> VideoMetadata:
        """The metadata back from `as_dict()` (e.g. as a decoding child sent it)."""
        values = {name: values[name] for name in cls.__dataclass_fields__}
        numerator, denominator = values["display_aspect_ratio"].split(":")
        values["display_aspect_ratio"] = Fraction(int(numerator), int(denominator))
        if values["creation_time"]:
            values["creation_time"] = datetime.fromisoformat(values["creation_time"])
        return cls(**values)


@contextmanager
def open_video(
    path: str | os.PathLike,
    *,
    sniffed: Sniffed | None = None,
    max_pixels: int | None = None,
) -> Iterator[tuple[av.container.InputContainer, Sniffed]]:
    """Open a local video safely (sniffed, demuxer forced, no nested opens); close it after."""
    with open_regular_file(path) as file:
        sniffed = sniffed or sniff(file)
        if sniffed.demuxer not in DEMUXERS:
            raise ValueError(f"Refusing to force the {sniffed.demuxer!r} demuxer.")
        file.seek(0)
        options = {"protocol_whitelist": "file"}
        if sniffed.demuxer == "mov":
            options["enable_drefs"] = "0"
        # FFmpeg decodes a frame or two while probing the streams; this
        # keeps a picture over the limits from being allocated even then.
        stream_options = [{"max_pixels": str(max_pixels)}] * 32 if max_pixels else None
        try:
            container = av.open(
                file,
                format=sniffed.demuxer,
                options=options,
                stream_options=stream_options,
                io_open=_refuse_nested_open,
                metadata_errors="replace",
            )
        except av.FFmpegError as error:
            raise CorruptVideo(
                f"FFmpeg cannot read this {sniffed.name} file: {error.strerror}."
            ) from None
        with container:
            yield container, sniffed


def _refuse_nested_open(url: str, flags: int, options: dict) -> None:
    raise PermissionError(f"A video may not refer to other files or URLs ({url!r}).")


@dataclass
class OpenedVideo:
    """An open input, its video stream and what its header says."""

    container: av.container.InputContainer
    stream: av.VideoStream
    sniffed: Sniffed
    duration_s: float
    fps: float


@contextmanager
def opened_video(
    path: str | os.PathLike, *, limits: VideoLimits | None = None
) -> Iterator[OpenedVideo]:
    """Open a local video with `open_video()` after checking `limits` on its header; close it."""
    limits = limits or VideoLimits()
    size_bytes = os.stat(path).st_size
    if limits.max_size_bytes is not None and size_bytes > limits.max_size_bytes:
        raise VideoLimitExceeded(
            f"The file has {size_bytes} bytes, more than the "
            f"{limits.max_size_bytes} allowed.",
            limit="size",
        )
    max_pixels = None
    if limits.max_width is not None and limits.max_height is not None:
        max_pixels = limits.max_width * limits.max_height
    with open_video(path, max_pixels=max_pixels) as (container, sniffed):
        try:
            stream = _video_stream(container)
            duration_s = _duration_s(container, stream)
            fps = _average_fps(stream, duration_s)
            _check_limits(limits, stream.width, stream.height, duration_s, fps)
            yield OpenedVideo(container, stream, sniffed, duration_s, fps)
        except av.FFmpegError as error:
            raise CorruptVideo(
                f"FFmpeg cannot read this {sniffed.name} file: {error.strerror}."
            ) from None


def read_metadata(
    path: str | os.PathLike, *, limits: VideoLimits | None = None
) -> VideoMetadata:
    """Metadata of the video at `path`, refused early when over `limits`."""
    with opened_video(path, limits=limits) as video:
        return _read(video)


def _read(video: OpenedVideo) -> VideoMetadata:
    container, stream, sniffed = video.container, video.stream, video.sniffed
    first = _first_frame(container, stream)
    rotation = clockwise(first.rotation)
    is_variable = _is_variable_rate(container, stream)
    audio = container.streams.audio[0] if container.streams.audio else None
    return VideoMetadata(
        container=sniffed.name,
        demuxer=sniffed.demuxer,
        size_bytes=sniffed.size_bytes,
        duration_s=round(video.duration_s, 6),
        width=stream.width,
        height=stream.height,
        display_aspect_ratio=_display_aspect(stream, rotation),
        rotation=rotation,
        fps=round(video.fps, 3),
        is_variable_fps=is_variable,
        frame_count=stream.frames or round(video.duration_s * video.fps),
        video_codec=stream.codec_context.name,
        pixel_format=stream.codec_context.pix_fmt,
        bitrate=container.bit_rate or None,
        audio_codec=audio.codec_context.name if audio else None,
        audio_channels=audio.codec_context.channels if audio else None,
        audio_sample_rate=audio.codec_context.sample_rate if audio else None,
        creation_time=_creation_time(container, stream),
        is_faststart=sniffed.is_faststart,
    )


def _video_stream(container: av.container.InputContainer) -> av.VideoStream:
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            if not stream.width or not stream.height:
                raise UnsupportedVideo("The video stream has no picture size.")
            return stream
    raise UnsupportedVideo("The file has no video stream.")


def _duration_s(
    container: av.container.InputContainer, stream: av.VideoStream
) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    # Live recordings (a browser's MediaRecorder WebM) carry no duration:
    # the packet timestamps tell it, without decoding.
    last = None
    for packet in container.demux(stream):
        if packet.pts is not None:
            end = packet.pts + (packet.duration or 0)
            last = end if last is None else max(last, end)
    container.seek(0)
    if last is None or not stream.time_base:
        raise CorruptVideo("The video stream has no timestamps.")
    return float((last - (stream.start_time or 0)) * stream.time_base)


def _average_fps(stream: av.VideoStream, duration_s: float) -> float:
    rate = stream.average_rate or stream.guessed_rate
    if rate:
        return float(rate)
    if stream.frames and duration_s:
        return stream.frames / duration_s
    raise CorruptVideo("The video stream has no frame rate.")


def _check_limits(
    limits: VideoLimits, width: int, height: int, duration_s: float, fps: float
) -> None:
    short, long_side = sorted((width, height))
    checks = (
        ("duration", duration_s, limits.max_duration_s, "seconds"),
        ("width", long_side, limits.max_width, "pixels on the long side"),
        ("height", short, limits.max_height, "pixels on the short side"),
        ("fps", fps, limits.max_fps, "frames per second"),
    )
    for name, value, limit, unit in checks:
        if limit is not None and value > limit:
            raise VideoLimitExceeded(
                f"The video has {value:g} {unit}, more than the {limit:g} allowed.",
                limit=name,
            )


def _first_frame(
    container: av.container.InputContainer, stream: av.VideoStream
) -> av.VideoFrame:
    stream.thread_type = "SLICE"  # frame threads would hold the frame back
    try:
        for count, packet in enumerate(container.demux(stream)):
            if count >= FIRST_FRAME_PACKETS:
                break
            if packet.size == 0 or not packet.is_keyframe:
                continue
            # Draining right after the keyframe gets it out without waiting
            # for the frames a reordering decoder would hold back.
            frames = packet.decode() or stream.decode(None)
            if frames:
                return frames[0]
            break
    except av.FFmpegError as error:
        raise UnsupportedVideo(
            f"The {stream.codec_context.name} video stream cannot be decoded: {error.strerror}."
        ) from None
    finally:
        container.seek(0)
    raise UnsupportedVideo(
        f"No frame of the {stream.codec_context.name} video stream could be decoded."
    )


def _display_aspect(stream: av.VideoStream, rotation: int) -> Fraction:
    # An unknown sample aspect (0:1) means square pixels.
    aspect = Fraction(stream.width, stream.height) * (stream.sample_aspect_ratio or 1)
    return 1 / aspect if rotation in (90, 270) else aspect


def _is_variable_rate(
    container: av.container.InputContainer, stream: av.VideoStream
) -> bool:
    entries = stream.index_entries
    if stream.frames and len(entries) >= stream.frames:
        # The MP4/AVI index lists every frame: no need to read any data.
        timestamps = [entry.timestamp for entry in entries[:RATE_SCAN_HEAD]]
        if len(entries) > RATE_SCAN_HEAD + RATE_SCAN_TAIL:
            timestamps += [entry.timestamp for entry in entries[-RATE_SCAN_TAIL:]]
            return _varies(timestamps[:RATE_SCAN_HEAD]) or _varies(
                timestamps[RATE_SCAN_HEAD:]
            )
        return _varies(timestamps)
    # Matroska indexes keyframes only: read the first packets' timestamps.
    timestamps = []
    for packet in container.demux(stream):
        if packet.pts is not None:
            timestamps.append(packet.pts)
        if len(timestamps) >= RATE_SCAN_PACKETS:
            break
    container.seek(0)
    return _varies(timestamps)


def _varies(timestamps: list[int]) -> bool:
    ordered = sorted(timestamps)
    steps = [
        after - before for before, after in zip(ordered, ordered[1:], strict=False)
    ]
    if len(steps) < 2:
        return False
    typical = sorted(steps)[len(steps) // 2]
    tolerance = max(1, typical * RATE_JITTER)
    return any(abs(step - typical) > tolerance for step in steps)


def _creation_time(
    container: av.container.InputContainer, stream: av.VideoStream
) -> datetime | None:
    for tags in (container.metadata, stream.metadata):
        for key in ("com.apple.quicktime.creationdate", "creation_time", "DATE_UTC"):
            value = tags.get(key)
            if not value:
                continue
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                continue
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            # Cameras without a clock write zero: 1904 or 1970.
            if moment.year > 1970:
                return moment.astimezone(UTC)
    return None
