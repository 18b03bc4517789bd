"""What a photo file is and where its EXIF sits, from its bytes alone (no decoding).

The type comes from the content, never from a name or a client's header.
Every walk over segments, chunks or boxes is bounded by the data's length
and a step count, so a hostile file cannot make it loop.
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from photos import tiff
from photos.errors import MalformedPhoto
from photos.errors import UnsupportedPhotoFormat

MAX_STEPS = 4096  # segments, chunks or boxes visited in one walk

PhotoSource = bytes | bytearray | memoryview | str | os.PathLike | BinaryIO


def read_source(source: PhotoSource) -> bytes:
    """The whole file as bytes, from bytes, a path or a binary file object."""
    if isinstance(source, bytes):
        return source
    if isinstance(source, bytearray | memoryview):
        return bytes(source)
    if isinstance(source, str | os.PathLike):
        return Path(source).read_bytes()
    if hasattr(source, "seek") and source.seekable():
        source.seek(0)
    return source.read()


@dataclass(frozen=True)
class PhotoFormat:
    """An accepted format: `kind` picks the decoder, `name` is what users see."""

    name: str
    kind: str  # jpeg, png, webp, tiff, heif or raw
    content_type: str
    extension: str

    @property
    def is_raw(self) -> bool:
        """True for camera RAW files (LibRaw decodes them)."""
        return self.kind == "raw"


def _raw(name: str, vendor: str) -> PhotoFormat:
    return PhotoFormat(
        name, "raw", f"image/x-{vendor}-{name.lower()}", f".{name.lower()}"
    )


JPEG = PhotoFormat("JPEG", "jpeg", "image/jpeg", ".jpg")
PNG = PhotoFormat("PNG", "png", "image/png", ".png")
WEBP = PhotoFormat("WebP", "webp", "image/webp", ".webp")
TIFF = PhotoFormat("TIFF", "tiff", "image/tiff", ".tif")
HEIC = PhotoFormat("HEIC", "heif", "image/heic", ".heic")
HEIF = PhotoFormat("HEIF", "heif", "image/heif", ".heif")
RAW_FORMATS = {
    "CR2": _raw("CR2", "canon"),
    "CR3": _raw("CR3", "canon"),
    "CRW": _raw("CRW", "canon"),
    "NEF": _raw("NEF", "nikon"),
    "ARW": _raw("ARW", "sony"),
    "DNG": _raw("DNG", "adobe"),
    "ORF": _raw("ORF", "olympus"),
    "RW2": _raw("RW2", "panasonic"),
    "RAF": _raw("RAF", "fuji"),
    "PEF": _raw("PEF", "pentax"),
    "SRW": _raw("SRW", "samsung"),
    "MRW": _raw("MRW", "minolta"),
    "RAW": PhotoFormat("RAW", "raw", "image/x-raw", ".raw"),
}
ACCEPTED = "JPEG, PNG, WebP, TIFF, HEIC/HEIF and camera RAW"

_MAKER_RAW = {
    "NIKON": "NEF",
    "SONY": "ARW",
    "PENTAX": "PEF",
    "RICOH": "PEF",
    "SAMSUNG": "SRW",
    "CANON": "CR2",
}
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}
_CFA_PHOTOMETRICS = {32803, 34892}  # colour filter array, linear raw
_PHOTOMETRIC = 0x0106
_DNG_VERSION = 0xC612
_MAKE = 0x010F

# Types people send by mistake, named in the 415 answer.
_KNOWN_OTHER_TYPES = [
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"%PDF", "PDF"),
    (b"BM", "BMP"),
    (b"8BPS", "Photoshop PSD"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"PK\x03\x04", "ZIP"),
    (b"<svg", "SVG"),
    (b"<?xml", "XML"),
    (b"FOVb", "Sigma X3F (not supported by LibRaw)"),
]


def sniff_format(data: bytes) -> PhotoFormat:
    """The accepted format of these bytes; UnsupportedPhotoFormat names anything else."""
    if not data:
        raise MalformedPhoto("the file is empty", code="empty_file")
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data[4:8] == b"ftyp":
        return _sniff_bmff(data)
    if data.startswith(b"FUJIFILMCCD-RAW"):
        return RAW_FORMATS["RAF"]
    if data[6:14] == b"HEAPCCDR":
        return RAW_FORMATS["CRW"]
    if data.startswith(b"\x00MRM"):
        return RAW_FORMATS["MRW"]
    if data[:4] in (b"IIRO", b"IIRS", b"MMOR"):
        return RAW_FORMATS["ORF"]
    if data[:4] == b"IIU\x00":
        return RAW_FORMATS["RW2"]
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return _sniff_tiff(data)
    raise UnsupportedPhotoFormat(
        f"only {ACCEPTED} photos are accepted (content looks like: {describe(data)})",
        detected=describe(data),
    )


def describe(data: bytes) -> str:
    """A short name for what unaccepted bytes look like, for error messages."""
    head = data[:16].lstrip()
    for magic, name in _KNOWN_OTHER_TYPES:
        if head.startswith(magic):
            return name
    if data[4:8] == b"ftyp":
        brand = data[8:12].decode("ascii", "replace").strip()
        return "AVIF" if _brands(data) & _AVIF_BRANDS else f"ISO media ({brand})"
    return "unknown"


def _brands(data: bytes) -> set[bytes]:
    (size,) = struct.unpack(">L", data[:4])
    size = min(max(size, 16), 256, len(data))
    compatible = {data[offset : offset + 4] for offset in range(16, size - 3, 4)}
    return {data[8:12], *compatible}


def _sniff_bmff(data: bytes) -> PhotoFormat:
    major = data[8:12]
    brands = _brands(data)
    if major == b"crx ":
        return RAW_FORMATS["CR3"]
    if brands & _HEIC_BRANDS:
        return HEIC
    # AVIF shares HEIF's container (often with the mif1 brand), but this
    # libheif build has no AV1 decoder, so AVIF is refused by name.
    if brands & _HEIF_BRANDS and not brands & _AVIF_BRANDS:
        return HEIF
    raise UnsupportedPhotoFormat(
        f"only {ACCEPTED} photos are accepted (content looks like: {describe(data)})",
        detected=describe(data),
    )


def _sniff_tiff(data: bytes) -> PhotoFormat:
    if data[8:10] == b"CR":
        return RAW_FORMATS["CR2"]
    try:
        reader = tiff.TiffReader(data)
    except ValueError:
        return TIFF
    chain = reader.chain()
    if not chain:
        return TIFF
    if _DNG_VERSION in chain[0].entries:
        return RAW_FORMATS["DNG"]
    directories = [*chain]
    for directory in chain:
        directories.extend(reader.sub_directories(directory))
    photometrics = {
        entry.first_int(reader.endian)
        for directory in directories
        if (entry := directory.entries.get(_PHOTOMETRIC)) is not None
    }
    if not photometrics & _CFA_PHOTOMETRICS:
        return TIFF
    make_entry = chain[0].entries.get(_MAKE)
    make = (
        make_entry.raw.split(b"\x00")[0].decode("ascii", "replace")
        if make_entry
        else ""
    )
    for maker, name in _MAKER_RAW.items():
        if make.upper().startswith(maker):
            return RAW_FORMATS[name]
    return RAW_FORMATS["RAW"]


# EXIF LOCATION --------------------------------------------------------------


@dataclass(frozen=True)
class ExifBlocks:
    """TIFF structures holding a photo's EXIF; empty when the file has none.

    `main` starts with a TIFF header whose IFD0 points to the EXIF and GPS
    IFDs. CR3 files split them into separate structures instead, given in
    `exif` and `gps` (each read from its own IFD0).
    """

    main: bytes | memoryview = b""
    exif: bytes | memoryview = b""
    gps: bytes | memoryview = b""


def find_exif(data: bytes, photo_format: PhotoFormat) -> ExifBlocks:
    """Where the photo's EXIF is; TIFF and TIFF-based RAW files are used in place."""
    kind = photo_format.kind
    if kind == "jpeg":
        return ExifBlocks(_jpeg_exif(data))
    if kind == "png":
        return ExifBlocks(_png_exif(data))
    if kind == "webp":
        return ExifBlocks(_webp_exif(data))
    if kind == "heif":
        return ExifBlocks(_heif_exif(data))
    if photo_format.name == "RAF":
        return ExifBlocks(_raf_exif(data))
    if photo_format.name == "CR3":
        return _cr3_exif(data)
    if kind in ("tiff", "raw") and data[:2] in (b"II", b"MM"):
        return ExifBlocks(memoryview(data))
    return ExifBlocks()


def _strip_exif_header(block: bytes) -> bytes:
    if block.startswith(b"Exif\x00\x00"):
        return block[6:]
    # Some writers put the TIFF header a few bytes in; look a short way.
    for mark in (b"II*\x00", b"MM\x00*"):
        found = block.find(mark, 0, 16)
        if found >= 0:
            return block[found:]
    return b""


def _jpeg_exif(data: bytes) -> bytes:
    position = 2
    for _ in range(MAX_STEPS):
        if position + 4 > len(data) or data[position] != 0xFF:
            return b""
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan
            return b""
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if length < 2:
            return b""
        segment = data[position + 4 : position + 2 + length]
        if marker == 0xE1 and segment.startswith(b"Exif\x00"):
            return _strip_exif_header(segment)
        position += 2 + length
    return b""


def _png_exif(data: bytes) -> bytes:
    position = 8
    for _ in range(MAX_STEPS):
        if position + 8 > len(data):
            return b""
        length, kind = struct.unpack(">L4s", data[position : position + 8])
        if kind == b"eXIf":
            return _strip_exif_header(data[position + 8 : position + 8 + length])
        if kind == b"IEND":
            return b""
        position += 12 + length
    return b""


def _webp_exif(data: bytes) -> bytes:
    position = 12
    for _ in range(MAX_STEPS):
        if position + 8 > len(data):
            return b""
        kind, length = struct.unpack("<4sL", data[position : position + 8])
        if kind == b"EXIF":
            return _strip_exif_header(data[position + 8 : position + 8 + length])
        position += 8 + length + (length % 2)
    return b""


def _heif_exif(data: bytes) -> bytes:
    import pillow_heif

    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        block = heif.info.get("exif") or b""
    except (RuntimeError, ValueError, OSError):
        return b""
    return _strip_exif_header(block)


def _raf_exif(data: bytes) -> bytes:
    # The RAF header gives the offset and length of an embedded JPEG that
    # carries the camera's EXIF.
    if len(data) < 92:
        return b""
    offset, length = struct.unpack(">LL", data[84:92])
    embedded = data[offset : offset + length]
    return _jpeg_exif(embedded) if embedded.startswith(b"\xff\xd8") else b""


def _cr3_exif(data: bytes) -> ExifBlocks:
    # CR3 keeps IFD0 in a CMT1 box, the EXIF IFD in CMT2 and GPS in CMT4,
    # each a whole TIFF structure, inside moov/uuid.
    blocks = {}
    for name in (b"CMT1", b"CMT2", b"CMT4"):
        found = _find_box(data, name, 0, len(data), depth=0)
        blocks[name] = found if found[:2] in (b"II", b"MM") else b""
    return ExifBlocks(blocks[b"CMT1"], blocks[b"CMT2"], blocks[b"CMT4"])


def _find_box(data: bytes, wanted: bytes, start: int, end: int, *, depth: int) -> bytes:
    position = start
    for _ in range(MAX_STEPS):
        if position + 8 > end or depth > 4:
            return b""
        size, kind = struct.unpack(">L4s", data[position : position + 8])
        header = 8
        if size == 1 and position + 16 <= end:
            (size,) = struct.unpack(">Q", data[position + 8 : position + 16])
            header = 16
        if size < header or position + size > end:
            size = end - position
        if kind == wanted:
            return data[position + header : position + size]
        if kind in (b"moov", b"uuid"):
            skip = 16 if kind == b"uuid" else 0
            inner_start = position + header + skip
            found = _find_box(
                data, wanted, inner_start, position + size, depth=depth + 1
            )
            if found:
                return found
        position += size
    return b""
