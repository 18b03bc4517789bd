"""Exact frames at given times, and frames as upright JPEG pictures.

A seek lands on a keyframe at or before the time asked; the frames from
there to the time are decoded and dropped. While decoding towards the time,
the decoder skips pictures no other picture refers to (B-frames, mostly):
they would be dropped anyway and skipping them leaves the frame asked for
bit-identical, for about half the decoding work.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
from PIL import Image

# Without an index that says where keyframes are, decoding forward is
# cheaper than a seek up to this far ahead.
FORWARD_WITHOUT_INDEX_S = 2.0
# Timestamps of streams with B-frames may put a keyframe's picture after the
# time sought; step back this far, doubling, to reach the frame before it.
RESEEK_BACK_S = 1.0
RESEEK_TRIES = 4
# Muxers round times to their tick: Matroska stores frame 1 of 30 fps at
# 33 ms, before 1/30 s. A frame up to half a tick early, but never more than
# this, still counts as at the time asked.
ROUNDING_TOLERANCE_S = 0.0005

ROTATIONS = {
    90: Image.Transpose.ROTATE_270,  # PIL turns counter-clockwise
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class Picture:
    """A JPEG of one frame, upright, with the frame's time from the start."""

    at_s: float
    jpeg: bytes
    width: int
    height: int


def clockwise(counter_clockwise: float) -> int:
    """A display matrix angle (counter-clockwise, any value) as 0, 90, 180 or 270 clockwise."""
    return round(-counter_clockwise / 90) % 4 * 90


def rounding_tolerance_s(stream: av.VideoStream) -> float:
    """How early a frame's stored time may be and still count as at a time asked."""
    return min(float(stream.time_base) / 2, ROUNDING_TOLERANCE_S)


def frames_at(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    times_s: Iterable[float],
) -> Iterator[tuple[float, av.VideoFrame]]:
    """For each time (s from the start), the first frame shown at or after it, else the last."""
    # Stopping the iteration stops the decoding: at most one keyframe
    # interval is decoded between two frames yielded.
    walker = _Walker(container, stream)
    for time_s in sorted(times_s):
        frame = walker.frame_at(time_s)
        if frame is None:
            return
        yield walker.seconds(frame), frame


class _Walker:
    """Decoding position in one stream, moved forward by decoding or by seeking."""

    def __init__(self, container, stream):
        self.container = container
        self.stream = stream
        self.time_base = stream.time_base
        self.start = stream.start_time or 0
        self.tolerance = rounding_tolerance_s(stream) / self.time_base
        self.packets: Iterator[av.Packet] | None = None
        self.pending: deque[av.VideoFrame] = deque()
        self.last_dts: int | None = None
        self.last_frame: av.VideoFrame | None = None
        self.returned: av.VideoFrame | None = None
        self.is_drained = False
        stream.thread_type = "AUTO"

    def seconds(self, frame: av.VideoFrame) -> float:
        """Time of `frame` from the start of the stream."""
        return float((frame.pts - self.start) * self.time_base)

    def frame_at(self, time_s: float) -> av.VideoFrame | None:
        """The first frame at or after `time_s`, by decoding forward or seeking first."""
        wanted = self.start + Fraction(time_s).limit_denominator(10**6) / self.time_base
        target = wanted - self.tolerance
        if self.returned is not None and self.returned.pts >= target:
            return self.returned
        if self._should_seek(target):
            self._seek(wanted + self.tolerance)
        back_s = RESEEK_BACK_S
        for _ in range(RESEEK_TRIES):
            frame, is_first = self._decode_until(target)
            overshot = (
                is_first and frame is not None and frame.pts > wanted + self.tolerance
            )
            if not overshot or target - self.start <= 0:
                break
            self._seek(max(self.start, target - back_s / self.time_base))
            back_s *= 2
        self.returned = frame or self.last_frame
        return self.returned

    def _should_seek(self, target: float) -> bool:
        if self.packets is None:
            return True
        if self.pending and self.pending[-1].pts >= target:
            return False
        if self.last_dts is None:
            return True
        entries = self.stream.index_entries
        if len(entries):
            index = entries.search_timestamp(int(target), backward=True)
            return index >= 0 and entries[index].timestamp > self.last_dts
        return (target - self.last_dts) * self.time_base > FORWARD_WITHOUT_INDEX_S

    def _seek(self, target: float) -> None:
        self.container.seek(int(target), stream=self.stream, backward=True)
        self.packets = self.container.demux(self.stream)
        self.pending.clear()
        self.last_dts = None
        self.is_drained = False
        self.stream.codec_context.flush_buffers()

    def _decode_until(self, target: float) -> tuple[av.VideoFrame | None, bool]:
        """The first frame at or after `target`, and whether it is the first since the seek."""
        is_first = self.last_dts is None and not self.pending
        context = self.stream.codec_context
        while True:
            while self.pending:
                frame = self.pending.popleft()
                self.last_frame = frame
                if frame.pts is not None and frame.pts >= target:
                    return frame, is_first
                is_first = False
            packet = None if self.is_drained else next(self.packets, None)
            if packet is not None and packet.size == 0:
                continue  # demux ends with empty packets; drained below instead
            if packet is None:
                if self.is_drained:
                    return None, False
                context.skip_frame = "DEFAULT"
                self.pending.extend(self.stream.decode(None))
                self.is_drained = True
                continue
            if packet.dts is not None:
                self.last_dts = packet.dts
            # Toggled per packet: frame threads copy it when they take one.
            is_before = packet.pts is not None and packet.pts < target
            context.skip_frame = "NONREF" if is_before else "DEFAULT"
            self.pending.extend(packet.decode())


def upright_image(
    frame: av.VideoFrame,
    *,
    sample_aspect: Fraction | None = None,
    max_size: int | None = None,
) -> Image.Image:
    """The frame as an upright RGB image, square pixels, fitting a `max_size` box if given."""
    width = round(frame.width * (sample_aspect or 1))
    height = frame.height
    scale = min(1.0, max_size / max(width, height)) if max_size else 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == (frame.width, frame.height):
        image = frame.to_image()
    else:
        # Scaling in swscale, before the RGB conversion, is the cheap order.
        image = frame.to_image(width=size[0], height=size[1], interpolation="AREA")
    rotation = clockwise(frame.rotation)
    return image.transpose(ROTATIONS[rotation]) if rotation else image


def to_picture(
    frame: av.VideoFrame,
    *,
    at_s: float,
    sample_aspect: Fraction | None = None,
    max_size: int | None = None,
    quality: int = 85,
) -> Picture:
    """The frame as an upright JPEG (see `upright_image`)."""
    image = upright_image(frame, sample_aspect=sample_aspect, max_size=max_size)
    return Picture(at_s, encode_jpeg(image, quality=quality), *image.size)


def encode_jpeg(image: Image.Image, *, quality: int = 85) -> bytes:
    """JPEG bytes of a PIL image."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
