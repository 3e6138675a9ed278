"""Archives as real senders make them: GBK names, passwords, bombs, nesting, damage."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import py7zr


class _GbkName(zipfile.ZipInfo):
    """A member whose name is written as GBK bytes without the UTF-8 flag (0x800),
    as Windows Explorer and 360压缩 do on Chinese systems."""

    def _encodeFilenameFlags(self):  # noqa: N802 - overrides zipfile's private hook
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def make_zip(members: dict[str, bytes], *, gbk_names: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = _GbkName(name) if gbk_names else zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out.getvalue()


def encrypted_zip(members: dict[str, bytes]) -> bytes:
    """Members flagged as encrypted (bit 0), as a password-protected zip presents itself."""
    data = bytearray(make_zip(members))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = data.find(signature)
        while pos >= 0:
            (flags,) = struct.unpack_from("<H", data, pos + flag_offset)
            struct.pack_into("<H", data, pos + flag_offset, flags | 0x1)
            pos = data.find(signature, pos + 4)
    return bytes(data)


def zip_bomb(unpacked_mib: int = 20) -> bytes:
    """One member of zeros: ~1000:1, the classic 42.zip pattern at a small scale."""
    return make_zip({"报表.docx": b"\0" * (unpacked_mib * 1024 * 1024)})


def make_7z(members: dict[str, bytes], *, password: str | None = None) -> bytes:
    out = io.BytesIO()
    with py7zr.SevenZipFile(
        out, "w", password=password, header_encryption=bool(password)
    ) as archive:
        for name, data in members.items():
            archive.writestr(data, name)
    return out.getvalue()


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: int(len(data) * keep)]


def make_rar(members: dict[str, bytes]) -> bytes:
    """A RAR5 archive with stored (uncompressed) members, written by hand: no rar
    tool exists on Linux to make one, and stored members are what rarfile reads itself."""
    out = bytearray(b"Rar!\x1a\x07\x01\x00")
    out += _rar_header(1, 0, b"", _vint(0))  # main archive header, no flags
    for name, data in members.items():
        encoded = name.encode("utf-8")
        fields = (
            _vint(0x0004)  # file flags: data CRC32 present
            + _vint(len(data))  # unpacked size
            + _vint(0x20)  # attributes: archive
            + struct.pack("<I", zlib.crc32(data))
            + _vint(0)  # compression: version 0, method 0 = store
            + _vint(0)  # host OS: Windows
            + _vint(len(encoded))
            + encoded
        )
        out += _rar_header(2, 0x0002, _vint(len(data)), fields) + data
    out += _rar_header(5, 0, b"", _vint(0))  # end of archive
    return bytes(out)


def _rar_header(kind: int, flags: int, data_size: bytes, fields: bytes) -> bytes:
    body = _vint(kind) + _vint(flags) + data_size + fields
    sized = _vint(len(body)) + body
    return struct.pack("<I", zlib.crc32(sized)) + sized


def _vint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)
