"""Bounded reading and writing of TIFF directories (EXIF is a TIFF structure).

EXIF arrives from strangers' files, so the reader trusts nothing: every
offset is range-checked, each directory is read at most once (offset loops
end there), directories per file, entries per directory and bytes per value
are capped, and a value that breaks a rule is dropped instead of raising.
The writer lays out the few directories an exported photo keeps.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field

MAX_DIRECTORIES = 16
MAX_ENTRIES = 512  # real EXIF directories hold under 100 entries
MAX_VALUE_BYTES = 64 * 1024

BYTE = 1
ASCII = 2
SHORT = 3
LONG = 4
RATIONAL = 5
SBYTE = 6
UNDEFINED = 7
SSHORT = 8
SLONG = 9
SRATIONAL = 10
FLOAT = 11
DOUBLE = 12
IFD = 13

TYPE_SIZES = {
    BYTE: 1,
    ASCII: 1,
    SHORT: 2,
    LONG: 4,
    RATIONAL: 8,
    SBYTE: 1,
    UNDEFINED: 1,
    SSHORT: 2,
    SLONG: 4,
    SRATIONAL: 8,
    FLOAT: 4,
    DOUBLE: 8,
    IFD: 4,
}
_STRUCT_CODES = {
    BYTE: "B",
    SHORT: "H",
    LONG: "L",
    SBYTE: "b",
    SSHORT: "h",
    SLONG: "l",
    FLOAT: "f",
    DOUBLE: "d",
    IFD: "L",
}

EXIF_POINTER = 0x8769
GPS_POINTER = 0x8825
INTEROP_POINTER = 0xA005
SUBIFDS = 0x014A


@dataclass(frozen=True)
class Entry:
    """One directory entry; `raw` holds its value bytes in the file's byte order."""

    tag: int
    type: int
    count: int
    raw: bytes

    def values(self, endian: str) -> tuple:
        """Numbers as a tuple; rationals as (numerator, denominator) pairs."""
        if self.type in (RATIONAL, SRATIONAL):
            code = "L" if self.type == RATIONAL else "l"
            flat = struct.unpack(f"{endian}{2 * self.count}{code}", self.raw)
            return tuple(zip(flat[::2], flat[1::2], strict=True))
        code = _STRUCT_CODES.get(self.type)
        if code is None:
            return tuple(self.raw)
        return struct.unpack(f"{endian}{self.count}{code}", self.raw)

    def converted(self, source: str, target: str) -> Entry:
        """The same entry with its value bytes in the `target` byte order."""
        if source == target or TYPE_SIZES[self.type] == 1:
            return self
        if self.type in (RATIONAL, SRATIONAL):
            code = f"{2 * self.count}{'L' if self.type == RATIONAL else 'l'}"
        else:
            code = f"{self.count}{_STRUCT_CODES[self.type]}"
        values = struct.unpack(f"{source}{code}", self.raw)
        return Entry(
            self.tag, self.type, self.count, struct.pack(f"{target}{code}", *values)
        )

    def first_int(self, endian: str) -> int | None:
        """The first value when it is an integer, else None."""
        if self.type not in (BYTE, SHORT, LONG, SBYTE, SSHORT, SLONG, IFD):
            return None
        values = self.values(endian)
        return int(values[0]) if values else None


@dataclass
class Directory:
    """The entries of one IFD, by tag, and where the next IFD starts."""

    entries: dict[int, Entry] = field(default_factory=dict)
    next_offset: int = 0


class TiffReader:
    """Reads IFDs from a TIFF structure that starts at `start` in `data`."""

    def __init__(self, data: bytes | memoryview, *, start: int = 0):
        self.data = memoryview(data)[start:]
        head = bytes(self.data[:8])
        if head[:2] == b"II":
            self.endian = "<"
        elif head[:2] == b"MM":
            self.endian = ">"
        else:
            raise ValueError("not a TIFF structure (no byte-order mark)")
        if len(head) < 8:
            raise ValueError("TIFF header is truncated")
        # Several RAW formats (ORF, RW2) change the magic number but keep
        # the layout, so only the byte order is checked here.
        (self.first_offset,) = struct.unpack(f"{self.endian}L", head[4:8])
        self._visited: set[int] = set()

    def read(self, offset: int) -> Directory | None:
        """The IFD at `offset`, or None if it is out of range or already read."""
        size = len(self.data)
        if (
            offset < 8
            or offset + 2 > size
            or offset in self._visited
            or len(self._visited) >= MAX_DIRECTORIES
        ):
            return None
        self._visited.add(offset)
        (count,) = struct.unpack_from(f"{self.endian}H", self.data, offset)
        count = min(count, MAX_ENTRIES, (size - offset - 2) // 12)
        directory = Directory()
        position = offset + 2
        for _ in range(count):
            entry = self._entry(position)
            if entry is not None and entry.tag not in directory.entries:
                directory.entries[entry.tag] = entry
            position += 12
        if position + 4 <= size:
            (directory.next_offset,) = struct.unpack_from(
                f"{self.endian}L", self.data, position
            )
        return directory

    def _entry(self, position: int) -> Entry | None:
        tag, kind, count = struct.unpack_from(f"{self.endian}HHL", self.data, position)
        unit = TYPE_SIZES.get(kind)
        if unit is None or count == 0:
            return None
        length = unit * count
        if length > MAX_VALUE_BYTES:
            return None
        if length <= 4:
            raw = bytes(self.data[position + 8 : position + 8 + length])
        else:
            (value_offset,) = struct.unpack_from(
                f"{self.endian}L", self.data, position + 8
            )
            if value_offset + length > len(self.data):
                return None
            raw = bytes(self.data[value_offset : value_offset + length])
        return Entry(tag=tag, type=kind, count=count, raw=raw)

    def pointer(self, directory: Directory | None, tag: int) -> Directory | None:
        """The sub-IFD that `tag` of `directory` points to, if any."""
        if directory is None or tag not in directory.entries:
            return None
        offset = directory.entries[tag].first_int(self.endian)
        return self.read(offset) if offset is not None else None

    def chain(self) -> list[Directory]:
        """IFD0, IFD1, ... following next-IFD offsets (loops end the chain)."""
        directories = []
        directory = self.read(self.first_offset)
        while directory is not None:
            directories.append(directory)
            directory = self.read(directory.next_offset)
        return directories

    def sub_directories(self, directory: Directory) -> list[Directory]:
        """The SubIFDs (tag 330) of a directory: RAW files keep the sensor data there."""
        entry = directory.entries.get(SUBIFDS)
        if entry is None or entry.type not in (LONG, IFD):
            return []
        found = (self.read(offset) for offset in entry.values(self.endian))
        return [sub for sub in found if sub is not None]


def _pad(raw: bytes) -> bytes:
    return raw + b"\x00" * (len(raw) % 2)


def _directory_bytes(
    entries: list[Entry], *, start: int, endian: str
) -> tuple[bytes, bytes]:
    """The IFD at `start` and its overflow values placed right after it."""
    header = struct.pack(f"{endian}H", len(entries))
    data_start = start + 2 + 12 * len(entries) + 4
    table = b""
    overflow = b""
    for entry in sorted(entries, key=lambda item: item.tag):
        field_head = struct.pack(f"{endian}HHL", entry.tag, entry.type, entry.count)
        if len(entry.raw) <= 4:
            table += field_head + entry.raw.ljust(4, b"\x00")
        else:
            table += field_head + struct.pack(f"{endian}L", data_start + len(overflow))
            overflow += _pad(entry.raw)
    return header + table + struct.pack(f"{endian}L", 0), overflow


def write_exif(
    image: Iterable[Entry],
    exif: Iterable[Entry] = (),
    gps: Iterable[Entry] = (),
    *,
    endian: str = "<",
) -> bytes:
    """A TIFF structure with IFD0 and, when given, its EXIF and GPS IFDs."""
    image, exif, gps = list(image), list(exif), list(gps)
    pointer_tags = {EXIF_POINTER, GPS_POINTER, INTEROP_POINTER}
    image = [entry for entry in image if entry.tag not in pointer_tags]
    exif = [entry for entry in exif if entry.tag not in pointer_tags]

    def pointer(tag: int, offset: int) -> Entry:
        return Entry(tag, LONG, 1, struct.pack(f"{endian}L", offset))

    # Offsets depend only on sizes, so lay IFD0 out once with placeholder
    # pointers, then again with the real ones.
    children = [(EXIF_POINTER, exif), (GPS_POINTER, gps)]
    placeholders = [pointer(tag, 0) for tag, entries in children if entries]
    ifd0, overflow0 = _directory_bytes(image + placeholders, start=8, endian=endian)
    position = 8 + len(ifd0) + len(overflow0)
    pointers = []
    blocks = []
    for tag, entries in children:
        if not entries:
            continue
        pointers.append(pointer(tag, position))
        table, overflow = _directory_bytes(entries, start=position, endian=endian)
        blocks.append(table + overflow)
        position += len(table) + len(overflow)
    ifd0, overflow0 = _directory_bytes(image + pointers, start=8, endian=endian)
    mark = b"II" if endian == "<" else b"MM"
    head = mark + struct.pack(f"{endian}HL", 42, 8)
    return head + ifd0 + overflow0 + b"".join(blocks)
