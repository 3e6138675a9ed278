"""Unpack .zip/.rar/.7z within limits, one member at a time.

Member names are only ever decoded for display: nothing is written under a
member's name (rarfile's external tool and the 7z spool get temp files with
generated names). A bomb is refused as a whole, before anything is decompressed,
when the declared sizes give it away; lying headers are caught while inflating,
since every byte is counted as it comes out (see :mod:`bounded`). Members are
read only when the caller asks for the next one, so a package is never held in
memory all at once.
"""

from __future__ import annotations

import io
import lzma
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import IO, Protocol, cast

import py7zr
import py7zr.exceptions
import rarfile
from py7zr.properties import COMPRESSION_METHOD as _M

from intake.charsets import strict_guess
from intake.documents import bounded
from intake.documents.errors import DocumentError, Encrypted, LimitExceeded, Unreadable
from intake.documents.limits import Budget, Deadline, Limits, MiB

_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_UNICODE_PATH_EXTRA = 0x7075  # Info-ZIP: UTF-8 name beside a legacy one
_RATIO_FLOOR = 1 * MiB  # below this unpacked size a high ratio is harmless (text compresses)
_JUNK = re.compile(r"(^|/)(__MACOSX/|\._)|(^|/)(\.DS_Store|Thumbs\.db|desktop\.ini)$", re.I)


@dataclass
class Member:
    name: str  # decoded file name, without folders
    data: bytes = b""
    error: DocumentError | None = None


@dataclass
class _Entry:
    name: str
    size: int
    packed: int | None
    encrypted: bool
    handle: object  # the library's own member info (ZipInfo, RarInfo, py7zr FileInfo)


class _TooBig(LimitExceeded):
    """One member is over its bound: that member is refused, the others still read.
    (A plain LimitExceeded from the shared Budget stops the whole archive.)"""


class _Archive(Protocol):
    def entries(self) -> list[_Entry]: ...

    def read(
        self, entries: list[_Entry], limits: Limits, budget: Budget, deadline: Deadline
    ) -> Iterator[tuple[_Entry, bytes | DocumentError]]: ...


def unpack(
    data: bytes, fmt: str, limits: Limits, budget: Budget, deadline: Deadline
) -> Iterator[Member]:
    """Members of an archive, in archive order, each read when the next is asked for.

    Raises for the archive as a whole: here, when the listing gives a bomb away;
    from the iterator, when the call's unpacked-bytes budget runs out midway."""
    openers: dict[str, Callable[[bytes], _Archive]] = {"zip": _Zip, "rar": _Rar, "7z": _SevenZip}
    archive = openers[fmt](data)
    entries = [e for e in archive.entries() if not _JUNK.search(e.name)]
    if not entries:
        raise Unreadable("压缩包里没有文件，或压缩包已损坏")
    _check_declared(entries, len(data), limits)
    if not budget.room_for(len(entries)):
        raise LimitExceeded(
            f"邮件中的文件（含压缩包内文件）超过 {limits.max_documents} 个上限，压缩包未解压"
        )
    return _members(archive, entries, limits, budget, deadline)


def _members(
    archive: _Archive, entries: list[_Entry], limits: Limits, budget: Budget, deadline: Deadline
) -> Iterator[Member]:
    for entry, content in archive.read(entries, limits, budget, deadline):
        name = _display_name(entry.name)
        if isinstance(content, DocumentError):
            yield Member(name, error=content)
        else:
            yield Member(name, content)
        del content  # not held while the next member inflates


def check_package(data: bytes, limits: Limits, deadline: Deadline | None = None) -> None:
    """Refuse an OOXML package (docx/xlsx) whose parts would unpack to a bomb.

    python-docx and openpyxl read parts with ``ZipFile.read``, which inflates up to
    1 GiB in one call whatever the header declares, and lxml then needs ~12× an XML
    part in memory; so every part is inflated here first, counting, and the package
    is refused when a part is larger than its bound or than it claims to be."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        return  # the document reader reports the damage in its own words
    total = sum(info.file_size for info in infos)
    if total > limits.max_member_bytes or (
        total > _RATIO_FLOOR and total > limits.max_ratio * max(len(data), 1)
    ):
        raise LimitExceeded("文件解压后异常巨大，疑似压缩炸弹，未读取")
    for info in infos:
        if info.is_dir():
            continue
        xml = info.filename.lower().endswith((".xml", ".rels", ".vml"))
        bound = limits.max_xml_part_bytes if xml else limits.max_member_bytes
        if info.file_size > bound:
            raise LimitExceeded(
                f"文件内部数据（{info.filename}）解压后超过 {bound // MiB} MB，疑似压缩炸弹，未读取"
            )
        lying = partial(
            LimitExceeded,
            f"文件内部数据（{info.filename}）解压后超过其声明大小，疑似压缩炸弹，未读取",
        )
        try:
            # one byte beyond what the part declares is a lie
            bounded.count(bounded.zip_member(data, info), info.file_size, lying, deadline)
        except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError, EOFError, ValueError,
                NotImplementedError):  # fmt: skip
            continue  # damage, not size: the document reader says so in its own words


def _check_declared(entries: list[_Entry], packed: int, limits: Limits) -> None:
    if len(entries) > limits.max_members:
        raise LimitExceeded(f"压缩包内有 {len(entries)} 个文件，超过 {limits.max_members} 个上限")
    total = sum(e.size for e in entries)
    if total > limits.max_total_bytes:
        raise LimitExceeded(
            f"压缩包解压后约 {total // MiB} MB，超过 {limits.max_total_bytes // MiB} MB 上限"
        )
    if total > _RATIO_FLOOR and total > limits.max_ratio * max(packed, 1):
        raise LimitExceeded("压缩包压缩比异常，疑似压缩炸弹，未解压")
    for e in entries:
        if e.size > _RATIO_FLOOR and e.packed and e.size > limits.max_ratio * e.packed:
            raise LimitExceeded("压缩包压缩比异常，疑似压缩炸弹，未解压")


def _display_name(path: str) -> str:
    return re.split(r"[\\/]", path.rstrip("/\\"))[-1]


def _too_big(limits: Limits) -> _TooBig:
    return _TooBig(f"压缩包内的文件解压后超过 {limits.max_member_bytes // MiB} MB 上限，未读取")


def _lying() -> _TooBig:
    return _TooBig("压缩包内的文件解压后超过其声明的大小，疑似压缩炸弹，未读取")


class _Zip:
    def __init__(self, data: bytes) -> None:
        self.data = data
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
            raise Unreadable("压缩包已损坏或不完整，无法打开") from exc

    def entries(self) -> list[_Entry]:
        return [
            _Entry(
                _zip_name(i), i.file_size, i.compress_size, bool(i.flag_bits & _ENCRYPTED_FLAG), i
            )
            for i in self.zip.infolist()
            if not i.is_dir()
        ]

    def read(
        self, entries: list[_Entry], limits: Limits, budget: Budget, deadline: Deadline
    ) -> Iterator[tuple[_Entry, bytes | DocumentError]]:
        errors = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError,
                  NotImplementedError, ValueError)  # fmt: skip
        for entry, content in _read_members(entries, limits, budget, self._chunks, errors):
            info = cast(zipfile.ZipInfo, entry.handle)
            if isinstance(content, bytes) and zlib.crc32(content) != info.CRC:
                content = Unreadable("压缩包内的文件已损坏（校验和不符），无法解压")
            yield entry, content
            del content

    def _chunks(self, entry: _Entry) -> Iterator[bytes]:
        # Not ZipFile.open(): it trusts the declared size and, for bzip2/LZMA members,
        # inflates a whole input block in one call.
        return bounded.zip_member(self.data, cast(zipfile.ZipInfo, entry.handle))


def _read_members(
    entries: list[_Entry],
    limits: Limits,
    budget: Budget,
    chunks: Callable[[_Entry], Iterator[bytes]],
    errors: tuple[type[BaseException], ...],
) -> Iterator[tuple[_Entry, bytes | DocumentError]]:
    """Each member's bytes, or why not, counted as they inflate: never more than the
    per-member limit (or than the member declares) in memory."""
    for entry in entries:
        if entry.encrypted:
            yield entry, Encrypted("压缩包内的文件已加密（需要密码），无法读取")
            continue
        if entry.size > limits.max_member_bytes:
            yield entry, _too_big(limits)
            continue
        # Each member gets its own clock: the caller opens a member between two reads.
        deadline = Deadline(limits.seconds_per_document)
        # More than declared is a lie; a RAR member of unknown size (0) gets the full bound.
        cap = entry.size or limits.max_member_bytes
        too_big = _lying if cap < limits.max_member_bytes else (lambda: _too_big(limits))
        try:
            content = bounded.collect(chunks(entry), cap, too_big, deadline, budget.take_bytes)
        except _TooBig as exc:
            yield entry, exc
            continue
        except LimitExceeded:
            raise  # the call's budget or this member's time: the archive stops here
        except DocumentError as exc:
            yield entry, exc
            continue
        except errors as exc:
            yield entry, Unreadable(f"压缩包内的文件已损坏，无法解压（{type(exc).__name__}）")
            continue
        yield entry, content
        del content


def _zip_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & _UTF8_FLAG or info.filename.isascii():
        return info.filename
    # Without the UTF-8 flag Python decodes names as cp437; Chinese Windows
    # (Explorer, WinRAR, 360压缩) wrote GBK. Undo and re-read when that fits.
    return _unicode_path(info.extra) or strict_guess(info.filename.encode("cp437")) or info.filename


def _unicode_path(extra: bytes) -> str | None:
    pos = 0
    while pos + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        if kind == _UNICODE_PATH_EXTRA and len(body) > 5 and body[0] == 1:
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                return None
        pos += 4 + size
    return None


class _Rar:
    def __init__(self, data: bytes) -> None:
        try:
            self.rar = rarfile.RarFile(io.BytesIO(data))
        except rarfile.PasswordRequired as exc:
            raise Encrypted("压缩包已加密（需要密码），无法打开") from exc
        except (rarfile.Error, EOFError, OSError, ValueError, struct.error) as exc:
            raise Unreadable("RAR 压缩包已损坏或不完整，无法打开") from exc
        if self.rar.needs_password() and not self.rar.infolist():
            raise Encrypted("压缩包已加密（需要密码），无法打开")

    def entries(self) -> list[_Entry]:
        return [
            _Entry(i.filename, i.file_size or 0, i.compress_size, i.needs_password(), i)
            for i in self.rar.infolist()
            if not i.is_dir()
        ]

    def read(
        self, entries: list[_Entry], limits: Limits, budget: Budget, deadline: Deadline
    ) -> Iterator[tuple[_Entry, bytes | DocumentError]]:
        errors = (rarfile.Error, EOFError, OSError, ValueError, zlib.error)
        return _read_members(entries, limits, budget, self._chunks, errors)

    def _chunks(self, entry: _Entry) -> Iterator[bytes]:
        try:
            stream: IO[bytes] = self.rar.open(entry.handle)
        except rarfile.RarCannotExec as exc:
            raise Unreadable("服务器缺少 RAR 解压工具，无法解压") from exc
        with stream:  # closing early ends the external tool's pipe
            yield from bounded.file_chunks(stream)


_7Z_ERRORS = (
    py7zr.exceptions.Bad7zFile, py7zr.exceptions.UnsupportedCompressionMethodError,
    py7zr.exceptions.CrcError, py7zr.exceptions.DecompressionError, lzma.LZMAError,
    EOFError, OSError, ValueError, KeyError, IndexError, TypeError, struct.error, zlib.error,
)  # fmt: skip


# Codecs that honour py7zr's output bound (or, for deflate, are bounded by the small
# input block below); zstd, brotli and the rest may inflate a block without limit.
_7Z_CODECS = {
    _M.COPY, _M.LZMA, _M.LZMA2, _M.MISC_BZIP2, _M.MISC_DEFLATE, _M.PPMD, _M.DELTA,
    _M.P7Z_BCJ, _M.BCJ, _M.BCJ_ARM, _M.BCJ_ARMT, _M.BCJ_IA64, _M.BCJ_PPC, _M.BCJ_SPARC,
    _M.ARM, _M.ARMT, _M.PPC, _M.SPARC, _M.IA64, _M.CRYPT_AES256_SHA256,
}  # fmt: skip
_7Z_BLOCK = 32 * 1024  # compressed bytes per decompress call: deflate makes ≤ 32 MB of it


class _SevenZip:
    def __init__(self, data: bytes) -> None:
        try:
            self.archive = py7zr.SevenZipFile(io.BytesIO(data), mode="r", blocksize=_7Z_BLOCK)
            self.infos = self.archive.list()
        except py7zr.exceptions.PasswordRequired as exc:
            raise Encrypted("压缩包已加密（需要密码），无法打开") from exc
        except _7Z_ERRORS as exc:
            raise Unreadable("7z 压缩包已损坏或不完整，无法打开") from exc

    def entries(self) -> list[_Entry]:
        encrypted = self.archive.needs_password()
        return [
            _Entry(i.filename, i.uncompressed or 0, i.compressed, encrypted, i)
            for i in self.infos
            if not i.is_directory
        ]

    def read(
        self, entries: list[_Entry], limits: Limits, budget: Budget, deadline: Deadline
    ) -> Iterator[tuple[_Entry, bytes | DocumentError]]:
        if entries and entries[0].encrypted:
            for entry in entries:
                yield entry, Encrypted("压缩包内的文件已加密（需要密码），无法读取")
            return
        # Skipped files of a solid block are inflated too (to reach the wanted ones):
        # their declared sizes, which py7zr holds it to, count.
        if sum(i.uncompressed or 0 for i in self.infos) > limits.max_total_bytes:
            raise LimitExceeded(f"压缩包解压后超过 {limits.max_total_bytes // MiB} MB 上限，未解压")
        if not self._codecs_known():
            raise Unreadable("压缩包使用了不常见的压缩方式，无法解压")
        # py7zr unpacks a solid block in one pass: the files go to a spool on disk as
        # they come, counted, and are handed out from it one at a time.
        spool = _Spool(limits, budget, deadline)
        wanted = [e.name for e in entries if e.size <= limits.max_member_bytes]
        failure: DocumentError | None = None
        try:
            self.archive.extract(targets=wanted, factory=spool)
        except py7zr.exceptions.PasswordRequired:
            failure = Encrypted("压缩包内的文件已加密（需要密码），无法读取")
        except _7Z_ERRORS as exc:
            failure = Unreadable(f"压缩包内的文件已损坏，无法解压（{type(exc).__name__}）")
        with spool:
            for entry in entries:
                part = spool.parts.get(entry.name)
                if entry.size > limits.max_member_bytes:
                    yield entry, _too_big(limits)
                elif part is not None and part.error is not None:
                    yield entry, part.error
                elif part is not None and failure is None:
                    yield entry, part.content()
                else:
                    yield entry, failure or Unreadable("压缩包内的文件无法解压")

    def _codecs_known(self) -> bool:
        try:
            folders = self.archive.header.main_streams.unpackinfo.folders
        except AttributeError:
            return True  # nothing packed (empty files only)
        return all(coder["method"] in _7Z_CODECS for f in folders for coder in f.coders)


class _Spool(py7zr.io.WriterFactory):
    """Every file py7zr extracts goes into one temporary file, counted against the
    member and call budgets as it is written."""

    def __init__(self, limits: Limits, budget: Budget, deadline: Deadline) -> None:
        self.limits, self.budget, self.deadline = limits, budget, deadline
        self.file = tempfile.TemporaryFile(prefix="jiebang-7z-")
        self.parts: dict[str, _SpoolPart] = {}

    def create(self, filename: str) -> _SpoolPart:
        part = _SpoolPart(self)
        self.parts[filename] = part
        return part

    def __enter__(self) -> _Spool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.file.close()


class _SpoolPart(py7zr.io.Py7zIO):
    """One extracted file: where its bytes are in the spool."""

    def __init__(self, spool: _Spool) -> None:
        self.spool = spool
        self.segments: list[tuple[int, int]] = []
        self.length = 0
        self.error: DocumentError | None = None

    def write(self, data: bytes | bytearray) -> int:
        spool = self.spool
        spool.deadline.check()
        if self.error is not None:
            return len(data)  # already over: let py7zr run on to the next file
        if self.length + len(data) > spool.limits.max_member_bytes:
            self.error = _too_big(spool.limits)
            return len(data)
        spool.budget.take_bytes(len(data))  # over the call's budget: py7zr stops here
        spool.file.seek(0, io.SEEK_END)
        self.segments.append((spool.file.tell(), len(data)))
        spool.file.write(data)
        self.length += len(data)
        return len(data)

    def content(self) -> bytes:
        out = io.BytesIO()
        for offset, length in self.segments:
            self.spool.file.seek(offset)
            out.write(self.spool.file.read(length))
        return out.getvalue()

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        pass

    def size(self) -> int:
        return self.length

    def close(self) -> None:
        pass
