"""Raw MIME messages written byte by byte, so every quirk stays as the sender made it.

The stdlib generator would normalise exactly the damage we need to test
(raw 8-bit headers, split encoded words, odd parameters), so nothing here uses it.
"""

from __future__ import annotations

import base64
import itertools
import quopri

_BOUNDARIES = itertools.count(1)

DEFAULT_HEADERS = [
    (
        "Received",
        "from mx.example.cn by mx.shandong.cn with ESMTP; Tue, 14 Jan 2025 10:02:00 +0800",
    ),
    ("Received", "from pc by mx.example.cn with SMTP; Tue, 14 Jan 2025 10:01:58 +0800"),
    ("Date", "Tue, 14 Jan 2025 10:01:36 +0800"),
    ("From", "=?UTF-8?B?5byg5LiJ?= <Zhang.San@Example.CN>"),
    ("To", "dsjjzcghc@shandong.cn"),
    ("Message-ID", "<m1@example.cn>"),
    ("MIME-Version", "1.0"),
]


def word(text: str, charset: str = "utf-8", kind: str = "B") -> str:
    """An RFC 2047 encoded word."""
    data = text.encode(charset)
    if kind == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    return f"=?{charset}?Q?{quopri.encodestring(data, header=True).decode()}?="


def _header_block(headers: list[tuple[str, str | bytes]]) -> bytes:
    lines = []
    for name, value in headers:
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        lines.append(name.encode() + b": " + raw)
    return b"\r\n".join(lines) + b"\r\n"


def message(
    body: bytes,
    *,
    subject: str | bytes = "test",
    content_type: str = "text/plain; charset=utf-8",
    cte: str = "8bit",
    headers: list[tuple[str, str | bytes]] | None = None,
) -> bytes:
    """A whole message: default envelope headers, then ``headers``, then the body."""
    all_headers = [*DEFAULT_HEADERS, ("Subject", subject), *(headers or [])]
    all_headers += [("Content-Type", content_type), ("Content-Transfer-Encoding", cte)]
    return _header_block(all_headers) + b"\r\n" + body


def part(
    content_type: str,
    payload: bytes,
    *,
    cte: str = "base64",
    disposition: str | None = None,
    extra: list[tuple[str, str | bytes]] = (),
) -> bytes:
    """One MIME body part (headers + encoded payload)."""
    headers: list[tuple[str, str | bytes]] = [("Content-Type", content_type)]
    if disposition is not None:
        headers.append(("Content-Disposition", disposition))
    headers.extend(extra)
    if cte == "base64":
        encoded = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    elif cte == "quoted-printable":
        encoded = quopri.encodestring(payload)
    else:
        encoded = payload
    if cte:
        headers.append(("Content-Transfer-Encoding", cte))
    return _header_block(headers) + b"\r\n" + encoded


def multipart(parts: list[bytes], subtype: str = "mixed") -> tuple[str, bytes]:
    """``(content_type, body)`` of a multipart made of ``parts``."""
    boundary = f"=_jb_{next(_BOUNDARIES)}"
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
    return (
        f'multipart/{subtype}; boundary="{boundary}"',
        body + b"--" + boundary.encode() + b"--\r\n",
    )


def mail_with(parts: list[bytes], *, subtype: str = "mixed", **kwargs) -> bytes:
    content_type, body = multipart(parts, subtype)
    return message(body, content_type=content_type, cte="7bit", **kwargs)


def text_part(text: str, charset: str = "utf-8", cte: str = "base64") -> bytes:
    return part(f"text/plain; charset={charset}", text.encode(charset, "replace"), cte=cte)


def attachment(
    name_params: str,
    payload: bytes,
    content_type: str = "application/octet-stream",
    disposition: str | None = "attachment",
) -> bytes:
    """An attachment whose ``name_params`` go on both headers, verbatim."""
    disp = f"{disposition}; {name_params}" if disposition else None
    ctype = f"{content_type}; {name_params.replace('filename', 'name')}"
    return part(ctype, payload, disposition=disp)


def tnef(files: dict[str, bytes], codepage: int = 936) -> bytes:
    """An Outlook winmail.dat carrying ``files`` (legacy titles in the OEM code page)."""
    import struct

    def obj(level: int, name: int, kind: int, data: bytes) -> bytes:
        return (
            struct.pack("<BHHI", level, name, kind, len(data))
            + data
            + struct.pack("<H", sum(data) & 0xFFFF)
        )

    out = struct.pack("<IH", 0x223E9F78, 0)
    out += obj(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # TNEF version
    out += obj(1, 0x9007, 0x0006, struct.pack("<II", codepage, 0))  # OEM code page
    for name, data in files.items():
        out += obj(
            2, 0x9002, 0x0006, b"\x01\x00\xff\xff\xff\xff" + b"\0" * 8
        )  # starts an attachment
        out += obj(2, 0x8010, 0x0001, name.encode(f"cp{codepage}") + b"\0")  # title
        out += obj(2, 0x800F, 0x0006, data)  # the bytes
    return out
