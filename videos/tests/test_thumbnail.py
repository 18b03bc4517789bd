"""Exact-frame thumbnails and contact sheets, on numbered clips (no database)."""

import io

import pytest
from PIL import Image

from videos import thumbnail
from videos.errors import CorruptVideo
from videos.errors import UnsupportedVideo
from videos.tests import clips

# Around each keyframe of a 30-frame interval, and the ends of the clip.
FRAMES_TO_CHECK = [0, 1, 2, 14, 28, 29, 30, 31, 45, 59, 60, 61, 75, 88, 89]


def picture_of(jpeg: bytes) -> Image.Image:
    return Image.open(io.BytesIO(jpeg))


@pytest.mark.parametrize(
    "name", ["numbered.mp4", "numbered.mkv", "numbered.webm", "numbered.avi"]
)
def test_thumbnail_is_the_exact_frame_at_each_time(clip, name):
    """Whatever the distance from the keyframe before it, frame N is shown at N/30 s."""
    for index in FRAMES_TO_CHECK:
        picture = thumbnail.thumbnail(clip(name), at_s=index / 30)

        assert clips.jpeg_frame_number(picture.jpeg) == index
        assert abs(picture.at_s - index / 30) < 0.001


def test_time_between_two_frames_gives_the_later_one(clip):
    """The first frame shown at or after the time asked."""
    picture = thumbnail.thumbnail(clip("numbered.mp4"), at_s=45.4 / 30)

    assert clips.jpeg_frame_number(picture.jpeg) == 46


def test_far_from_the_only_keyframe_the_frame_is_still_exact(clip):
    """One keyframe at the start: 75 frames decoded forward (references only)."""
    picture = thumbnail.thumbnail(clip("one_keyframe.mp4"), at_s=2.5)

    assert clips.jpeg_frame_number(picture.jpeg) == 75


def test_default_time_is_ten_percent_of_the_duration(clip):
    picture = thumbnail.thumbnail(clip("numbered.mp4"))

    assert clips.jpeg_frame_number(picture.jpeg) == 9
    assert picture.at_s == pytest.approx(0.3)


def test_time_past_the_end_gives_the_last_frame(clip):
    picture = thumbnail.thumbnail(clip("numbered.mp4"), at_s=60)

    assert clips.jpeg_frame_number(picture.jpeg) == 89


def test_thumbnail_is_a_jpeg_of_the_full_picture_by_default(clip):
    picture = thumbnail.thumbnail(clip("numbered.mp4"))
    image = picture_of(picture.jpeg)

    assert image.format == "JPEG"
    assert image.size == (picture.width, picture.height) == (320, 240)
    assert clips.marker_corner(image) == "top-left"


def test_max_size_bounds_the_longer_side(clip):
    picture = thumbnail.thumbnail(clip("hd.mp4"), at_s=1, max_size=240)

    assert picture_of(picture.jpeg).size == (240, 135)
    assert clips.jpeg_frame_number(picture.jpeg) == 30


@pytest.mark.parametrize(
    ("name", "corner"),
    [("rotated_cw90.mp4", "top-right"), ("rotated_cw270.mp4", "bottom-left")],
)
def test_rotated_clip_gives_an_upright_thumbnail(clip, name, corner):
    """The stored top-left marker moves where the display matrix turns it."""
    picture = thumbnail.thumbnail(clip(name))
    image = picture_of(picture.jpeg)

    assert image.size == (240, 320)
    assert clips.marker_corner(image) == corner


def test_contact_sheet_tiles_are_the_frames_at_the_middle_of_equal_slices(clip):
    """Six slices of 0.5 s: frames 7.5/30 s... rounded up to frames 8, 23, 38..."""
    sheet = thumbnail.contact_sheet(clip("numbered.mp4"), count=6, columns=3)
    image = picture_of(sheet.jpeg)

    assert (sheet.width, sheet.height) == image.size == (3 * 320, 2 * 240)
    assert sheet.times_s == pytest.approx(
        [(8 + 15 * n) / 30 for n in range(6)], abs=1e-5
    )
    numbers = []
    for index in range(6):
        row, column = divmod(index, 3)
        tile = image.crop(
            (column * 320, row * 240, (column + 1) * 320, (row + 1) * 240)
        )
        numbers.append(clips.frame_number(tile))
    assert numbers == [8, 23, 38, 53, 68, 83]


def test_contact_sheet_of_a_rotated_clip_has_upright_tiles(clip):
    sheet = thumbnail.contact_sheet(
        clip("rotated_cw90.mp4"), count=2, columns=2, tile_size=160
    )
    image = picture_of(sheet.jpeg)

    assert image.size == (2 * 120, 160)
    assert clips.marker_corner(image.crop((0, 0, 120, 160))) == "top-right"


def test_truncated_clip_gives_a_typed_error(truncated):
    with pytest.raises(CorruptVideo, match="truncated"):
        thumbnail.thumbnail(truncated("numbered.mp4"))


def test_playlist_gives_no_thumbnail(tmp_path, listener):
    path = clips.write_text(tmp_path / "clip.mp4", f"#EXTM3U\n{listener.url('a.ts')}\n")

    with pytest.raises(UnsupportedVideo, match="HLS playlist"):
        thumbnail.thumbnail(path)
    assert listener.was_contacted() is False
