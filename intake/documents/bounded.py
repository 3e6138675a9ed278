"""Decompression that counts while it runs and stops at a budget.

Every reader that inflates hostile bytes (archive members, OOXML parts, PDF
streams) goes through here, so no single decompress call can produce more than
``OUT`` bytes: a 1 KB input that claims to be 1 KB but inflates to 1 GiB is
caught after ``OUT`` bytes, not after the allocation.
"""

from __future__ import annotations

import bz2
import io
import lzma
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import IO

from intake.documents.errors import LimitExceeded
from intake.documents.limits import Deadline, MiB

OUT = 1 * MiB  # most output one decompress call may return (and so the most held at once)
FEED = 64 * 1024  # compressed input handed over per call


_LOCAL_HEADER = b"PK\x03\x04"
_LOCAL_HEADER_SIZE = 30  # APPNOTE 4.3.7; name and extra field lengths at offset 26


def inflate(raw: bytes | memoryview, wbits: int = zlib.MAX_WBITS) -> Iterator[bytes]:
    """zlib/deflate output of ``raw`` in chunks of at most ``OUT``; stops at the end of
    the compressed stream (trailing bytes are ignored). Raises ``zlib.error``.

    An empty chunk comes back for input that produced nothing yet, so a caller can
    check its deadline while megabytes of empty blocks go by."""
    decompressor = zlib.decompressobj(wbits)
    view, pos = memoryview(raw), 0
    pending: bytes | memoryview = b""
    while not decompressor.eof:
        if not pending and pos < len(view):
            pending = view[pos : pos + FEED]
            pos += len(pending)
        elif not pending:  # all input given: drain what zlib still holds back
            out = decompressor.decompress(b"", OUT)
            if not out:
                return  # truncated: what was there has been produced
            yield out
            continue
        out = decompressor.decompress(pending, OUT)
        pending = decompressor.unconsumed_tail
        yield out


def _stepped(
    decompressor: bz2.BZ2Decompressor | lzma.LZMADecompressor, raw: memoryview
) -> Iterator[bytes]:
    pos = 0
    while not decompressor.eof:
        data = b""
        if decompressor.needs_input:
            if pos >= len(raw):
                return
            data = bytes(raw[pos : pos + FEED])
            pos += len(data)
        out = decompressor.decompress(data, OUT)
        if out:
            yield out


def zip_member(data: bytes | memoryview, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The true decompressed bytes of one member, read from its local header on.

    zipfile trusts the declared size and hands ``read()`` up to 1 GiB from a single
    decompress call before cutting to it; this reads the raw data itself, so the
    caller sees (and can stop at) what the member really inflates to.
    Raises ``zipfile.BadZipFile``, ``NotImplementedError`` or the codec's error.
    """
    view = memoryview(data)
    start = info.header_offset
    header = bytes(view[start : start + _LOCAL_HEADER_SIZE])
    if len(header) < _LOCAL_HEADER_SIZE or header[:4] != _LOCAL_HEADER:
        raise zipfile.BadZipFile("bad local file header")
    name_length, extra_length = struct.unpack_from("<HH", header, 26)
    begin = start + _LOCAL_HEADER_SIZE + name_length + extra_length
    raw = view[begin : begin + info.compress_size]
    if len(raw) < info.compress_size:
        raise zipfile.BadZipFile("member data truncated")
    method = info.compress_type
    if method == zipfile.ZIP_STORED:
        for pos in range(0, len(raw), OUT):
            yield bytes(raw[pos : pos + OUT])
    elif method == zipfile.ZIP_DEFLATED:
        yield from inflate(raw, -zlib.MAX_WBITS)
    elif method == zipfile.ZIP_BZIP2:
        yield from _stepped(bz2.BZ2Decompressor(), raw)
    elif method == zipfile.ZIP_LZMA:
        yield from _stepped(_zip_lzma(raw), raw[4 + _lzma_props_size(raw) :])
    else:
        raise NotImplementedError(f"compression method {method}")


def _lzma_props_size(raw: memoryview) -> int:
    if len(raw) < 4:
        raise zipfile.BadZipFile("LZMA header truncated")
    return int(struct.unpack_from("<H", raw, 2)[0])


def _zip_lzma(raw: memoryview) -> lzma.LZMADecompressor:
    """APPNOTE 5.8.8: version (2 bytes), properties size (2), LZMA1 properties."""
    size = _lzma_props_size(raw)
    props = bytes(raw[4 : 4 + size])
    if len(props) < 5:
        raise zipfile.BadZipFile("LZMA properties truncated")
    lc_lp_pb, dict_size = props[0], struct.unpack_from("<I", props, 1)[0]
    filters = [{"id": lzma.FILTER_LZMA1, "dict_size": dict_size, "lc": lc_lp_pb % 9,
                "lp": lc_lp_pb // 9 % 5, "pb": lc_lp_pb // 45}]  # fmt: skip
    return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters)


def file_chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """A file object's bytes, ``OUT`` at a time (rarfile's pipes read this way)."""
    while True:
        chunk = stream.read(OUT)
        if not chunk:
            return
        yield chunk


def collect(
    chunks: Iterable[bytes],
    cap: int,
    too_big: Callable[[], LimitExceeded],
    deadline: Deadline | None = None,
    take: Callable[[int], None] | None = None,
) -> bytes:
    """All of ``chunks`` as bytes, raising ``too_big()`` as soon as more than ``cap``
    arrive; ``take`` is told of every chunk (a budget shared across documents)."""
    out = io.BytesIO()
    for chunk in chunks:
        if deadline is not None:
            deadline.check()
        if take is not None:
            take(len(chunk))
        if out.tell() + len(chunk) > cap:
            raise too_big()
        out.write(chunk)
    return out.getvalue()  # BytesIO hands over its buffer: no second copy


def count(
    chunks: Iterable[bytes],
    cap: int,
    too_big: Callable[[], LimitExceeded],
    deadline: Deadline | None = None,
) -> int:
    """How many bytes ``chunks`` produce, raising ``too_big()`` past ``cap``."""
    total = 0
    for chunk in chunks:
        if deadline is not None:
            deadline.check()
        total += len(chunk)
        if total > cap:
            raise too_big()
    return total
