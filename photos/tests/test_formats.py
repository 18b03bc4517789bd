"""Format sniffing, the pixel limit and decoding at the size needed (no database)."""

import warnings

import numpy as np
import pytest
from PIL import Image
from PIL import ImageFile
from PIL import JpegImagePlugin

from photos import formats
from photos import resample
from photos.errors import MalformedPhoto
from photos.errors import PhotoTooLarge
from photos.errors import UnsupportedPhotoFormat
from photos.tests import images


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("JPEG", "JPEG"), ("PNG", "PNG"), ("WEBP", "WebP"), ("TIFF", "TIFF")],
)
def test_pillow_formats_are_sniffed_by_content(fmt, name):
    """The format comes from the bytes, whatever name the file had."""
    data = images.encode(images.photograph(size=64), fmt)
    assert formats.sniff_format(data).name == name


def test_heic_is_sniffed_and_decoded():
    """A HEIC from pillow-heif is accepted and decodes to its size and colours."""
    data = images.heic_bytes(Image.new("RGB", (64, 48), (200, 40, 40)))
    decoded = formats.decode(data)
    assert decoded.info.format.name == "HEIC"
    assert decoded.image.size == (64, 48)
    assert np.asarray(decoded.image)[..., 0].mean() > 150


def test_dng_is_sniffed_as_raw_and_demosaiced_upright():
    """A DNG opens through LibRaw; orientation 6 turns the 96x64 sensor upright."""
    data = images.dng_bytes(orientation=6)
    info = formats.inspect_photo(data)
    assert info.format.name == "DNG"
    assert info.format.is_raw is True
    assert (info.width, info.height) == (64, 96)
    decoded = formats.decode(data)
    assert decoded.image.size == (64, 96)


def test_raw_analysis_uses_the_embedded_preview_not_a_demosaic():
    """With a camera preview in the DNG, the reduced decode returns the preview."""
    preview = Image.new("RGB", (48, 32), (10, 200, 10))
    decoded = formats.decode(images.dng_bytes(preview=preview), long_edge=64)
    assert decoded.image.size == (48, 32)
    assert tuple(np.asarray(decoded.image).mean(axis=(0, 1)).round()) == (10, 200, 10)


def test_raw_without_preview_falls_back_to_a_demosaic():
    """No preview: the sensor data is developed instead (red rises to the right)."""
    decoded = formats.decode(images.dng_bytes(), long_edge=96)
    red = np.asarray(decoded.image)[..., 0].astype(int)
    assert red[:, -10:].mean() > red[:, :10].mean()


@pytest.mark.parametrize(
    ("data", "detected"),
    [
        (b"GIF89a\x01\x00\x01\x00" + b"\x00" * 20, "GIF"),
        (b"%PDF-1.7\n" + b"\x00" * 20, "PDF"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "AVIF"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", "AVIF"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "ISO media (isom)"),
        (b"hello, this is text", "unknown"),
    ],
)
def test_other_types_are_refused_with_a_415_naming_them(data, detected):
    """Anything but the accepted formats is refused, saying what it looked like."""
    with pytest.raises(UnsupportedPhotoFormat, match="only JPEG, PNG, WebP") as caught:
        formats.inspect_photo(data)
    assert caught.value.status == 415
    assert caught.value.extra["detected"] == detected


def test_empty_file_is_malformed():
    """Zero bytes are a malformed upload, not an unknown type."""
    with pytest.raises(MalformedPhoto, match="empty"):
        formats.sniff_format(b"")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_file_is_refused_as_malformed(fmt):
    """An interrupted upload fails cleanly, at reduced size too."""
    data = images.truncated(images.encode(images.photograph(size=256), fmt))
    with pytest.raises(MalformedPhoto, match="truncated or corrupt"):
        formats.decode(data, long_edge=64)


def test_random_bytes_behind_a_jpeg_marker_are_malformed():
    """A JPEG signature followed by garbage is malformed, not a crash."""
    with pytest.raises(MalformedPhoto):
        formats.decode(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)


def test_raw_that_libraw_refuses_is_malformed():
    """A TIFF that claims a sensor layout LibRaw cannot read is refused with its reason."""
    data = images.dng_bytes()
    with pytest.raises(MalformedPhoto, match="LibRaw"):
        formats.decode(data[:200])


@pytest.mark.parametrize("bomb", [images.png_bomb(), images.jpeg_bomb()])
def test_decompression_bombs_are_refused_before_decoding(bomb, mocker):
    """Huge declared dimensions in a tiny file: refused from the header, nothing decoded."""
    load = mocker.spy(ImageFile.ImageFile, "load")
    with pytest.raises(PhotoTooLarge, match="too many pixels"):
        formats.decode(bomb)
    assert load.call_count == 0


def test_pixel_limit_is_ours_not_pillows():
    """A limit below Pillow's is enforced from the header, with the numbers."""
    data = images.png_bomb(3000, 2000)
    with pytest.raises(
        PhotoTooLarge, match="3000x2000 = 6000000 pixels; the limit is 1000000"
    ):
        formats.inspect_photo(data, max_pixels=1_000_000)


def test_bomb_warning_does_not_leak_out_of_the_check():
    """Pillow's warning is turned into an error inside the check only."""
    with pytest.raises(PhotoTooLarge):
        formats.inspect_photo(images.png_bomb(10_000, 9_000))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (
            formats.inspect_photo(images.encode(images.photograph(size=32))).width == 32
        )


def test_jpeg_is_decoded_at_reduced_size_for_analysis(mocker):
    """draft() asks libjpeg for 1/8 scale: a 2400 px JPEG decodes at 300 px."""
    data = images.encode(images.photograph(size=512).resize((2400, 1600)))
    draft = mocker.spy(JpegImagePlugin.JpegImageFile, "draft")
    decoded = formats.decode(data, long_edge=256)
    assert draft.spy_return[1] == (0, 0, 300, 200)  # decoded at 1/8 scale
    assert decoded.image.size == (256, 171)
    assert (decoded.info.width, decoded.info.height) == (2400, 1600)


def test_exif_orientation_is_applied_to_pixels_and_size():
    """Orientation 6 (turn 90 degrees clockwise) swaps width and height."""
    image = Image.new("RGB", (60, 40), "white")
    image.paste((255, 0, 0), (0, 0, 30, 40))  # left half red
    exif = {"0th": {274: 6}}
    data = images.jpeg_with_exif(image, exif)
    info = formats.inspect_photo(data)
    decoded = formats.decode(data)
    assert (info.width, info.height, info.orientation) == (40, 60, 6)
    assert decoded.image.size == (40, 60)
    top = np.asarray(decoded.image)[:30, :, 0].mean()
    assert top > 200  # the red left half is now on top


def test_transparent_png_is_flattened_onto_white():
    """Alpha becomes white, so transparent areas don't read as black."""
    clear = Image.new("RGBA", (16, 16), (0, 0, 0, 0))
    decoded = formats.decode(images.encode(clear, "PNG"))
    assert decoded.image.mode == "RGB"
    assert np.asarray(decoded.image).min() == 255


def test_sixteen_bit_grey_tiff_is_scaled_not_clipped():
    """A 16-bit mid-grey stays mid-grey in 8 bits."""
    grey = Image.fromarray(np.full((8, 8), 32768, dtype=np.uint16))
    decoded = formats.decode(images.encode(grey, "TIFF"))
    assert 120 <= np.asarray(decoded.image).mean() <= 135


def test_icc_profile_is_returned_with_the_pixels():
    """The ICC profile comes along, so exports can keep it."""
    icc = images.srgb_icc()
    decoded = formats.decode(images.encode(images.photograph(size=32), icc_profile=icc))
    assert decoded.icc_profile == icc


@pytest.mark.parametrize("size", [(997, 661), (640, 480), (301, 1999), (33, 17)])
def test_shrinking_gives_exact_sizes_and_keeps_content(size):
    """libvips shrinks to exactly the fitted size; a flat colour stays that colour."""
    image = Image.new("RGB", size, (200, 120, 40))
    fitted = resample.fit(image, 16)
    assert max(fitted.size) == 16
    assert fitted.mode == "RGB"
    assert tuple(np.asarray(fitted).reshape(-1, 3).mean(axis=0).round()) == (
        200,
        120,
        40,
    )


def test_fit_enlarges_only_when_asked():
    """Small photos are never enlarged for exports, only for analysis."""
    image = Image.new("L", (100, 50), 128)
    assert resample.fit(image, 400).size == (100, 50)
    assert resample.fit(image, 400, upscale=True).size == (400, 200)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (images.nikon_like_tiff(), "NEF"),
        (images.cr3_like(), "CR3"),
        (b"FUJIFILMCCD-RAW 0201FF393101" + b"\x00" * 100, "RAF"),
        (b"IIRO\x08\x00\x00\x00" + b"\x00" * 32, "ORF"),
        (b"IIU\x00\x08\x00\x00\x00" + b"\x00" * 32, "RW2"),
    ],
)
def test_camera_raw_containers_are_recognised(data, name):
    """RAW formats are told apart by content: TIFF layouts, magic numbers, ISO boxes."""
    photo_format = formats.sniff_format(data)
    assert photo_format.name == name
    assert photo_format.is_raw is True


def test_plain_tiff_with_a_camera_make_stays_tiff():
    """A TIFF without sensor data (a scan, an export) is not mistaken for RAW."""
    image = images.photograph(size=32)
    data = images.encode(image, "TIFF", tiffinfo={271: "NIKON CORPORATION"})
    assert formats.sniff_format(data).name == "TIFF"
