"""Scene cuts and sampled frames for the analysis timeline (no database)."""

import io

import pytest
from PIL import Image

from videos import frames
from videos.decoding import Picture
from videos.errors import Cancelled
from videos.errors import CorruptVideo
from videos.tests import clips


def test_cuts_are_found_at_the_first_frame_of_each_new_scene(clip):
    """Three 2 s shots (test pattern, colour bars, fractal): cuts at 2 s and 4 s."""
    cuts = frames.detect_scene_cuts(clip("cuts.mp4"))

    assert [cut.at_s for cut in cuts] == pytest.approx([2.0, 4.0], abs=0.001)
    assert all(cut.score >= frames.DEFAULT_THRESHOLD for cut in cuts)


def test_motion_within_one_shot_is_not_a_cut(clip):
    assert frames.detect_scene_cuts(clip("continuous.mp4")) == []


def test_threshold_above_every_change_finds_no_cut(clip):
    assert frames.detect_scene_cuts(clip("cuts.mp4"), threshold=1.01) == []


def test_sampled_frames_are_the_exact_frames_every_n_seconds(clip):
    pictures = list(frames.sample_frames(clip("numbered.mp4"), every_s=0.5))

    assert [picture.at_s for picture in pictures] == pytest.approx(
        [0, 0.5, 1.0, 1.5, 2.0, 2.5], abs=0.001
    )
    assert [clips.jpeg_frame_number(p.jpeg) for p in pictures] == [
        0,
        15,
        30,
        45,
        60,
        75,
    ]


def test_sampled_frames_are_small_upright_jpegs(clip):
    pictures = list(
        frames.sample_frames(clip("rotated_cw90.mp4"), every_s=1, max_size=160)
    )

    assert len(pictures) == 3
    image = Image.open(io.BytesIO(pictures[0].jpeg))
    assert image.format == "JPEG"
    assert image.size == (pictures[0].width, pictures[0].height) == (120, 160)
    assert clips.marker_corner(image) == "top-right"


def test_scan_yields_cuts_and_samples_in_time_order_from_one_pass(clip):
    events = list(frames.scan(clip("cuts.mp4"), every_s=1.5))

    kinds = [(type(event).__name__, round(event.at_s, 3)) for event in events]
    assert kinds == [
        ("Picture", 0.0),
        ("Picture", 1.5),
        ("SceneCut", 2.0),
        ("Picture", 3.0),
        ("SceneCut", 4.0),
        ("Picture", 4.5),
    ]


def test_scan_samples_match_sample_frames(clip):
    """Decoding everything or seeking from sample to sample gives the same frames.

    Every 10 frames of 30 fps in Matroska, which stores 1/3 s as 333 ms.
    """
    scanned = [
        clips.jpeg_frame_number(event.jpeg)
        for event in frames.scan(clip("numbered.mkv"), every_s=1 / 3)
        if isinstance(event, Picture)
    ]
    sampled = [
        clips.jpeg_frame_number(picture.jpeg)
        for picture in frames.sample_frames(clip("numbered.mkv"), every_s=1 / 3)
    ]

    assert scanned == sampled == list(range(0, 90, 10))


def test_scan_progress_ends_at_every_frame(clip):
    reports = []

    frames.detect_scene_cuts(
        clip("numbered.mp4"), on_progress=lambda done, expected: reports.append(done)
    )

    assert reports[-1] == 90
    assert reports == sorted(reports)


def test_cancelled_scan_raises(clip):
    calls = []

    def should_cancel() -> bool:
        calls.append(1)
        return len(calls) > 10

    with pytest.raises(Cancelled, match="cancelled"):
        frames.detect_scene_cuts(clip("numbered.mp4"), should_cancel=should_cancel)
    assert len(calls) == 11


def test_truncated_clip_gives_a_typed_error(truncated):
    with pytest.raises(CorruptVideo, match="truncated"):
        list(frames.sample_frames(truncated("numbered.mkv")))
