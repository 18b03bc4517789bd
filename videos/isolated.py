"""The PyAV reads of an uploaded video, each run in a sandboxed child (`videos.sandbox`).

Same answers as `probe.read_metadata`, `thumbnail.thumbnail`/`contact_sheet`
and `frames.scan`, with the decoding in a child process: a damaged or
hostile file ends as a VideoError here, never as a crashed, hung or bloated
web or worker process.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass

from videos import frames
from videos import sandbox
from videos import thumbnail
from videos.decoding import Picture
from videos.frames import SceneCut
from videos.probe import VideoLimits
from videos.probe import VideoMetadata
from videos.probe import read_metadata


@dataclass(frozen=True)
class Thumbnails:
    """The poster frame and, if asked for, a contact sheet."""

    picture: Picture
    sheet: thumbnail.ContactSheet | None


def probe(
    path: str | os.PathLike,
    *,
    limits: VideoLimits,
    timeout_s: float,
    memory_bytes: int,
) -> VideoMetadata:
    """`read_metadata` in a child: sniffed, limits checked from the header, one frame decoded."""

    def task(emit):
        emit(
            {
                "type": "metadata",
                "metadata": read_metadata(path, limits=limits).as_dict(),
            }
        )

    (message, _), *_ = sandbox.run_to_end(
        task, timeout_s=timeout_s, memory_bytes=memory_bytes
    )
    return VideoMetadata.from_dict(message["metadata"])


def thumbnails(
    path: str | os.PathLike,
    *,
    at_s: float | None,
    max_size: int,
    sheet_frames: int,
    sheet_columns: int,
    limits: VideoLimits,
    timeout_s: float,
    memory_bytes: int,
) -> Thumbnails:
    """The exact frame at `at_s` (default 10 %) and a contact sheet of `sheet_frames` (0: none)."""

    def task(emit):
        picture = thumbnail.thumbnail(path, at_s=at_s, max_size=max_size, limits=limits)
        emit(
            {
                "type": "picture",
                "at_s": picture.at_s,
                "width": picture.width,
                "height": picture.height,
            },
            picture.jpeg,
        )
        if sheet_frames:
            sheet = thumbnail.contact_sheet(
                path, count=sheet_frames, columns=sheet_columns, limits=limits
            )
            emit(
                {
                    "type": "sheet",
                    "width": sheet.width,
                    "height": sheet.height,
                    "times_s": sheet.times_s,
                },
                sheet.jpeg,
            )

    picture = sheet = None
    for message, payload in sandbox.run(
        task, timeout_s=timeout_s, memory_bytes=memory_bytes
    ):
        if message["type"] == "picture":
            picture = Picture(
                message["at_s"], payload, message["width"], message["height"]
            )
        else:
            sheet = thumbnail.ContactSheet(
                payload, message["width"], message["height"], message["times_s"]
            )
    return Thumbnails(picture, sheet)


@contextlib.contextmanager
def scan(
    path: str | os.PathLike,
    *,
    every_s: float,
    on_progress: Callable[[int, int], None],
    limits: VideoLimits,
    timeout_s: float,
    memory_bytes: int,
) -> Iterator[Iterator[SceneCut | Picture]]:
    """Scene cuts and sampled frames from one decoding pass in a child, in time order.

    A context manager: leaving the block early (a cancelled job) kills the
    child. `on_progress(frames_done, frames_expected)` runs here, in the
    parent, between events, so whatever it raises stops the scan.
    """

    def task(emit):
        def report(done: int, expected: int) -> None:
            emit({"type": "progress", "done": done, "expected": expected})

        for event in frames.scan(
            path, every_s=every_s, on_progress=report, limits=limits
        ):
            if isinstance(event, SceneCut):
                emit({"type": "cut", "at_s": event.at_s, "score": event.score})
            else:
                emit(
                    {
                        "type": "frame",
                        "at_s": event.at_s,
                        "width": event.width,
                        "height": event.height,
                    },
                    event.jpeg,
                )

    messages = sandbox.run(task, timeout_s=timeout_s, memory_bytes=memory_bytes)

    def events() -> Iterator[SceneCut | Picture]:
        for message, payload in messages:
            kind = message["type"]
            if kind == "progress":
                on_progress(message["done"], message["expected"])
            elif kind == "cut":
                yield SceneCut(message["at_s"], message["score"])
            else:
                yield Picture(
                    message["at_s"], payload, message["width"], message["height"]
                )

    with contextlib.closing(messages):
        yield events()
