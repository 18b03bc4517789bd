"""EXIF reading: known fields, JSON safety and hostile input (no database)."""

import datetime as dt
import json
import time

import piexif
import pytest

from photos import exif
from photos.tests import images


def read(exif_dict: dict, **kwargs) -> exif.ExifData:
    return exif.read_exif(images.jpeg_with_exif(exif=exif_dict), **kwargs)


def with_exif_fields(fields: dict) -> dict:
    return {"0th": {}, "Exif": fields, "GPS": {}}


def test_known_key_fields_are_read():
    """Camera, lens and exposure fields come out in plain units."""
    data = exif.read_exif(images.jpeg_with_exif())
    assert (data.camera_make, data.camera_model) == ("Canon", "Canon EOS R6")
    assert data.lens == "RF85mm F2 MACRO IS STM"
    assert (data.focal_length_mm, data.aperture_f, data.shutter_s) == (85.0, 2.8, 0.004)
    assert data.iso == 400
    assert data.orientation == 1
    assert data.flash_fired is False


def test_taken_at_is_aware_with_the_offset_from_the_exif():
    """DateTimeOriginal + OffsetTimeOriginal + SubSec make one aware datetime."""
    data = exif.read_exif(images.jpeg_with_exif())
    offset = dt.timezone(dt.timedelta(hours=2))
    assert data.taken_at == dt.datetime(2024, 6, 1, 18, 30, 5, 250000, tzinfo=offset)
    assert data.taken_at_offset_known is True


def test_taken_at_without_offset_uses_the_default_timezone():
    """No offset in the EXIF: the caller's timezone is assumed, and said so."""
    fields = with_exif_fields({piexif.ExifIFD.DateTimeOriginal: b"2023:01:02 03:04:05"})
    tz = dt.timezone(dt.timedelta(hours=-5))
    data = read(fields, default_tz=tz)
    assert data.taken_at == dt.datetime(2023, 1, 2, 3, 4, 5, tzinfo=tz)
    assert data.taken_at_offset_known is False


def test_gps_is_converted_to_signed_decimal_degrees():
    """North/West references give a positive latitude and a negative longitude."""
    data = exif.read_exif(images.jpeg_with_exif())
    assert data.gps_lat == pytest.approx(images.KNOWN_LAT, abs=1e-6)
    assert data.gps_lon == pytest.approx(images.KNOWN_LON, abs=1e-6)


def test_fields_are_json_safe_and_skip_blobs():
    """The whole dict survives json.dumps; the 600-byte MakerNote is left out."""
    data = exif.read_exif(images.jpeg_with_exif())
    json.dumps(data.fields)
    assert data.fields["Image"]["Make"] == "Canon"
    assert data.fields["Exif"]["FNumber"] == 2.8
    assert "MakerNote" not in data.fields["Exif"]


def test_photo_without_exif_gives_empty_data():
    """No EXIF at all is normal: empty fields and None key fields."""
    data = exif.read_exif(images.encode(images.photograph(size=32)))
    assert data.fields == {}
    assert data.taken_at is None
    assert data.orientation == 1


def test_heic_exif_is_read():
    """EXIF inside a HEIC (phones) is found through libheif."""
    heic = images.heic_bytes(images.photograph(size=64), exif=images.KNOWN_EXIF)
    data = exif.read_exif(heic)
    assert data.camera_model == "Canon EOS R6"
    assert data.iso == 400


def test_dng_exif_is_read_from_the_file_itself():
    """A DNG is a TIFF: its IFD0 gives make and model."""
    data = exif.read_exif(images.dng_bytes())
    assert (data.camera_make, data.camera_model) == ("Mediaqueue", "Test Camera")


@pytest.mark.parametrize(
    "text",
    [
        b"9999:12:31 00:00:00",
        b"1850:01:01 00:00:00",
        b"0000:00:00 00:00:00",
        b"garbage",
    ],
)
def test_absurd_dates_give_no_taken_at(text):
    """Dates outside 1900 .. now + 2 days, or unparsable, are dropped."""
    assert (
        read(with_exif_fields({piexif.ExifIFD.DateTimeOriginal: text})).taken_at is None
    )


def test_nul_bytes_and_control_characters_are_stripped():
    """PostgreSQL refuses \\u0000 in JSON: no NUL survives in any string."""
    fields = {
        "0th": {piexif.ImageIFD.Make: b"Ni\x00kon\x00\x00\x07"},
        "Exif": {},
        "GPS": {},
    }
    data = read(fields)
    assert data.camera_make == "Ni kon"
    assert "\\u0000" not in json.dumps(data.fields)


def test_looping_ifd_offsets_end_quickly():
    """IFD0 pointing back to itself (next, EXIF and GPS) is read once, without hanging."""
    started = time.perf_counter()
    data = exif.read_exif(images.jpeg_with_raw_exif(images.looping_exif()))
    assert time.perf_counter() - started < 0.5
    assert data.camera_make == "Ca n"
    assert data.taken_at is None


def test_garbage_values_give_clean_none_fields():
    """Zero denominators, huge counts, bad offsets, bad GPS and orientation 99 are dropped."""
    data = exif.read_exif(images.jpeg_with_raw_exif(images.garbage_exif()))
    assert data.camera_model == "EOS R5"
    assert data.taken_at is None
    assert data.shutter_s is None
    assert data.aperture_f is None
    assert data.iso is None
    assert (data.gps_lat, data.gps_lon) == (None, None)
    assert data.orientation == 1
    json.dumps(data.fields)
    assert "\\u0000" not in json.dumps(data.fields)


def test_crowded_ifd_is_capped():
    """An IFD claiming 5,000 entries is read up to the cap, quickly."""
    started = time.perf_counter()
    data = exif.read_exif(images.jpeg_with_raw_exif(images.crowded_exif()))
    assert time.perf_counter() - started < 0.5
    assert len(data.fields["Image"]) <= 64


@pytest.mark.parametrize(
    ("gps", "reason"),
    [
        (
            {
                1: b"N",
                2: ((95, 1), (0, 1), (0, 1)),
                3: b"E",
                4: ((10, 1), (0, 1), (0, 1)),
            },
            "lat>90",
        ),
        (
            {
                1: b"N",
                2: ((45, 1), (75, 1), (0, 1)),
                3: b"E",
                4: ((10, 1), (0, 1), (0, 1)),
            },
            "min>60",
        ),
        (
            {
                1: b"N",
                2: ((0, 1), (0, 1), (0, 1)),
                3: b"E",
                4: ((0, 1), (0, 1), (0, 1)),
            },
            "0,0",
        ),
        ({2: ((45, 1), (0, 1), (0, 1)), 4: ((10, 1), (0, 1), (0, 1))}, "no refs"),
        (
            {
                1: b"N",
                2: ((45, 1), (0, 1), (0, 1)),
                3: b"E",
                4: ((10, 1), (0, 1), (0, 1)),
                9: b"V",
            },
            "void fix",
        ),
    ],
)
def test_implausible_gps_gives_no_position(gps, reason):
    """Out-of-range, null-island, reference-less or void GPS gives no position."""
    data = read({"0th": {}, "Exif": {}, "GPS": gps})
    assert (data.gps_lat, data.gps_lon) == (None, None), reason


def test_export_exif_keeps_description_drops_gps_and_makernote():
    """The export copy is upright, has the new size, and no GPS or MakerNote by default."""
    blob = exif.exif_for_export(images.jpeg_with_exif(), width=100, height=50)
    loaded = piexif.load(blob[6:])
    assert loaded["0th"][piexif.ImageIFD.Model] == b"Canon EOS R6"
    assert loaded["0th"][piexif.ImageIFD.Orientation] == 1
    assert loaded["Exif"][piexif.ExifIFD.PixelXDimension] == 100
    assert piexif.ExifIFD.MakerNote not in loaded["Exif"]
    assert loaded["GPS"] == {}


def test_export_exif_keeps_gps_only_when_asked():
    """keep_gps=True carries the GPS IFD over intact."""
    blob = exif.exif_for_export(
        images.jpeg_with_exif(), width=1, height=1, keep_gps=True
    )
    assert piexif.load(blob[6:])["GPS"][piexif.GPSIFD.GPSLatitudeRef] == b"N"


def test_cr3_exif_is_read_from_its_cmt_boxes():
    """CR3 splits IFD0, EXIF and GPS into CMT1/CMT2/CMT4 boxes; all three are read."""
    data = exif.read_exif(images.cr3_like())
    assert (data.camera_make, data.camera_model) == ("Canon", "R5")
    assert (data.iso, data.shutter_s) == (800, 0.008)
    assert data.gps_lat == pytest.approx(-33.5)
    assert data.gps_lon == pytest.approx(151.2)
