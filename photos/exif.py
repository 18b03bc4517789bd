"""EXIF of a photo as JSON-safe data plus its key fields, and a clean copy for exports.

Hostile EXIF gives clean data, never an exception: `photos.tiff` bounds
the structure; here every value is checked. Strings lose NUL bytes
(PostgreSQL refuses \\u0000 in JSON) and control characters; byte blobs
become short hex or are skipped; a rational with a zero denominator becomes
None; dates outside 1900-01-01 .. now + 2 days, coordinates out of range
and implausible exposure values are dropped from the key fields.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from PIL import ExifTags

from photos import tiff
from photos.containers import ExifBlocks
from photos.containers import PhotoFormat
from photos.containers import PhotoSource
from photos.containers import find_exif
from photos.containers import read_source
from photos.containers import sniff_format

MAX_LIST = 64  # longer number arrays are structure, not description
MAX_HEX_BYTES = 64
MAX_TEXT = 1000
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
FUTURE_SLACK = dt.timedelta(days=2)  # camera clocks and time zones run ahead

_NAMES = {"Image": ExifTags.TAGS, "Exif": ExifTags.TAGS, "GPS": ExifTags.GPSTAGS}
_STRUCTURE_TAGS = {
    0x0111,  # StripOffsets
    0x0117,  # StripByteCounts
    0x0144,  # TileOffsets
    0x0145,  # TileByteCounts
    0x014A,  # SubIFDs
    0x0201,  # JPEGInterchangeFormat
    0x0202,
    0x02BC,  # XMP packet
    0x83BB,  # IPTC
    0x8773,  # ICC profile
    0x927C,  # MakerNote: vendor blob with its own offsets
    tiff.EXIF_POINTER,
    tiff.GPS_POINTER,
    tiff.INTEROP_POINTER,
}
_TEXT_UNDEFINED = {0x9000, 0xA000, 0x0002, 0x9286, 0x001B, 0x001C}
_XP_TAGS = {0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F}  # UTF-16 in BYTE arrays
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_DATE = re.compile(r"^\s*(\d{4})[:\-/](\d\d)[:\-/](\d\d)[ T](\d\d):(\d\d):(\d\d)")
_OFFSET = re.compile(r"^\s*([+-])(\d\d):?(\d\d)\s*$")

# Tags copied into exports: descriptive IFD0 tags only, since the others
# describe the original file's layout.
EXPORT_IMAGE_TAGS = {
    0x010E,  # ImageDescription
    0x010F,  # Make
    0x0110,  # Model
    0x011A,  # XResolution
    0x011B,  # YResolution
    0x0128,  # ResolutionUnit
    0x0131,  # Software
    0x0132,  # DateTime
    0x013B,  # Artist
    0x013C,  # HostComputer
    0x8298,  # Copyright
}
_EXPORT_DROPPED_EXIF_TAGS = {0x927C, 0xA002, 0xA003, tiff.INTEROP_POINTER}


@dataclass
class ExifData:
    """EXIF as JSON-safe `fields` (by IFD, then tag name) and the key fields."""

    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    taken_at: dt.datetime | None = None
    taken_at_offset_known: bool = False  # False: default_tz was assumed
    camera_make: str = ""
    camera_model: str = ""
    lens: str = ""
    focal_length_mm: float | None = None
    aperture_f: float | None = None
    shutter_s: float | None = None
    iso: int | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    orientation: int = 1
    flash_fired: bool | None = None


@dataclass
class _Parsed:
    endian: str = "<"
    directories: dict[str, tiff.Directory] = field(default_factory=dict)
    endians: dict[str, str] = field(default_factory=dict)

    def get(self, group: str, tag: int) -> tiff.Entry | None:
        directory = self.directories.get(group)
        return directory.entries.get(tag) if directory else None


def _parse(blocks: ExifBlocks) -> _Parsed:
    parsed = _Parsed()

    def first_directory(buffer) -> tuple[tiff.TiffReader, tiff.Directory] | None:
        if not buffer:
            return None
        try:
            reader = tiff.TiffReader(buffer)
        except ValueError:
            return None
        directory = reader.read(reader.first_offset)
        return (reader, directory) if directory is not None else None

    main = first_directory(blocks.main)
    if main:
        reader, image = main
        parsed.endian = reader.endian
        found = {
            "Image": image,
            "Exif": reader.pointer(image, tiff.EXIF_POINTER),
            "GPS": reader.pointer(image, tiff.GPS_POINTER),
        }
        for group, directory in found.items():
            if directory is not None:
                parsed.directories[group] = directory
                parsed.endians[group] = reader.endian
    for group, buffer in (("Exif", blocks.exif), ("GPS", blocks.gps)):
        extra = first_directory(buffer)
        if extra and group not in parsed.directories:
            parsed.directories[group] = extra[1]
            parsed.endians[group] = extra[0].endian
    return parsed


def read_exif(
    source: PhotoSource,
    *,
    photo_format: PhotoFormat | None = None,
    default_tz: dt.tzinfo = dt.UTC,
) -> ExifData:
    """EXIF of a photo; `default_tz` places a taken-at time that has no offset."""
    data = read_source(source)
    photo_format = photo_format or sniff_format(data)
    parsed = _parse(find_exif(data, photo_format))
    exif = _exif_data(parsed, default_tz=default_tz)
    if photo_format.is_raw and exif.taken_at is None and exif.iso is None:
        _fill_from_libraw(exif, data, default_tz=default_tz)
    return exif


def _exif_data(parsed: _Parsed, *, default_tz: dt.tzinfo) -> ExifData:
    exif = ExifData(fields=_json_fields(parsed))

    def value(group: str, tag: int) -> Any:
        entry = parsed.get(group, tag)
        return _value(entry, parsed.endians[group]) if entry else None

    exif.camera_make = _text_or_empty(value("Image", 0x010F))
    exif.camera_model = _text_or_empty(value("Image", 0x0110))
    exif.lens = _text_or_empty(value("Exif", 0xA434)) or _text_or_empty(
        value("Exif", 0xA433)
    )
    exif.focal_length_mm = _within(_number(value("Exif", 0x920A)), 0.1, 5000)
    aperture = _number(value("Exif", 0x829D))
    if aperture is None and (apex := _number(value("Exif", 0x9202))) is not None:
        aperture = math.sqrt(2) ** apex if -2 < apex < 20 else None
    exif.aperture_f = _within(aperture, 0.5, 128)
    shutter = _number(value("Exif", 0x829A))
    if shutter is None and (apex := _number(value("Exif", 0x9201))) is not None:
        shutter = 2.0**-apex if -20 < apex < 30 else None
    exif.shutter_s = _within(shutter, 1e-6, 86400)
    iso = _number(value("Exif", 0x8827))
    if iso is None or iso >= 65535:
        iso = _number(value("Exif", 0x8833)) or _number(value("Exif", 0x8832)) or iso
    exif.iso = int(iso) if _within(iso, 1, 10_000_000) else None
    orientation = _number(value("Image", 0x0112))
    exif.orientation = int(orientation) if orientation in range(1, 9) else 1
    flash = _number(value("Exif", 0x9209))
    exif.flash_fired = bool(int(flash) & 1) if flash is not None else None
    exif.gps_lat, exif.gps_lon = _gps(parsed)
    for group, date_tag, offset_tag, subsec_tag in (
        ("Exif", 0x9003, 0x9011, 0x9291),
        ("Exif", 0x9004, 0x9012, 0x9292),
        ("Image", 0x0132, 0x9010, 0x9290),
    ):
        taken_at, offset_known = _datetime(
            value(group, date_tag),
            offset=value("Exif", offset_tag),
            subsec=value("Exif", subsec_tag),
            default_tz=default_tz,
        )
        if taken_at is not None:
            exif.taken_at, exif.taken_at_offset_known = taken_at, offset_known
            break
    return exif


def _fill_from_libraw(exif: ExifData, data: bytes, *, default_tz: dt.tzinfo) -> None:
    """Key fields LibRaw decodes from RAW formats whose EXIF is not a TIFF."""
    import io

    import rawpy

    try:
        with rawpy.imread(io.BytesIO(data)) as raw:
            other, lens = raw.other, raw.lens
    except (rawpy.LibRawError, OSError, ValueError):
        return
    exif.iso = int(other.iso_speed) if _within(other.iso_speed, 1, 1e7) else None
    exif.shutter_s = _within(other.shutter_speed, 1e-6, 86400)
    exif.aperture_f = _within(other.aperture, 0.5, 128)
    exif.focal_length_mm = _within(other.focal_length, 0.1, 5000)
    exif.lens = exif.lens or _clean_text(lens.model.encode())
    if other.timestamp.year > 1970:
        taken_at = other.timestamp.replace(tzinfo=default_tz)
        exif.taken_at = taken_at if _sane_date(taken_at) else None


# VALUES -------------------------------------------------------------------


def _clean_text(raw: bytes) -> str:
    parts = (part.decode("utf-8", "replace") for part in raw.split(b"\x00"))
    cleaned = (_CONTROL.sub("", part).strip() for part in parts)
    return " ".join(part for part in cleaned if part)[:MAX_TEXT]


def _text_or_empty(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _rational(pair: tuple[int, int]) -> float | None:
    numerator, denominator = pair
    return round(numerator / denominator, 6) if denominator else None


def _value(entry: tiff.Entry, endian: str) -> Any:
    """A JSON-safe value for an entry, or None if it carries nothing usable."""
    kind = entry.type
    if kind == tiff.ASCII:
        return _clean_text(entry.raw)
    if entry.tag in _XP_TAGS:
        text = entry.raw.decode("utf-16-le", "replace")
        return _CONTROL.sub("", text).strip()[:MAX_TEXT]
    if kind == tiff.UNDEFINED:
        if entry.tag in _TEXT_UNDEFINED:
            raw = entry.raw[8:] if entry.tag == 0x9286 else entry.raw
            return _clean_text(raw)
        return entry.raw.hex() if len(entry.raw) <= MAX_HEX_BYTES else None
    if entry.count > MAX_LIST:
        return None
    values = entry.values(endian)
    if kind in (tiff.RATIONAL, tiff.SRATIONAL):
        values = tuple(_rational(pair) for pair in values)
    elif kind in (tiff.FLOAT, tiff.DOUBLE):
        values = tuple(round(v, 6) if math.isfinite(v) else None for v in values)
    return values[0] if len(values) == 1 else list(values)


def _json_fields(parsed: _Parsed) -> dict[str, dict[str, Any]]:
    fields: dict[str, dict[str, Any]] = {}
    for group, directory in parsed.directories.items():
        names = _NAMES[group]
        values = {}
        for tag, entry in directory.entries.items():
            if tag in _STRUCTURE_TAGS and group != "GPS":
                continue
            value = _value(entry, parsed.endians[group])
            if value is not None and value != "":
                values[names.get(tag, f"0x{tag:04X}")] = value
        if values:
            fields[group] = values
    return fields


def _number(value: Any) -> float | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _within(value: float | None, low: float, high: float) -> float | None:
    if value is None or not math.isfinite(value) or not low <= value <= high:
        return None
    return round(value, 6)


def _sane_date(moment: dt.datetime) -> bool:
    return EARLIEST <= moment <= dt.datetime.now(dt.UTC) + FUTURE_SLACK


def _datetime(
    text: Any, *, offset: Any, subsec: Any, default_tz: dt.tzinfo
) -> tuple[dt.datetime | None, bool]:
    """An aware taken-at time and whether its offset came from the EXIF."""
    match = _DATE.match(text) if isinstance(text, str) else None
    if match is None:
        return None, False
    try:
        naive = dt.datetime(*(int(part) for part in match.groups()))
    except ValueError:  # 0000:00:00, month 13, ...
        return None, False
    if isinstance(subsec, str) and subsec.isdigit():
        naive = naive.replace(microsecond=int(subsec[:6].ljust(6, "0")))
    tz, offset_known = default_tz, False
    offset_match = _OFFSET.match(offset) if isinstance(offset, str) else None
    if offset_match:
        sign, hours, minutes = offset_match.groups()
        delta = dt.timedelta(hours=int(hours), minutes=int(minutes))
        if delta <= dt.timedelta(hours=14) and int(minutes) < 60:
            tz = dt.timezone(-delta if sign == "-" else delta)
            offset_known = True
    moment = naive.replace(tzinfo=tz)
    return (moment, offset_known) if _sane_date(moment) else (None, False)


def _gps(parsed: _Parsed) -> tuple[float | None, float | None]:
    status = parsed.get("GPS", 0x0009)
    if status is not None and status.raw[:1].upper() == b"V":
        return None, None  # "void": the receiver had no fix
    lat = _coordinate(parsed, 0x0002, 0x0001, b"NS", 90)
    lon = _coordinate(parsed, 0x0004, 0x0003, b"EW", 180)
    if lat is None or lon is None or (lat == 0 and lon == 0):
        return None, None  # 0,0 is what receivers without a fix write
    return lat, lon


def _coordinate(
    parsed: _Parsed, value_tag: int, ref_tag: int, refs: bytes, limit: float
) -> float | None:
    entry, ref = parsed.get("GPS", value_tag), parsed.get("GPS", ref_tag)
    if entry is None or ref is None or entry.type != tiff.RATIONAL:
        return None
    if not 1 <= entry.count <= 3:
        return None
    hemisphere = ref.raw[:1].upper()
    if len(hemisphere) != 1 or hemisphere not in refs:
        return None
    parts = [_rational(pair) for pair in entry.values(parsed.endians["GPS"])]
    if any(part is None or part < 0 for part in parts):
        return None
    parts += [0.0] * (3 - len(parts))
    degrees, minutes, seconds = parts
    if minutes >= 60 or seconds >= 60:
        return None
    value = degrees + minutes / 60 + seconds / 3600
    if value > limit:
        return None
    return round(-value if hemisphere == refs[1:] else value, 7)


# EXPORT -------------------------------------------------------------------


def exif_for_export(
    source: PhotoSource,
    *,
    width: int,
    height: int,
    keep_gps: bool = False,
    photo_format: PhotoFormat | None = None,
) -> bytes:
    """EXIF for an exported copy ("Exif\\0\\0" + TIFF), or b"" if the photo has none.

    Keeps descriptive tags; drops the MakerNote (its offsets point into the
    original file), thumbnails and layout tags; sets orientation to 1
    (exports are already upright) and the pixel size to the export's. GPS
    is dropped unless `keep_gps`.
    """
    data = read_source(source)
    photo_format = photo_format or sniff_format(data)
    parsed = _parse(find_exif(data, photo_format))
    if "Image" not in parsed.directories and "Exif" not in parsed.directories:
        return b""
    endian = parsed.endian

    def entries(group: str, keep) -> list[tiff.Entry]:
        directory = parsed.directories.get(group)
        if directory is None:
            return []
        source_endian = parsed.endians[group]
        return [
            entry.converted(source_endian, endian)
            for tag, entry in directory.entries.items()
            if keep(tag) and entry.type != tiff.IFD
        ]

    def short(tag: int, number: int) -> tiff.Entry:
        return tiff.Entry(tag, tiff.SHORT, 1, number.to_bytes(2, _order(endian)))

    def long(tag: int, number: int) -> tiff.Entry:
        return tiff.Entry(tag, tiff.LONG, 1, number.to_bytes(4, _order(endian)))

    image = entries("Image", lambda tag: tag in EXPORT_IMAGE_TAGS)
    image.append(short(0x0112, 1))
    exif = entries("Exif", lambda tag: tag not in _EXPORT_DROPPED_EXIF_TAGS)
    exif += [long(0xA002, width), long(0xA003, height)]
    gps = entries("GPS", lambda tag: True) if keep_gps else []
    return b"Exif\x00\x00" + tiff.write_exif(image, exif, gps, endian=endian)


def _order(endian: str) -> str:
    return "little" if endian == "<" else "big"


def read_orientation(data: bytes, photo_format: PhotoFormat) -> int:
    """The EXIF orientation (1-8) of a photo; 1 when absent or invalid."""
    parsed = _parse(find_exif(data, photo_format))
    entry = parsed.get("Image", 0x0112)
    value = entry.first_int(parsed.endians["Image"]) if entry else None
    return value if value in range(1, 9) else 1
