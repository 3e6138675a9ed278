"""Files only LibreOffice can make (.doc, .xls, PDFs with a Chinese text layer).

Slow (2-4 s per soffice start): one call converts a whole batch.
"""

from __future__ import annotations

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


def convert(files: dict[str, bytes], target: str) -> dict[str, bytes]:
    """``{name: bytes}`` → ``{name with new extension: converted bytes}`` in one soffice run."""
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
