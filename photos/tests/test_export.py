"""Thumbnails, previews and exports: format, size, metadata, GPS and ICC (no database)."""

import io

import numpy as np
import piexif
import pillow_heif
import pytest
from PIL import Image

from photos import export
from photos.errors import InvalidSettings
from photos.errors import PhotoTooLarge
from photos.tests import images


@pytest.fixture(scope="module")
def original():
    """A 640x480 JPEG with known EXIF (GPS included) and an sRGB profile."""
    photo = images.photograph("astronaut", size=640).crop((0, 80, 640, 560))
    return images.encode(
        photo, exif=piexif.dump(images.KNOWN_EXIF), icc_profile=images.srgb_icc()
    )


def opened(rendition: export.Rendition) -> Image.Image:
    image = Image.open(io.BytesIO(rendition.data))
    image.load()
    return image


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG", "AVIF"])
def test_export_honours_format_and_long_edge(original, fmt):
    """Each format encodes what it says, fitted to the long edge."""
    rendition = export.export_photo(original, fmt=fmt, long_edge=200, quality=70)
    image = opened(rendition)
    assert image.format == fmt
    assert image.size == (rendition.width, rendition.height) == (200, 150)
    assert rendition.size_bytes == len(rendition.data)
    assert rendition.format.content_type == f"image/{fmt.lower()}"


def test_export_never_upscales(original):
    """A long edge larger than the photo keeps its own size."""
    assert opened(export.export_photo(original, long_edge=4000)).size == (640, 480)


def test_lower_quality_gives_smaller_files(original):
    """Quality is passed to the encoder."""
    small = export.export_photo(original, quality=30).size_bytes
    large = export.export_photo(original, quality=95).size_bytes
    assert small < large


def test_metadata_is_stripped_by_default_but_icc_kept(original):
    """Default export: no EXIF at all, the ICC profile still there."""
    image = opened(export.export_photo(original))
    assert "exif" not in image.info
    assert image.info["icc_profile"] == images.srgb_icc()


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG", "AVIF"])
def test_kept_metadata_drops_gps_by_default(original, fmt):
    """keep_metadata carries camera fields in every format, but no GPS."""
    image = opened(export.export_photo(original, fmt=fmt, keep_metadata=True))
    exif = image.getexif()
    assert exif[piexif.ImageIFD.Model] == "Canon EOS R6"
    assert piexif.ImageIFD.GPSTag not in exif
    assert image.info["icc_profile"] == images.srgb_icc()


def test_gps_is_kept_only_when_asked(original):
    """strip_gps=False keeps the position."""
    rendition = export.export_photo(original, keep_metadata=True, strip_gps=False)
    gps = piexif.load(opened(rendition).info["exif"])["GPS"]
    assert gps[piexif.GPSIFD.GPSLatitudeRef] == b"N"


def test_exported_pixels_are_upright_and_exif_says_so():
    """An orientation-6 original exports rotated, with orientation reset to 1."""
    source = images.jpeg_with_exif(
        Image.new("RGB", (60, 40), "white"), {"0th": {274: 6}, "Exif": {}, "GPS": {}}
    )
    image = opened(export.export_photo(source, keep_metadata=True))
    assert image.size == (40, 60)
    assert image.getexif()[274] == 1


def test_export_applies_the_preset(original):
    """Adjustments given to an export change its pixels (+1 EV is brighter)."""
    plain = np.asarray(opened(export.export_photo(original, fmt="PNG")), dtype=float)
    bright = export.export_photo(original, fmt="PNG", adjustments={"exposure": 1})
    assert np.asarray(opened(bright), dtype=float).mean() > plain.mean() + 10


def test_raw_exports_through_a_demosaic():
    """A DNG is developed by LibRaw, upright, into a JPEG."""
    rendition = export.export_photo(images.dng_bytes(orientation=6), fmt="JPEG")
    assert opened(rendition).size == (64, 96)


def test_heic_exports_to_jpeg():
    """Phone HEIC in, JPEG out at the asked size."""
    heic = images.heic_bytes(images.photograph("coffee", size=300))
    assert pillow_heif.is_supported(heic) is True
    assert opened(export.export_photo(heic, long_edge=150)).size == (150, 100)


def test_thumbnail_and_preview_come_from_one_decode(original, mocker):
    """Both renditions are JPEGs of their sizes, from a single decode."""
    decode = mocker.spy(export, "decode")
    thumbnail, preview = export.make_thumbnail_and_preview(
        original, thumbnail_edge=100, preview_edge=400
    )
    assert decode.call_count == 1
    assert opened(thumbnail).size == (100, 75)
    assert opened(preview).size == (400, 300)
    assert opened(preview).format == "JPEG"


def test_thumbnail_of_a_bomb_is_refused():
    """Thumbnails go through the same pixel limit as everything else."""
    with pytest.raises(PhotoTooLarge):
        export.make_thumbnail(images.png_bomb())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fmt": "GIF"}, "format: 'GIF' is not one of JPEG, WEBP, PNG, AVIF"),
        ({"fmt": "JPEG", "quality": 0}, "quality: must be an integer from 1 to 100"),
        ({"fmt": "JPEG", "long_edge": 8}, "long_edge: must be an integer from 16"),
    ],
)
def test_export_options_are_validated(options, message):
    """Bad options are refused with every problem named, before any decoding."""
    with pytest.raises(InvalidSettings, match=message):
        export.validate_export_options(**options)


def test_jpg_is_an_alias_of_jpeg():
    """Format names are case-insensitive and jpg means JPEG."""
    assert export.validate_export_options(fmt="jpg") == "JPEG"
