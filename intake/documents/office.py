"""Legacy Office files (.doc, .wps, .xls that xlrd refuses, .odt …) through LibreOffice.

One headless soffice run converts a whole batch (its start-up costs 2-4 s).
Inputs get generated names in a private temp dir — member and attachment
names never touch the disk — and the run has its own user profile, so it
neither collides with a desktop LibreOffice nor with another worker.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from intake.documents.errors import ConversionFailed

_FILTERS = {"docx": "docx:MS Word 2007 XML", "xlsx": "xlsx:Calc MS Excel 2007 XML"}
_LOCK = threading.Lock()  # one soffice per profile at a time
_PROFILE: Path | None = None  # reused within the process: a warm profile starts faster


@dataclass
class Job:
    data: bytes
    source_ext: str  # "doc", "wps", "xls", "odt", "rtf" …: tells soffice the input filter
    target: str  # "docx" or "xlsx"


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(jobs: list[Job], timeout: float) -> list[bytes | ConversionFailed]:
    """Convert every job; each result is the converted bytes or the reason it failed."""
    if not jobs:
        return []
    binary = soffice_path()
    if binary is None:
        return [ConversionFailed("服务器未安装 LibreOffice，无法读取旧版 Office 文件")] * len(jobs)
    results: list[bytes | ConversionFailed] = [ConversionFailed("文件转换失败")] * len(jobs)
    with _LOCK, tempfile.TemporaryDirectory(prefix="jiebang-office-") as work:
        for target in sorted({job.target for job in jobs}):
            batch = [i for i, job in enumerate(jobs) if job.target == target]
            outcomes = _run(binary, Path(work), target, [jobs[i] for i in batch], timeout)
            for index, outcome in zip(batch, outcomes, strict=True):
                results[index] = outcome
    return results


def _run(binary: str, work: Path, target: str, jobs: list[Job], timeout: float):
    src, out = work / f"in-{target}", work / f"out-{target}"
    src.mkdir()
    out.mkdir()
    inputs = []
    for number, job in enumerate(jobs):
        path = src / f"f{number:04d}.{job.source_ext or 'bin'}"
        path.write_bytes(job.data)
        inputs.append(path)
    command = [
        binary, f"-env:UserInstallation={_profile().as_uri()}", "--headless", "--norestore",
        "--nologo", "--nodefault", "--nolockcheck", "--convert-to", _FILTERS[target],
        "--outdir", str(out), *map(str, inputs),
    ]  # fmt: skip
    failure = _execute(command, timeout)
    for path in inputs:
        converted = out / f"{path.stem}.{target}"
        if converted.is_file() and converted.stat().st_size > 0:
            yield converted.read_bytes()
        else:
            yield failure or ConversionFailed("文件已损坏、已加密或格式无法识别，转换失败")


def _execute(command: list[str], timeout: float) -> ConversionFailed | None:
    # Own session so a timeout kills soffice.bin too, not only the wrapper script.
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return ConversionFailed(f"文件转换超过 {timeout:g} 秒，已停止")
    return None


def _profile() -> Path:
    global _PROFILE
    if _PROFILE is None:
        _PROFILE = Path(tempfile.mkdtemp(prefix="jiebang-lo-profile-"))
        atexit.register(shutil.rmtree, _PROFILE, ignore_errors=True)
    return _PROFILE
