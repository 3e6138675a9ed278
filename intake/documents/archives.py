"""Unpack .zip/.rar/.7z in memory, within limits.

Member names are only ever decoded for display: nothing is written under a
member's name (rarfile's external tool gets a temp file with a generated name).
A bomb is refused as a whole, before anything is decompressed, when the
declared sizes give it away; lying headers are caught by capped reads.
"""

from __future__ import annotations

import io
import lzma
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Protocol, cast

import py7zr
import py7zr.exceptions
import rarfile

from intake.charsets import strict_guess
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


class _Archive(Protocol):
    def entries(self) -> list[_Entry]: ...

    def read(
        self, entries: list[_Entry], limits: Limits
    ) -> Iterator[tuple[_Entry, bytes | DocumentError]]: ...


def unpack(
    data: bytes, fmt: str, limits: Limits, budget: Budget, deadline: Deadline
) -> list[Member]:
    """Members of an archive, in archive order. Raises for the archive as a whole."""
    openers: dict[str, Callable[[bytes], _Archive]] = {"zip": _Zip, "rar": _Rar, "7z": _SevenZip}
    archive = openers[fmt](data)
    entries = [e for e in archive.entries() if not _JUNK.search(e.name)]
    if not entries:
        raise Unreadable("压缩包里没有文件，或压缩包已损坏")
    _check_declared(entries, len(data), limits)
    members = []
    for entry, content in archive.read(entries, limits):
        deadline.check()
        name = _display_name(entry.name)
        if isinstance(content, DocumentError):
            members.append(Member(name, error=content))
            continue
        budget.take_bytes(len(content))
        members.append(Member(name, content))
    return members


def check_package(data: bytes, limits: Limits) -> None:
    """Refuse an OOXML package (docx/xlsx) whose parts would unpack to a bomb."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return  # the document reader reports the damage in its own words
    if total > limits.max_member_bytes or (
        total > _RATIO_FLOOR and total > limits.max_ratio * max(len(data), 1)
    ):
        raise LimitExceeded("文件解压后异常巨大，疑似压缩炸弹，未读取")


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


def _too_big(limits: Limits) -> LimitExceeded:
    return LimitExceeded(f"压缩包内的文件解压后超过 {limits.max_member_bytes // MiB} MB 上限")


class _Zip:
    def __init__(self, data: bytes) -> None:
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
        self, entries: list[_Entry], limits: Limits
    ) -> Iterator[tuple[_Entry, bytes | DocumentError]]:
        errors = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError,
                  NotImplementedError, RuntimeError, ValueError)  # fmt: skip
        return _read_members(
            entries, limits, lambda e: self.zip.open(cast(zipfile.ZipInfo, e.handle)), errors
        )


def _read_members(
    entries: list[_Entry],
    limits: Limits,
    open_member: Callable[[_Entry], IO[bytes]],
    errors: tuple[type[BaseException], ...],
) -> Iterator[tuple[_Entry, bytes | DocumentError]]:
    """Each member's bytes, or why not — never more than the per-member limit in memory."""
    for entry in entries:
        if entry.encrypted:
            yield entry, Encrypted("压缩包内的文件已加密（需要密码），无法读取")
            continue
        if entry.size > limits.max_member_bytes:
            yield entry, _too_big(limits)
            continue
        try:
            with open_member(entry) as stream:
                content = stream.read(limits.max_member_bytes + 1)
        except DocumentError as exc:
            yield entry, exc
            continue
        except errors as exc:
            yield entry, Unreadable(f"压缩包内的文件已损坏，无法解压（{type(exc).__name__}）")
            continue
        yield entry, _too_big(limits) if len(content) > limits.max_member_bytes else content


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
        self, entries: list[_Entry], limits: Limits
    ) -> Iterator[tuple[_Entry, bytes | DocumentError]]:
        errors = (rarfile.Error, EOFError, OSError, ValueError, zlib.error)
        return _read_members(entries, limits, self._open, errors)

    def _open(self, entry: _Entry) -> IO[bytes]:
        try:
            stream: IO[bytes] = self.rar.open(entry.handle)
            return stream
        except rarfile.RarCannotExec as exc:
            raise Unreadable("服务器缺少 RAR 解压工具，无法解压") from exc


_7Z_ERRORS = (
    py7zr.exceptions.Bad7zFile, py7zr.exceptions.UnsupportedCompressionMethodError,
    py7zr.exceptions.CrcError, py7zr.exceptions.DecompressionError, lzma.LZMAError,
    EOFError, OSError, ValueError, KeyError, IndexError, TypeError, struct.error, zlib.error,
)  # fmt: skip


class _SevenZip:
    def __init__(self, data: bytes) -> None:
        try:
            self.archive = py7zr.SevenZipFile(io.BytesIO(data), mode="r")
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
        self, entries: list[_Entry], limits: Limits
    ) -> Iterator[tuple[_Entry, bytes | DocumentError]]:
        if entries and entries[0].encrypted:
            for entry in entries:
                yield entry, Encrypted("压缩包内的文件已加密（需要密码），无法读取")
            return
        # py7zr decompresses solid blocks in one pass; its factory caps each file.
        factory = py7zr.io.BytesIOFactory(limits.max_member_bytes + 1)
        wanted = [e.name for e in entries if e.size <= limits.max_member_bytes]
        failure: DocumentError | None = None
        try:
            self.archive.extract(targets=wanted, factory=factory)
        except py7zr.exceptions.PasswordRequired:
            failure = Encrypted("压缩包内的文件已加密（需要密码），无法读取")
        except _7Z_ERRORS as exc:
            failure = Unreadable(f"压缩包内的文件已损坏，无法解压（{type(exc).__name__}）")
        for entry in entries:
            if entry.size > limits.max_member_bytes:
                yield entry, _too_big(limits)
            elif entry.name in factory.products and failure is None:
                product = factory.products[entry.name]
                product.seek(0)
                content = product.read()
                yield entry, _too_big(limits) if len(content) > limits.max_member_bytes else content
            else:
                yield entry, failure or Unreadable("压缩包内的文件无法解压")
