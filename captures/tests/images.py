"""Images made for the captures tests: small, generated, with known contents."""

import io
import struct
import zlib

import barcode
import qrcode
from barcode.writer import ImageWriter
from PIL import Image
from PIL import ImageDraw
from skimage import data as skimage_data

SIZE = (320, 240)


def encode(image: Image.Image, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def reencode(data: bytes, fmt: str) -> bytes:
    """The same picture in another format (so other bytes)."""
    return encode(Image.open(io.BytesIO(data)).convert("RGB"), fmt)


def solid(color=(128, 128, 128), fmt: str = "JPEG", size=SIZE) -> bytes:
    return encode(Image.new("RGB", size, color), fmt)


def numbered(number: int, fmt: str = "JPEG", size=SIZE) -> bytes:
    """A distinct small image per number (different bytes, so no deduplication)."""
    image = Image.new("RGB", size, ((number * 37) % 256, (number * 91) % 256, 120))
    ImageDraw.Draw(image).rectangle(
        [number % 200, 20, number % 200 + 40, 80], fill="white"
    )
    return encode(image, fmt)


def noisy_jpeg(size=(640, 480), seed: int = 0) -> bytes:
    """A camera-like frame of random noise: ~100 KB or more as JPEG."""
    import numpy as np

    pixels = np.random.default_rng(seed).integers(
        0, 256, (size[1], size[0], 3), dtype=np.uint8
    )
    return encode(Image.fromarray(pixels))


def qr_png(value: str) -> bytes:
    """A QR code of whole 8-pixel modules, centred on a white 640x480 frame.

    (Resizing a symbol by a non-integer factor gives uneven modules, which
    OpenCV's detector misses for some values.)
    """
    symbol = qrcode.make(value, border=2, box_size=8).get_image().convert("RGB")
    image = Image.new("RGB", (640, 480), "white")
    image.paste(symbol, ((640 - symbol.width) // 2, (480 - symbol.height) // 2))
    return encode(image, "PNG")


def ean13_png(value: str) -> bytes:
    output = io.BytesIO()
    barcode.get("ean13", value, writer=ImageWriter()).write(output)
    symbol = Image.open(io.BytesIO(output.getvalue())).convert("RGB")
    image = Image.new("RGB", (640, 480), "white")
    image.paste(symbol, ((640 - symbol.width) // 2, (480 - symbol.height) // 2))
    return encode(image, "PNG")


def rectangle_at(left: int) -> bytes:
    """A grey frame with a white block at `left`: two of them make motion."""
    image = Image.new("RGB", SIZE, (90, 90, 90))
    ImageDraw.Draw(image).rectangle([left, 80, left + 60, 160], fill="white")
    return encode(image, "PNG")


def astronaut_jpeg() -> bytes:
    return encode(Image.fromarray(skimage_data.astronaut()))


def gif() -> bytes:
    return encode(Image.new("P", (16, 16), 3), "GIF")


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def truncated_jpeg() -> bytes:
    data = numbered(7)
    return data[: len(data) // 2]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A valid all-black 1-bit PNG declaring width x height; a few tens of KB."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )
