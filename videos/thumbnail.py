"""Thumbnails of a local video: one exact frame, or a contact sheet of several.

Both decode from the keyframe before each time to the exact frame (see
`videos.decoding`), apply the rotation of the display matrix and return JPEG
bytes; nothing is written to disk.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from PIL import Image

from videos.decoding import Picture
from videos.decoding import encode_jpeg
from videos.decoding import frames_at
from videos.decoding import to_picture
from videos.decoding import upright_image
from videos.errors import CorruptVideo
from videos.probe import VideoLimits
from videos.probe import opened_video

DEFAULT_POSITION = 0.10  # of the duration: past intros and fades from black


@dataclass(frozen=True)
class ContactSheet:
    """A grid of frames in one JPEG, and the time of each tile, row by row."""

    jpeg: bytes
    width: int
    height: int
    times_s: list[float]


def thumbnail(
    path: str | os.PathLike,
    *,
    at_s: float | None = None,
    max_size: int | None = 1280,
    quality: int = 85,
    limits: VideoLimits | None = None,
) -> Picture:
    """The first frame shown at or after `at_s` (default 10 % of the duration), upright, as JPEG."""
    with opened_video(path, limits=limits) as video:
        if at_s is None:
            at_s = video.duration_s * DEFAULT_POSITION
        for frame_s, frame in frames_at(video.container, video.stream, [at_s]):
            return to_picture(
                frame,
                at_s=frame_s,
                sample_aspect=video.stream.sample_aspect_ratio,
                max_size=max_size,
                quality=quality,
            )
    raise CorruptVideo("No frame of the video could be decoded.")


def contact_sheet(
    path: str | os.PathLike,
    *,
    count: int = 12,
    columns: int = 4,
    tile_size: int = 320,
    quality: int = 80,
    limits: VideoLimits | None = None,
) -> ContactSheet:
    """`count` frames evenly spread over the video (middles of equal slices), in a grid."""
    if count < 1 or columns < 1:
        raise ValueError("count and columns must be at least 1.")
    tiles: list[Image.Image] = []
    times_s: list[float] = []
    with opened_video(path, limits=limits) as video:
        slice_s = video.duration_s / count
        wanted = [slice_s * (index + 0.5) for index in range(count)]
        for frame_s, frame in frames_at(video.container, video.stream, wanted):
            tiles.append(
                upright_image(
                    frame,
                    sample_aspect=video.stream.sample_aspect_ratio,
                    max_size=tile_size,
                )
            )
            times_s.append(round(frame_s, 6))
    if not tiles:
        raise CorruptVideo("No frame of the video could be decoded.")
    tile_width, tile_height = tiles[0].size
    columns = min(columns, len(tiles))
    rows = math.ceil(len(tiles) / columns)
    sheet = Image.new("RGB", (tile_width * columns, tile_height * rows))
    for index, tile in enumerate(tiles):
        row, column = divmod(index, columns)
        sheet.paste(tile, (column * tile_width, row * tile_height))
    return ContactSheet(encode_jpeg(sheet, quality=quality), *sheet.size, times_s)
