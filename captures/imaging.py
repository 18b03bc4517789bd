"""Checking uploaded image bytes by their content, and making thumbnails (Pillow)."""

import io
import warnings
from dataclasses import dataclass

from PIL import Image
from PIL import UnidentifiedImageError

from captures.errors import MalformedImage
from captures.errors import PayloadTooLarge
from captures.errors import UnsupportedMediaType


@dataclass(frozen=True)
class ImageFormat:
    name: str  # Pillow's format name
    content_type: str
    extension: str


FORMATS = {
    "JPEG": ImageFormat("JPEG", "image/jpeg", ".jpg"),
    "PNG": ImageFormat("PNG", "image/png", ".png"),
    "WEBP": ImageFormat("WEBP", "image/webp", ".webp"),
}

# Types devices or scripts send by mistake, named in the 415 answer.
_KNOWN_OTHER_TYPES = [
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"%PDF", "PDF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"PK\x03\x04", "ZIP"),
    (b"<svg", "SVG"),
    (b"<?xml", "XML"),
]


@dataclass(frozen=True)
class ImageInfo:
    format: ImageFormat
    width: int
    height: int


def sniff_format(data: bytes) -> ImageFormat | None:
    """The accepted format the magic bytes announce, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return FORMATS["JPEG"]
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return FORMATS["PNG"]
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return FORMATS["WEBP"]
    return None


def _describe(data: bytes) -> str:
    head = data[:16].lstrip()
    for magic, name in _KNOWN_OTHER_TYPES:
        if head.startswith(magic):
            return name
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "HEIF/MP4"
    return "unknown"


_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _check_structure(data: bytes, image_format: ImageFormat) -> None:
    """Refuse an image whose container is cut short, without decoding its pixels.

    A JPEG's entropy-coded data escapes every 0xFF byte, so an FFD9 pair at
    the end (cameras may pad with zeros) is the real end-of-image marker; a
    PNG ends with its IEND chunk; a WebP's RIFF header gives its length.
    Damage inside the pixel data is found by the worker's full decode, which
    fails the analysis job with the reason.
    """
    name = image_format.name
    if name == "JPEG":
        if b"\xff\xda" not in data:
            raise MalformedImage("the JPEG image has no image data (no start of scan)")
        if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
            raise MalformedImage(
                "the JPEG image is truncated: it has no end-of-image marker"
            )
    elif name == "PNG":
        if not data.rstrip(b"\x00").endswith(_PNG_END):
            raise MalformedImage("the PNG image is truncated: it has no IEND chunk")
    elif name == "WEBP":
        declared = int.from_bytes(data[4:8], "little") + 8
        if declared > len(data):
            raise MalformedImage(
                f"the WebP image is truncated: {len(data)} of {declared} bytes"
            )


def inspect_image(data: bytes, *, max_bytes: int, max_pixels: int) -> ImageInfo:
    """Check that the bytes are one whole JPEG, PNG or WebP image within the limits.

    The type comes from the content only. The pixel count is read from the
    header, and the container's structure is checked, without decoding the
    pixels: the request stays cheap, and the worker's full decode finds
    damage inside the pixel data (the analysis job then fails, saying so).
    Raises PayloadTooLarge (size or pixels), UnsupportedMediaType (another
    type) or MalformedImage (truncated, corrupt header).
    """
    if not data:
        raise MalformedImage("the image is empty", code="empty_image")
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"the image has {len(data)} bytes; the limit is {max_bytes}",
            code="image_too_large",
            limit_bytes=max_bytes,
        )
    image_format = sniff_format(data)
    if image_format is None:
        detected = _describe(data)
        raise UnsupportedMediaType(
            f"only JPEG, PNG and WebP images are accepted (content looks like: {detected})",
            detected=detected,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[image_format.name]) as image:
                width, height = image.size
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PayloadTooLarge(
                f"the image declares too many pixels: {exc}",
                code="too_many_pixels",
                limit_pixels=max_pixels,
            ) from None
        except UnidentifiedImageError:
            raise MalformedImage(
                f"the data starts like {image_format.name} but is not a readable "
                f"{image_format.name} image"
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
            raise MalformedImage(
                f"the {image_format.name} image is truncated or corrupt: {exc}"
            ) from None
    if width <= 0 or height <= 0:
        raise MalformedImage(f"the image declares a size of {width}x{height}")
    if width * height > max_pixels:
        raise PayloadTooLarge(
            f"the image is {width}x{height} = {width * height} pixels; "
            f"the limit is {max_pixels}",
            code="too_many_pixels",
            limit_pixels=max_pixels,
        )
    _check_structure(data, image_format)
    return ImageInfo(format=image_format, width=width, height=height)


def thumbnail_jpeg(data: bytes, *, size: int = 160) -> bytes:
    """A JPEG thumbnail that fits in size x size."""
    with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
        image.draft("RGB", (size, size))
        image = image.convert("RGB")
        image.thumbnail((size, size))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
    return out.getvalue()
