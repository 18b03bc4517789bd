"""Accepted photo formats: sniffing, the pixel limit, and decoding at the size needed.

Formats come from the content (`photos.containers`). The pixel count is
checked from the header before any pixel is decoded: JPEG, PNG, WebP and
TIFF through Pillow restricted to that one format (its decompression-bomb
warning counts as an error), HEIF through libheif's header, RAW through
LibRaw's metadata.

`decode(long_edge=N)` decodes only as much as N needs:
JPEG with `draft()` (libjpeg-turbo scales by 1/2, 1/4 or 1/8 while
decoding, so a 24 MP photo analysed at 640 px is decoded at 750x500), RAW
from the camera's embedded preview when it is large enough, else a
half-size demosaic. PNG, WebP, TIFF and HEIF have no reduced decoding and
are decoded whole, which the pixel limit bounds. `decode()` without
`long_edge` is the full decode (RAW demosaic) that exports need.

The returned image is RGB and upright: EXIF orientation applied (libheif
and LibRaw apply their own), so width/height are as the photo is seen.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from PIL import Image
from PIL import UnidentifiedImageError

from photos import exif
from photos.containers import JPEG
from photos.containers import PhotoFormat
from photos.containers import PhotoSource
from photos.containers import read_source
from photos.containers import sniff_format
from photos.errors import MalformedPhoto
from photos.errors import PhotoTooLarge
from photos.resample import fit

__all__ = [
    "DecodedPhoto",
    "PhotoInfo",
    "decode",
    "fit",
    "inspect_photo",
    "sniff_format",
]

# Below Pillow's own guard (89.5 MP warns), so the warning, treated as an
# error, never refuses what this limit allows. Fits 61 MP full-frame
# bodies; 100 MP medium format needs a higher limit and more memory.
MAX_PIXELS = 80_000_000

_PILLOW_NAMES = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "tiff": "TIFF"}
_LIBRAW_FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError)


@dataclass(frozen=True)
class PhotoInfo:
    """What the header says: format and upright size (after orientation)."""

    format: PhotoFormat
    width: int
    height: int
    orientation: int = 1

    @property
    def pixels(self) -> int:
        """Width times height."""
        return self.width * self.height


@dataclass
class DecodedPhoto:
    """Upright RGB pixels, the header facts, and the ICC profile to keep."""

    image: Image.Image
    info: PhotoInfo
    icc_profile: bytes | None = None


def _check_pixels(name: str, width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise MalformedPhoto(f"the {name} declares a size of {width}x{height}")
    if width * height > max_pixels:
        raise PhotoTooLarge(
            f"the photo is {width}x{height} = {width * height} pixels; "
            f"the limit is {max_pixels}",
            limit_pixels=max_pixels,
        )


def _upright_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def inspect_photo(source: PhotoSource, *, max_pixels: int = MAX_PIXELS) -> PhotoInfo:
    """Format and upright size from the header alone; refuses too many pixels."""
    data = read_source(source)
    photo_format = sniff_format(data)
    if photo_format.kind == "heif":
        heif = _open_heif(data, max_pixels)
        return PhotoInfo(photo_format, *heif.size)
    if photo_format.is_raw:
        with _open_raw(data, max_pixels) as raw:
            return _raw_info(photo_format, raw)
    with _pillow_open(data, photo_format, max_pixels) as image:
        orientation = exif.read_orientation(data, photo_format)
        return PhotoInfo(
            photo_format, *_upright_size(*image.size, orientation), orientation
        )


def decode(
    source: PhotoSource,
    *,
    long_edge: int | None = None,
    max_pixels: int = MAX_PIXELS,
    slack: float = 1.0,
) -> DecodedPhoto:
    """Upright RGB pixels that fit `long_edge` (never upscaled); all of them if None.

    With `slack` above 1, pixels the decoder delivers at up to that many
    times `long_edge` are kept as they are (no resize pass).
    """
    data = read_source(source)
    photo_format = sniff_format(data)
    if photo_format.kind == "heif":
        decoded = _decode_heif(data, photo_format, max_pixels)
    elif photo_format.is_raw:
        decoded = _decode_raw(data, photo_format, long_edge, max_pixels)
    else:
        decoded = _decode_pillow(data, photo_format, long_edge, max_pixels)
    if long_edge is not None and max(decoded.image.size) > long_edge * slack:
        decoded.image = fit(decoded.image, long_edge)
    return decoded


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB, 16-bit greys scaled down and transparency flattened onto white."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        levels = np.asarray(image, dtype=np.float32)
        peak = 65535.0 if image.mode != "I" else max(float(levels.max()), 1.0)
        image = Image.fromarray((levels * (255.0 / peak)).clip(0, 255).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
    return image.convert("RGB")


# PILLOW ---------------------------------------------------------------------


@contextmanager
def _pillow_open(
    data: bytes, photo_format: PhotoFormat, max_pixels: int
) -> Iterator[Image.Image]:
    """Image.open limited to one format, bomb warnings as errors, size checked."""
    name = _PILLOW_NAMES[photo_format.kind]
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[name])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PhotoTooLarge(
                f"the photo declares too many pixels; the limit is {max_pixels} ({exc})",
                limit_pixels=max_pixels,
            ) from None
        except (UnidentifiedImageError, *_DECODE_ERRORS) as exc:
            raise MalformedPhoto(
                f"the data starts like {photo_format.name} but is not a readable "
                f"{photo_format.name} image ({exc})"
            ) from None
        _check_pixels(photo_format.name, *image.size, max_pixels)
        # Not closed afterwards: the source is in memory, and closing would
        # free the pixels the caller keeps.
        yield image


def _draft_size(size: tuple[int, int], long_edge: int) -> tuple[int, int]:
    # draft() keeps a scale only if both sides stay at least this size,
    # so ask for the target's aspect, not a square.
    width, height = size
    scale = long_edge / max(width, height)
    return max(1, int(width * scale)), max(1, int(height * scale))


def _decode_pillow(
    data: bytes,
    photo_format: PhotoFormat,
    long_edge: int | None,
    max_pixels: int,
    *,
    oriented: bool = True,
) -> DecodedPhoto:
    orientation = exif.read_orientation(data, photo_format) if oriented else 1
    with _pillow_open(data, photo_format, max_pixels) as image:
        full_size = image.size
        if photo_format.kind == "jpeg" and long_edge is not None:
            image.draft("RGB", _draft_size(image.size, long_edge))
        icc_profile = image.info.get("icc_profile")
        try:
            image.load()
            pixels = to_rgb(image)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise PhotoTooLarge(
                f"the photo declares too many pixels; the limit is {max_pixels} ({exc})",
                limit_pixels=max_pixels,
            ) from None
        except _DECODE_ERRORS as exc:
            raise MalformedPhoto(
                f"the {photo_format.name} photo is truncated or corrupt: {exc}"
            ) from None
    if orientation != 1:
        pixels = _orient(pixels, orientation)
    info = PhotoInfo(photo_format, *_upright_size(*full_size, orientation), orientation)
    return DecodedPhoto(pixels, info, icc_profile or None)


def _orient(image: Image.Image, orientation: int) -> Image.Image:
    method = _ORIENTATION_TRANSPOSE.get(orientation)
    return image.transpose(method) if method is not None else image


# HEIF -----------------------------------------------------------------------


def _open_heif(data: bytes, max_pixels: int):
    import pillow_heif

    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
    except (RuntimeError, ValueError, OSError) as exc:
        raise MalformedPhoto(f"the HEIF photo cannot be read: {exc}") from None
    _check_pixels("HEIF photo", *heif.size, max_pixels)
    return heif


def _decode_heif(
    data: bytes, photo_format: PhotoFormat, max_pixels: int
) -> DecodedPhoto:
    heif = _open_heif(data, max_pixels)
    try:
        image = to_rgb(heif.to_pillow())
    except (RuntimeError, ValueError, OSError) as exc:
        raise MalformedPhoto(f"the HEIF photo is truncated or corrupt: {exc}") from None
    # libheif has already applied the container's rotation and mirroring.
    info = PhotoInfo(photo_format, *image.size)
    return DecodedPhoto(image, info, heif.info.get("icc_profile") or None)


# RAW ------------------------------------------------------------------------


def _libraw_reason(exc: Exception) -> str:
    """LibRaw's message as text (rawpy passes it on as bytes)."""
    reason = exc.args[0] if exc.args else exc
    if isinstance(reason, bytes):
        return reason.decode("utf-8", "replace")
    return str(reason)


def _open_raw(data: bytes, max_pixels: int):
    import rawpy

    try:
        raw = rawpy.imread(io.BytesIO(data))
    except (rawpy.LibRawError, OSError, ValueError) as exc:
        raise MalformedPhoto(
            f"LibRaw cannot read this RAW file: {_libraw_reason(exc)}"
        ) from None
    try:
        _check_pixels("RAW file", raw.sizes.width, raw.sizes.height, max_pixels)
    except Exception:
        raw.close()
        raise
    return raw


def _raw_info(photo_format: PhotoFormat, raw) -> PhotoInfo:
    orientation = _LIBRAW_FLIP_TO_ORIENTATION.get(raw.sizes.flip, 1)
    size = _upright_size(raw.sizes.width, raw.sizes.height, orientation)
    return PhotoInfo(photo_format, *size, orientation)


def _decode_raw(
    data: bytes, photo_format: PhotoFormat, long_edge: int | None, max_pixels: int
) -> DecodedPhoto:
    import rawpy

    with _open_raw(data, max_pixels) as raw:
        info = _raw_info(photo_format, raw)
        try:
            if long_edge is not None:
                preview = _raw_preview(raw, long_edge, max_pixels)
                if preview is not None:
                    return DecodedPhoto(_orient(preview, info.orientation), info)
            # Half-size demosaic skips interpolation: a quarter of the work.
            half = long_edge is not None and long_edge * 2 <= min(
                raw.sizes.width, raw.sizes.height
            )
            rgb = raw.postprocess(use_camera_wb=True, output_bps=8, half_size=half)
        except (rawpy.LibRawError, OSError, ValueError) as exc:
            raise MalformedPhoto(
                f"LibRaw cannot decode this RAW file: {_libraw_reason(exc)}"
            ) from None
    return DecodedPhoto(Image.fromarray(rgb), info)


def _raw_preview(raw, long_edge: int, max_pixels: int) -> Image.Image | None:
    """The camera's embedded preview if it covers half of `long_edge`, else None."""
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    if thumb.format == rawpy.ThumbFormat.JPEG:
        # The preview is stored as the sensor sees it: LibRaw's flip, not
        # the preview's own EXIF, says how to turn it.
        preview = bytes(thumb.data)
        if not preview.startswith(b"\xff\xd8"):
            return None
        try:
            decoded = _decode_pillow(
                preview, JPEG, long_edge, max_pixels, oriented=False
            )
        except (MalformedPhoto, PhotoTooLarge):
            return None
        image = decoded.image
    else:
        image = to_rgb(Image.fromarray(thumb.data))
    return image if max(image.size) * 2 >= long_edge else None
