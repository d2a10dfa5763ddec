"""One reader of TIFF structures held in memory: camera RAW containers (kernel/raw.py, which
looks for their embedded JPEG) and the EXIF block of a JPEG (writeback/files.py, which
rewrites its IFD0).

The input is untrusted: every read is bounds-checked and anything inconsistent surfaces as
``TiffError`` (a ``ValueError``), never as ``IndexError`` or ``struct.error``. What to do with
cycles and how much to read is the caller's: it knows what it walks.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["INT_TYPES", "MAGIC_BIGTIFF", "MAGIC_ORF", "MAGIC_RW2", "MAGIC_TIFF", "MAX_ENTRIES",
           "TYPE_SIZES", "Entry", "Tiff", "TiffError"]

# TIFF header magic numbers (the u16 after the byte-order mark).
MAGIC_TIFF = 42
MAGIC_BIGTIFF = 43
MAGIC_ORF = (0x4F52, 0x5352)  # "IIRO"/"MMOR", "IIRS"
MAGIC_RW2 = 0x0055

# Entries an IFD may declare before it counts as corrupt: real files have at most a few
# hundred; a reader must not be made to walk 65535 by a hostile one.
MAX_ENTRIES = 1024
# Field type -> bytes per value (TIFF 6.0; 13 is IFD, from the TIFF/EP and EXIF additions).
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
# Field type -> (size in bytes, struct code) for the unsigned integer types offsets are in.
INT_TYPES = {1: (1, "B"), 3: (2, "H"), 4: (4, "L"), 13: (4, "L")}


class TiffError(ValueError):
    """The data is not a TIFF structure, or it is truncated or corrupt."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One IFD entry: its tag, field type, value count, and where its 4-byte value (or the
    offset of its values) is."""

    tag: int
    typ: int
    count: int
    field: int  # offset of the entry's 4-byte value/offset field in the data


class Tiff:
    """Bounds-checked reads over TIFF-structured bytes: a TIFF header (either byte order;
    the magic number of TIFF or of the Olympus and Panasonic RAW variants), its IFDs and
    their values. BigTIFF is refused."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 8:
            raise TiffError("file too short for a TIFF header")
        order = data[:2]
        if order == b"II":
            self.endian = "<"
        elif order == b"MM":
            self.endian = ">"
        else:
            raise TiffError("not a TIFF-based file (no II/MM byte-order mark)")
        self.data = data
        self.size = len(data)
        self.magic = self.u16(2)
        if self.magic == MAGIC_BIGTIFF:
            raise TiffError("BigTIFF files are not supported")
        if self.magic != MAGIC_TIFF and self.magic not in MAGIC_ORF and self.magic != MAGIC_RW2:
            raise TiffError(f"unknown TIFF magic number 0x{self.magic:04X}")
        self.first_ifd = self.u32(4)

    def check(self, offset: int, length: int, what: str) -> None:
        """TiffError unless ``length`` bytes at ``offset`` lie within the data."""
        if offset < 0 or length < 0 or offset + length > self.size:
            raise TiffError(
                f"truncated or corrupt: {what} at offset {offset} ({length} bytes) lies beyond "
                f"the end of the file ({self.size} bytes)"
            )

    def u16(self, offset: int) -> int:
        self.check(offset, 2, "value")
        value: int = struct.unpack_from(self.endian + "H", self.data, offset)[0]
        return value

    def u32(self, offset: int) -> int:
        self.check(offset, 4, "value")
        value: int = struct.unpack_from(self.endian + "L", self.data, offset)[0]
        return value

    def entries(self, offset: int, max_entries: int | None = None) -> tuple[list[Entry], int]:
        """Every entry of the IFD at ``offset``, in file order (a repeated tag twice), and the
        offset of the next IFD. TiffError when it declares more than ``max_entries``."""
        count = self.u16(offset)
        if max_entries is not None and count > max_entries:
            raise TiffError(
                f"corrupt IFD at offset {offset}: declares {count} entries "
                f"(limit {max_entries})"
            )
        self.check(offset, 2 + 12 * count + 4, "IFD")
        unpack = struct.Struct(self.endian + "HHL").unpack_from
        found: list[Entry] = []
        for i in range(count):
            pos = offset + 2 + 12 * i
            tag, typ, n = unpack(self.data, pos)
            found.append(Entry(tag, typ, n, pos + 8))
        return found, self.u32(offset + 2 + 12 * count)

    def read_ifd(self, offset: int, max_entries: int = MAX_ENTRIES
                 ) -> tuple[dict[int, Entry], int]:
        """The entries of the IFD at ``offset`` by tag (the first wins on a repeated tag), and
        the offset of the next IFD."""
        found, next_offset = self.entries(offset, max_entries)
        by_tag: dict[int, Entry] = {}
        for entry in found:
            by_tag.setdefault(entry.tag, entry)
        return by_tag, next_offset

    def ints(self, entry: Entry, max_count: int, what: str, *, first_only: bool = False
             ) -> tuple[int, ...]:
        """Integer values of an entry; TiffError when there are more than ``max_count``."""
        kind = INT_TYPES.get(entry.typ)
        if kind is None:
            raise TiffError(f"corrupt {what}: field type {entry.typ} is not an integer")
        if entry.count > max_count and not first_only:
            raise TiffError(f"corrupt {what}: {entry.count} values (limit {max_count})")
        size, code = kind
        # Values live in the entry when they fit in 4 bytes, else at the offset stored there.
        where = entry.field if size * entry.count <= 4 else self.u32(entry.field)
        n = min(entry.count, 1) if first_only else entry.count
        self.check(where, size * n, what)
        return tuple(struct.unpack_from(f"{self.endian}{n}{code}", self.data, where))

    def first_int(self, entries: dict[int, Entry], tag: int) -> int | None:
        """The first integer value of ``tag`` among ``entries``; None when absent or not an
        integer."""
        entry = entries.get(tag)
        if entry is None or entry.count < 1 or entry.typ not in INT_TYPES:
            return None
        return self.ints(entry, 1, f"tag 0x{tag:04X}", first_only=True)[0]

    def raw_value(self, entry: Entry) -> bytes:
        """The entry's 4-byte value/offset field as stored."""
        return self.data[entry.field:entry.field + 4]

    def value(self, entry: Entry) -> bytes:
        """The bytes of an entry's values (in the entry when they fit in 4 bytes, else at
        the offset stored there), cut short where the data ends: a text whose end lies
        past a segment reads as far as it goes."""
        size = TYPE_SIZES.get(entry.typ, 1) * entry.count
        if size <= 4:
            return self.raw_value(entry)[:size]
        offset = self.u32(entry.field)
        return self.data[offset:offset + size]
