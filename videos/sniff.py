"""Which container a file holds, from its bytes alone, and whether it is whole.

Accepted: ISO base media (MP4, MOV, 3GP), Matroska/WebM and AVI. The answer
names the FFmpeg demuxer to force, so FFmpeg never guesses a format: its
guesses include HLS playlists and concat lists, which make it fetch URLs or
read other local files. The top-level structure is walked from the headers
only (a few small reads), so a file cut short is refused before any decoding.
"""

from __future__ import annotations

import os
import stat
import struct
from dataclasses import dataclass
from typing import BinaryIO

from videos.errors import CorruptVideo
from videos.errors import UnsupportedVideo

ACCEPTED = "MP4/MOV, MKV/WebM or AVI"
DEMUXERS = frozenset({"mov", "matroska", "avi"})

BMFF_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide"})
# HEIF/AVIF stills share the MP4 box format and FFmpeg's mov demuxer reads
# them, but they are photos.
IMAGE_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"mif1", b"avif"})
# Fragmented files have one moof+mdat pair per fragment; past this many
# boxes the rest of the walk costs more than it can tell.
MAX_WALKED_BOXES = 20_000

EBML_MAGIC = b"\x1a\x45\xdf\xa3"
EBML_DOCTYPE = 0x4282
MATROSKA_SEGMENT = 0x18538067

TEXT_LOOKALIKES = (
    (b"#EXTM3U", "an HLS playlist"),
    (b"ffconcat", "an FFmpeg concat list"),
    (b"file ", "an FFmpeg concat list"),
    (b"[playlist]", "a PLS playlist"),
    (b"v=0", "an SDP session description"),
    (b"<?xml", "an XML document (a DASH manifest or a playlist?)"),
    (b"<MPD", "a DASH manifest"),
)


@dataclass(frozen=True)
class Sniffed:
    """A recognised container: the demuxer to force and what to call it."""

    demuxer: str  # "mov", "matroska" or "avi"
    name: str  # "mp4", "mov", "3gp", "matroska", "webm" or "avi"
    size_bytes: int
    is_faststart: bool | None = None  # MP4/MOV: the index comes before the media


def open_regular_file(path: str | os.PathLike) -> BinaryIO:
    """Open a local regular file for reading; FIFOs, devices and directories are refused."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer; regular files
    # ignore the flag.
    fd = os.open(os.fspath(path), os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsupportedVideo("Not a regular file.")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def sniff_path(path: str | os.PathLike) -> Sniffed:
    """Sniff the file at `path` (see `sniff`)."""
    with open_regular_file(path) as file:
        return sniff(file)


def sniff(file: BinaryIO) -> Sniffed:
    """Recognise the container of an open file and check that it is whole."""
    size = os.fstat(file.fileno()).st_size
    file.seek(0)
    head = file.read(64)
    if not head:
        raise UnsupportedVideo("The file is empty.")
    if head[4:8] in BMFF_FIRST_BOXES:
        return _sniff_bmff(file, head, size)
    if head.startswith(EBML_MAGIC):
        return _sniff_matroska(file, size)
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return _sniff_avi(file, size)
    raise UnsupportedVideo(
        f"Not a video container this service accepts ({ACCEPTED}): "
        f"the content looks like {_describe(head)}."
    )


HEAD_BYTES = 12  # enough to tell the accepted containers from anything else


def check_head(head: bytes) -> None:
    """Refuse the first bytes of an upload that cannot start an accepted container.

    For uploads still arriving: a file that is no video is refused at its
    first bytes, not after gigabytes. Fewer than HEAD_BYTES tell nothing.
    """
    if len(head) < HEAD_BYTES:
        return
    if head[4:8] in BMFF_FIRST_BOXES:
        brand = head[8:12]
        if head[4:8] == b"ftyp" and brand in IMAGE_BRANDS:
            raise UnsupportedVideo(
                f"A HEIF/AVIF image (brand {brand.decode('latin-1')!r}), not a video."
            )
        return
    if head.startswith(EBML_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"AVI "):
        return
    raise UnsupportedVideo(
        f"Not a video container this service accepts ({ACCEPTED}): "
        f"the content looks like {_describe(head)}."
    )


def _describe(head: bytes) -> str:
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    for prefix, description in TEXT_LOOKALIKES:
        if text.startswith(prefix):
            return description
    if head[:4] == b"RIFF":
        return f"a RIFF {head[8:12].decode('latin-1')!r} file"
    if b"\x00" not in head and all(
        32 <= byte < 127 or byte in b"\r\n\t" for byte in head
    ):
        return "text"
    return "something else"


def _sniff_bmff(file: BinaryIO, head: bytes, size: int) -> Sniffed:
    name = "mov"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in IMAGE_BRANDS:
            raise UnsupportedVideo(
                f"A HEIF/AVIF image (brand {brand.decode('latin-1')!r}), not a video."
            )
        if brand.startswith(b"3g"):
            name = "3gp"
        elif brand != b"qt  ":
            name = "mp4"
    boxes = _walk_boxes(file, size)
    if b"moov" not in boxes:
        raise CorruptVideo(
            "The file has no index (moov box): it is truncated or an unfinished recording."
        )
    is_faststart = b"mdat" not in boxes or boxes.index(b"moov") < boxes.index(b"mdat")
    return Sniffed("mov", name, size, is_faststart)


def _walk_boxes(file: BinaryIO, size: int) -> list[bytes]:
    boxes: list[bytes] = []
    offset = 0
    while offset + 8 <= size and len(boxes) < MAX_WALKED_BOXES:
        file.seek(offset)
        header = file.read(16)
        box_size, box_type = struct.unpack(">I4s", header[:8])
        header_size = 8
        if box_size == 1:
            if len(header) < 16:
                raise CorruptVideo("The file is truncated inside a box header.")
            (box_size,) = struct.unpack(">Q", header[8:16])
            header_size = 16
        elif box_size == 0:
            box_size = size - offset
        if box_size < header_size or not _is_fourcc(box_type):
            if b"moov" in boxes and b"mdat" in boxes:
                break  # padding or junk after a complete file
            raise CorruptVideo(f"Damaged box structure at byte {offset}.")
        if offset + box_size > size:
            raise CorruptVideo(
                f"The file is truncated: its {box_type.decode('latin-1')!r} box "
                f"ends at byte {offset + box_size}, the file has {size} bytes."
            )
        boxes.append(box_type)
        offset += box_size
    return boxes


def _is_fourcc(value: bytes) -> bool:
    return all(32 <= byte < 127 for byte in value)


def _sniff_matroska(file: BinaryIO, size: int) -> Sniffed:
    file.seek(0)
    data = file.read(4096)
    try:
        _, header_start = _read_vint(data, 0, keep_marker=True)
        header_size, body_start = _read_vint(data, header_start)
        header_end = body_start + header_size
        doctype = None
        position = body_start
        while position < min(header_end, len(data)):
            element_id, position = _read_vint(data, position, keep_marker=True)
            element_size, position = _read_vint(data, position)
            if element_id == EBML_DOCTYPE:
                doctype = data[position : position + element_size].rstrip(b"\x00")
            position += element_size
        segment_id, position = _read_vint(data, header_end, keep_marker=True)
        segment_size, segment_start = _read_vint(data, position, unknown_as=-1)
    except IndexError:
        raise CorruptVideo("The file is truncated inside its EBML header.") from None
    if doctype not in (b"matroska", b"webm"):
        raise UnsupportedVideo(f"An EBML document of type {doctype!r}, not Matroska.")
    if segment_id != MATROSKA_SEGMENT:
        raise CorruptVideo("Damaged Matroska structure: no segment after the header.")
    if segment_size >= 0 and segment_start + segment_size > size:
        raise CorruptVideo(
            f"The file is truncated: its segment ends at byte "
            f"{segment_start + segment_size}, the file has {size} bytes."
        )
    return Sniffed("matroska", doctype.decode(), size)


def _read_vint(
    data: bytes,
    position: int,
    *,
    keep_marker: bool = False,
    unknown_as: int | None = None,
) -> tuple[int, int]:
    """An EBML variable-length integer at `position`, and where the next one starts."""
    first = data[position]
    length = 8 - first.bit_length() + 1
    if first == 0 or length > 8:
        raise CorruptVideo("Damaged EBML structure.")
    value = first if keep_marker else first & (0xFF >> length)
    all_ones = value == (0xFF >> length)
    for byte in data[position + 1 : position + length]:
        value = (value << 8) | byte
        all_ones = all_ones and byte == 0xFF
    if position + length > len(data):
        raise IndexError(position)
    if all_ones and unknown_as is not None:
        return unknown_as, position + length
    return value, position + length


def _sniff_avi(file: BinaryIO, size: int) -> Sniffed:
    # OpenDML files over 1 GB continue in further RIFF 'AVIX' chunks.
    offset = 0
    while offset + 8 <= size:
        file.seek(offset)
        header = file.read(12)
        if header[:4] != b"RIFF":
            break
        (chunk_size,) = struct.unpack("<I", header[4:8])
        end = offset + 8 + chunk_size + (chunk_size & 1)
        if offset + 8 + chunk_size > size:
            raise CorruptVideo(
                f"The file is truncated: its RIFF chunk ends at byte "
                f"{offset + 8 + chunk_size}, the file has {size} bytes."
            )
        offset = end
    return Sniffed("avi", "avi", size)
