"""Video clips made for the videos tests: small, generated, with known contents.

Frames of a numbered clip carry their own index as eight black/white bars
across the bottom half (bit 0 on the left), and a red marker in the top-left
corner of the stored picture, so a test can tell which frame a decoder gave
it and which way up it is.
"""

from __future__ import annotations

import io
import os
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from videos.ffmpeg import ffmpeg_executable

MARKER = (230, 30, 30)
BITS = 8


def numbered_picture(index: int, size: tuple[int, int]) -> np.ndarray:
    """The RGB picture of frame `index`: its bits as bars, and the corner marker."""
    width, height = size
    pixels = np.full((height, width, 3), 128, dtype=np.uint8)
    pixels[: height // 4, : width // 4] = MARKER
    bar = width // BITS
    for bit in range(BITS):
        value = 255 if index >> bit & 1 else 0
        pixels[height // 2 :, bit * bar : (bit + 1) * bar] = value
    return pixels


def frame_number(image: Image.Image) -> int:
    """The index a numbered frame carries (image in its stored orientation)."""
    gray = np.asarray(image.convert("L"), dtype=np.int32)
    height, width = gray.shape
    bar = width // BITS
    row = height * 3 // 4
    return sum(
        1 << bit
        for bit in range(BITS)
        if gray[
            row - 2 : row + 3, bit * bar + bar // 4 : (bit + 1) * bar - bar // 4
        ].mean()
        > 128
    )


def jpeg_frame_number(jpeg: bytes) -> int:
    return frame_number(Image.open(io.BytesIO(jpeg)))


def marker_corner(image: Image.Image) -> str:
    """Which corner of the image holds the red marker: "top-left", "top-right"..."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.int32)
    height, width, _ = pixels.shape
    corners = {
        "top-left": pixels[: height // 10, : width // 10],
        "top-right": pixels[: height // 10, -width // 10 :],
        "bottom-left": pixels[-height // 10 :, : width // 10],
        "bottom-right": pixels[-height // 10 :, -width // 10 :],
    }
    redness = {
        name: (patch[..., 0] - patch[..., 1]).mean() for name, patch in corners.items()
    }
    return max(redness, key=redness.get)


def numbered_clip(
    path: Path,
    *,
    size: tuple[int, int] = (320, 240),
    fps: int = 30,
    seconds: float = 3,
    audio: bool = True,
    keyframe_interval: int | None = None,
    timestamps_ms: list[int] | None = None,
    rotation_ccw: int | None = None,
    creation_time: str | None = None,
    faststart: bool = False,
    video_codec: str = "libx264",
    audio_codec: str = "aac",
    audio_rate: int = 48000,
    audio_layout: str = "stereo",
    container_format: str | None = None,
) -> Path:
    """A clip of numbered frames (see module doc), with a 440 Hz tone if `audio`.

    `timestamps_ms` gives each frame its own time (a variable frame rate);
    `rotation_ccw` writes a display matrix, as FFmpeg's -display_rotation.
    """
    options = {"movflags": "+faststart"} if faststart else {}
    count = len(timestamps_ms) if timestamps_ms else round(seconds * fps)
    with av.open(str(path), "w", format=container_format, options=options) as output:
        if creation_time:
            output.metadata["creation_time"] = creation_time
        video = output.add_stream(video_codec, rate=fps)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        codec_options = (
            {"crf": "18", "preset": "veryfast"} if video_codec == "libx264" else {}
        )
        if video_codec in ("libvpx", "libvpx-vp9"):
            codec_options = {"deadline": "realtime", "cpu-used": "8", "b": "1M"}
        if keyframe_interval:
            video.codec_context.gop_size = keyframe_interval
        video.options = codec_options
        if timestamps_ms:
            video.codec_context.time_base = Fraction(1, 1000)
        if rotation_ccw is not None:
            video.set_display_rotation(rotation_ccw)
        tone = None
        if audio:
            tone = output.add_stream(audio_codec, rate=audio_rate, layout=audio_layout)
        for index in range(count):
            frame = av.VideoFrame.from_ndarray(
                numbered_picture(index, size), format="rgb24"
            )
            frame = frame.reformat(format="yuv420p")
            if timestamps_ms:
                frame.pts, frame.time_base = timestamps_ms[index], Fraction(1, 1000)
            else:
                frame.pts, frame.time_base = index, Fraction(1, fps)
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
        if tone is not None:
            duration_s = timestamps_ms[-1] / 1000 if timestamps_ms else count / fps
            _write_tone(output, tone, duration_s, audio_rate)
    return path


def _write_tone(output, stream, duration_s: float, rate: int) -> None:
    samples = round(duration_s * rate)
    chunk = stream.codec_context.frame_size or 1024
    channels = stream.codec_context.layout.nb_channels
    resampler = av.AudioResampler(
        format=stream.codec_context.format.name,
        layout=stream.codec_context.layout.name,
        rate=rate,
    )
    for start in range(0, samples, chunk):
        count = min(chunk, samples - start)
        t = (np.arange(start, start + count) / rate).astype(np.float32)
        wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        planes = np.repeat(wave[None, :], channels, axis=0)
        frame = av.AudioFrame.from_ndarray(
            planes, format="fltp", layout=stream.codec_context.layout.name
        )
        frame.sample_rate, frame.pts = rate, start
        for resampled in resampler.resample(frame):
            output.mux(stream.encode(resampled))
    output.mux(stream.encode(None))


def lavfi_clip(path: Path, video: str, *args: str) -> Path:
    """A clip made by the ffmpeg command line from a lavfi video source, x264 ultrafast."""
    command = [ffmpeg_executable(), "-nostdin", "-loglevel", "error", "-y"]
    command += ["-f", "lavfi", "-i", video, *args]
    command += [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        str(path),
    ]
    subprocess.run(command, check=True, timeout=120)
    return path


def cut_in_half(source: Path, path: Path) -> Path:
    """The first half of `source`'s bytes, as a transfer that stopped midway leaves it."""
    content = source.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    return path


def write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def process_children(pid: int) -> list[int]:
    """Ids of the live child processes of `pid`, from /proc."""
    children = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as listing:
                children += [int(child) for child in listing.read().split()]
        except FileNotFoundError:
            continue
    return [child for child in children if is_alive(child)]


def is_alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting to be reaped does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")
