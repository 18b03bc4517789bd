"""Photos the tests make: sample photographs, known EXIF, HEIC, DNG and hostile files."""

from __future__ import annotations

import functools
import io
import struct
import zlib

import numpy as np
import piexif
import pillow_heif
import tifffile
from PIL import Image
from PIL import ImageCms
from PIL import ImageFilter
from skimage import data as skimage_data

KNOWN_EXIF = {
    "0th": {
        piexif.ImageIFD.Make: b"Canon",
        piexif.ImageIFD.Model: b"Canon EOS R6",
        piexif.ImageIFD.Orientation: 1,
        piexif.ImageIFD.Artist: b"Ada",
    },
    "Exif": {
        piexif.ExifIFD.DateTimeOriginal: b"2024:06:01 18:30:05",
        piexif.ExifIFD.OffsetTimeOriginal: b"+02:00",
        piexif.ExifIFD.SubSecTimeOriginal: b"25",
        piexif.ExifIFD.FNumber: (28, 10),
        piexif.ExifIFD.ExposureTime: (1, 250),
        piexif.ExifIFD.ISOSpeedRatings: 400,
        piexif.ExifIFD.FocalLength: (85, 1),
        piexif.ExifIFD.LensModel: b"RF85mm F2 MACRO IS STM",
        piexif.ExifIFD.Flash: 16,
        piexif.ExifIFD.MakerNote: b"\x01\x02" * 300,
    },
    "GPS": {
        piexif.GPSIFD.GPSLatitudeRef: b"N",
        piexif.GPSIFD.GPSLatitude: ((48, 1), (51, 1), (2964, 100)),
        piexif.GPSIFD.GPSLongitudeRef: b"W",
        piexif.GPSIFD.GPSLongitude: ((2, 1), (17, 1), (4020, 100)),
    },
}
KNOWN_LAT = 48 + 51 / 60 + 29.64 / 3600
KNOWN_LON = -(2 + 17 / 60 + 40.2 / 3600)


def photograph(name: str = "astronaut", size: int | None = None) -> Image.Image:
    """A real sample photograph bundled with scikit-image, optionally resized."""
    image = Image.fromarray(getattr(skimage_data, name)()).convert("RGB")
    if size:
        scale = size / max(image.size)
        image = image.resize((round(image.width * scale), round(image.height * scale)))
    return image


def encode(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    """The image saved in `fmt` with Pillow."""
    buffer = io.BytesIO()
    if fmt == "JPEG":
        params.setdefault("quality", 92)
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def jpeg_with_exif(image: Image.Image | None = None, exif: dict | None = None) -> bytes:
    """A JPEG carrying the given piexif dictionary (KNOWN_EXIF by default)."""
    image = image or photograph(size=320)
    return encode(image, exif=piexif.dump(exif or KNOWN_EXIF))


def jpeg_with_raw_exif(tiff_bytes: bytes, image: Image.Image | None = None) -> bytes:
    """A JPEG whose APP1 holds these TIFF bytes verbatim (for hostile EXIF)."""
    return encode(
        image or Image.new("RGB", (32, 24), "grey"), exif=b"Exif\x00\x00" + tiff_bytes
    )


def blurred(image: Image.Image, radius: float = 3) -> Image.Image:
    """A Gaussian-blurred copy."""
    return image.filter(ImageFilter.GaussianBlur(radius))


def exposed(image: Image.Image, factor: float) -> Image.Image:
    """A copy with every level multiplied by `factor` (over > 1, under < 1)."""
    pixels = np.asarray(image, dtype=np.float32) * factor
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def with_noise(image: Image.Image, sigma: float, seed: int = 0) -> Image.Image:
    """A copy with Gaussian sensor-like noise."""
    rng = np.random.default_rng(seed)
    pixels = np.asarray(image, dtype=np.float32) + rng.normal(
        0, sigma, (*image.size[::-1], 3)
    )
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def near_duplicate(image: Image.Image, shift: int = 4) -> Image.Image:
    """The same scene a moment later: slightly shifted, brighter and noisier."""
    moved = image.transform(image.size, Image.Transform.AFFINE, (1, 0, shift, 0, 1, 0))
    return with_noise(exposed(moved, 1.05), 2, seed=shift)


def heic_bytes(image: Image.Image, *, exif: dict | None = None) -> bytes:
    """The image encoded as HEIC by pillow-heif (libheif + x265)."""
    heif = pillow_heif.from_pillow(image)
    buffer = io.BytesIO()
    extra = {"exif": piexif.dump(exif)} if exif else {}
    heif.save(buffer, format="HEIF", quality=80, **extra)
    return buffer.getvalue()


def dng_bytes(*, orientation: int = 1, preview: Image.Image | None = None) -> bytes:
    """A tiny DNG LibRaw opens: an RGGB sensor gradient, optionally with a preview.

    With a preview, IFD0 holds it (as cameras do) and a SubIFD the sensor
    data; without one, IFD0 is the sensor data.
    """
    height, width = 64, 96
    columns = np.linspace(500, 3500, width)[None, :].repeat(height, axis=0)
    mosaic = np.full((height, width), 1800, dtype=np.uint16)
    mosaic[0::2, 0::2] = columns[0::2, 0::2]  # red rises left to right
    mosaic[1::2, 1::2] = 900
    identity = (1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1)
    dng_tags = [
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50708, "s", 0, "Mediaqueue Test Camera", True),  # UniqueCameraModel
        (50721, "2i", 9, identity, True),  # ColorMatrix1
        (50778, "H", 1, 21, True),  # CalibrationIlluminant1: D65
        (271, "s", 0, "Mediaqueue", True),
        (272, "s", 0, "Test Camera", True),
        (274, "H", 1, orientation, True),
    ]
    sensor_tags = [
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern: RGGB
        (50717, "I", 1, 4095, True),  # WhiteLevel
    ]
    buffer = io.BytesIO()
    with tifffile.TiffWriter(buffer) as writer:
        if preview is None:
            writer.write(
                mosaic,
                photometric=32803,
                extratags=dng_tags + sensor_tags,
                metadata=None,
            )
        else:
            writer.write(
                np.asarray(preview.convert("RGB")),
                photometric="rgb",
                subfiletype=1,
                subifds=1,
                extratags=dng_tags,
                metadata=None,
            )
            writer.write(
                mosaic, photometric=32803, extratags=sensor_tags, metadata=None
            )
    return buffer.getvalue()


def nikon_like_tiff() -> bytes:
    """A TIFF laid out as NEF files are: a preview in IFD0, the sensor in a SubIFD."""
    mosaic = np.full((16, 16), 1000, dtype=np.uint16)
    buffer = io.BytesIO()
    with tifffile.TiffWriter(buffer) as writer:
        writer.write(
            np.zeros((8, 8, 3), dtype=np.uint8),
            photometric="rgb",
            subfiletype=1,
            subifds=1,
            extratags=[(271, "s", 0, "NIKON CORPORATION", True)],
            metadata=None,
        )
        writer.write(mosaic, photometric=32803, metadata=None)
    return buffer.getvalue()


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">L", 8 + len(body)) + kind + body


def cr3_like() -> bytes:
    """The metadata part of a CR3: IFD0, EXIF and GPS as TIFFs in moov/uuid/CMTn boxes."""

    def tiff(entries: list[bytes], data: bytes = b"") -> bytes:
        ifd = tiff_ifd(entries)
        return b"II*\x00" + struct.pack("<L", 8) + ifd + data

    data_at = 8 + 2 + 12 * 2 + 4
    cmt1 = tiff(
        [
            tiff_entry(0x010F, 2, 6, struct.pack("<L", data_at)),
            tiff_entry(0x0110, 2, 4, b"R5\x00\x00"),
        ],
        b"Canon\x00",
    )
    cmt2 = tiff(
        [
            tiff_entry(0x8827, 3, 1, struct.pack("<H", 800)),
            tiff_entry(0x829A, 5, 1, struct.pack("<L", data_at)),
        ],
        struct.pack("<LL", 1, 125),
    )
    gps_at = 8 + 2 + 12 * 4 + 4
    cmt4 = tiff(
        [
            tiff_entry(0x0001, 2, 2, b"S\x00"),
            tiff_entry(0x0002, 5, 3, struct.pack("<L", gps_at)),
            tiff_entry(0x0003, 2, 2, b"E\x00"),
            tiff_entry(0x0004, 5, 3, struct.pack("<L", gps_at + 24)),
        ],
        struct.pack("<6L", 33, 1, 30, 1, 0, 1)
        + struct.pack("<6L", 151, 1, 12, 1, 0, 1),
    )
    uuid = b"\x85\xc0\xb6\x87\x82\x0f\x11\xe0\x81\x11\xf4\xce\x46\x2b\x6a\x48"
    metadata = _box(b"CMT1", cmt1) + _box(b"CMT2", cmt2) + _box(b"CMT4", cmt4)
    moov = _box(b"moov", _box(b"uuid", uuid + metadata))
    return _box(b"ftyp", b"crx \x00\x00\x00\x01crx isom") + moov


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">L", len(body))
        + kind
        + body
        + struct.pack(">L", zlib.crc32(kind + body))
    )


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A few hundred bytes of PNG that declare width x height pixels."""
    header = struct.pack(">LLBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _png_chunk(b"IEND", b"")
    )


def jpeg_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A small JPEG whose frame header (SOF0) declares width x height pixels."""
    real = encode(Image.new("RGB", (16, 16), "white"))
    position = real.index(b"\xff\xc0")
    size = struct.pack(">HH", height, width)
    return real[: position + 5] + size + real[position + 9 :]


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    """The first part of a file, as an interrupted upload leaves it."""
    return data[: int(len(data) * keep)]


@functools.cache
def srgb_icc() -> bytes:
    """An sRGB ICC profile made by LittleCMS (once: it embeds its creation time)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


# HOSTILE EXIF ---------------------------------------------------------------


def tiff_entry(tag: int, kind: int, count: int, value: bytes) -> bytes:
    """One little-endian IFD entry; `value` is the 4-byte value-or-offset field."""
    return struct.pack("<HHL", tag, kind, count) + value.ljust(4, b"\x00")


def tiff_ifd(entries: list[bytes], next_offset: int = 0) -> bytes:
    """A little-endian IFD from prepared entries."""
    return (
        struct.pack("<H", len(entries))
        + b"".join(entries)
        + struct.pack("<L", next_offset)
    )


def looping_exif() -> bytes:
    """IFD0 whose next-IFD, EXIF and GPS pointers all lead back to itself."""
    entries = [
        tiff_entry(0x010F, 2, 4, b"Ca\x00n"),  # Make with a NUL inside
        tiff_entry(0x8769, 4, 1, struct.pack("<L", 8)),  # EXIF IFD -> IFD0
        tiff_entry(0x8825, 4, 1, struct.pack("<L", 8)),  # GPS IFD -> IFD0
    ]
    return b"II*\x00" + struct.pack("<L", 8) + tiff_ifd(entries, next_offset=8)


def garbage_exif() -> bytes:
    """EXIF with an absurd date, huge counts, zero denominators and bad GPS."""
    ifd0_at, exif_at, gps_at, data_at = 8, 8 + 2 + 5 * 12 + 4, 200, 400
    date = b"9999:99:99 99:99:99\x00"
    model = b"EOS\x00\x00R5\x00 \x01\x02"
    ifd0 = tiff_ifd(
        [
            tiff_entry(0x0110, 2, len(model), struct.pack("<L", data_at)),
            tiff_entry(0x0112, 3, 1, struct.pack("<H", 99)),  # orientation 99
            tiff_entry(0x0132, 2, len(date), struct.pack("<L", data_at + 32)),
            tiff_entry(0x8769, 4, 1, struct.pack("<L", exif_at)),
            tiff_entry(0x8825, 4, 1, struct.pack("<L", gps_at)),
        ]
    )
    exif = tiff_ifd(
        [
            tiff_entry(0x829A, 5, 1, struct.pack("<L", data_at + 64)),  # 1/0 s
            tiff_entry(0x829D, 5, 0x3FFFFFFF, struct.pack("<L", data_at)),  # huge count
            tiff_entry(0x9286, 7, 0xFFFFFFF, struct.pack("<L", 16)),  # beyond the end
            tiff_entry(0x9003, 2, 20, struct.pack("<L", 0xFFFFFFF0)),  # offset past end
            tiff_entry(0x8827, 3, 1, struct.pack("<H", 0)),  # ISO 0
        ]
    )
    gps = tiff_ifd(
        [
            tiff_entry(0x0001, 2, 2, b"N\x00"),
            tiff_entry(0x0002, 5, 3, struct.pack("<L", data_at + 80)),  # 0 denominators
            tiff_entry(0x0003, 2, 2, b"Q\x00"),  # no such hemisphere
            tiff_entry(0x0004, 5, 3, struct.pack("<L", data_at + 104)),
        ]
    )
    rational = struct.pack("<LL", 1, 0)
    blob = bytearray(b"II*\x00" + struct.pack("<L", ifd0_at))
    for offset, chunk in (
        (ifd0_at, ifd0),
        (exif_at, exif),
        (gps_at, gps),
        (data_at, model),
        (data_at + 32, date),
        (data_at + 64, rational),
        (data_at + 80, rational * 3),
        (data_at + 104, struct.pack("<LLLLLL", 200, 1, 0, 1, 0, 1)),
    ):
        blob[len(blob) : offset] = b"\x00" * max(0, offset - len(blob))
        blob[offset : offset + len(chunk)] = chunk
    return bytes(blob)


def crowded_exif(entries: int = 5000) -> bytes:
    """An IFD0 that claims thousands of entries (far more than a real one has)."""
    rows = [
        tiff_entry(0x9000 + index % 64, 3, 1, struct.pack("<H", index))
        for index in range(entries)
    ]
    return b"II*\x00" + struct.pack("<L", 8) + tiff_ifd(rows)
