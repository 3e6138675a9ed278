"""Files only LibreOffice can make (.doc, .xls, PDFs with a Chinese text layer).

Slow (2-4 s per soffice start): one call converts a whole batch, and what it made is
kept for the rest of the session (per input bytes, input type and target), so the same
form converted again by another test, module or DB backend costs nothing — only the
files not made before go to soffice. Callers get fresh dicts of immutable bytes.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path


def soffice_available() -> bool:
    return shutil.which("soffice") is not None


def calc_available() -> bool:
    """LibreOffice Calc (a separate Debian package) is needed to make .xls files."""
    program = Path(shutil.which("soffice") or "/nonexistent").resolve().parent
    return soffice_available() and any(program.glob("libsclo.so"))


# (target, input suffix, sha256 of the input) -> converted bytes, for the whole session
_MADE: dict[tuple[str, str, str], bytes] = {}


def convert(files: dict[str, bytes], target: str) -> dict[str, bytes]:
    """``{name: bytes}`` → ``{name with new extension: converted bytes}``, the files not
    converted before in this session in one soffice run."""
    ext = target.split(":", 1)[0]
    keys = {
        name: (target, Path(name).suffix.lower(), hashlib.sha256(data).hexdigest())
        for name, data in files.items()
    }
    missing = {name: files[name] for name, key in keys.items() if key not in _MADE}
    if missing:
        made = _convert(missing, target)
        for name in missing:
            _MADE[keys[name]] = made[f"{Path(name).stem}.{ext}"]
    return {f"{Path(name).stem}.{ext}": _MADE[key] for name, key in keys.items()}


def _convert(files: dict[str, bytes], target: str) -> dict[str, bytes]:
    """One soffice run over ``files``."""
    with tempfile.TemporaryDirectory(prefix="jb-factory-") as work:
        root = Path(work)
        (root / "in").mkdir()
        inputs = []
        for name, data in files.items():
            path = root / "in" / name
            path.write_bytes(data)
            inputs.append(str(path))
        subprocess.run(
            ["soffice", f"-env:UserInstallation={(root / 'profile').as_uri()}", "--headless",
             "--convert-to", target, "--outdir", str(root / "out"), *inputs],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip
        ext = target.split(":", 1)[0]
        return {
            f"{Path(name).stem}.{ext}": (root / "out" / f"{Path(name).stem}.{ext}").read_bytes()
            for name in files
        }
