"""Legacy Office files (.doc, .wps, .xls that xlrd refuses, .odt …) through LibreOffice.

One headless soffice run converts a whole batch (its start-up costs 2-4 s).
Inputs get generated names in a private temp dir — member and attachment
names never touch the disk — and the run has its own user profile, so it
neither collides with a desktop LibreOffice nor with another worker.

Every input comes from strangers, and LibreOffice happily fetches what a
document links to (images, stylesheets, OLE objects, sections …): an .odt
linking an image made it send OPTIONS, HEAD and GET to that URL. So soffice runs

* in a fresh network namespace (``unshare --net``): no interface but a
  loopback that is down, so no request can leave, not even to 127.0.0.1.
  Which ``unshare`` form works is probed once per process; if none does,
  nothing is converted (the profile settings alone do not stop every
  fetch: an HTML file named .doc still loads its stylesheet);
* with a profile that disables macros and link updates and blocks links
  from untrusted documents (defence in depth, and fewer futile attempts);
* under ``prlimit``: address space, CPU time, file size, no core dumps —
  ``prlimit`` rather than ``preexec_fn`` because the latter may deadlock a
  threaded parent between fork and exec.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from intake.documents.errors import ConversionFailed

log = logging.getLogger(__name__)

MiB = 1024 * 1024
MEMORY_LIMIT_BYTES = 1536 * MiB  # address space of soffice.bin; it needs ~250 MiB to start
# CPU time per batch, never more than its wall-clock timeout: that only bites when a
# document keeps several threads busy, which the wall clock alone would allow.
CPU_LIMIT_SECONDS = 300
FILE_LIMIT_BYTES = 512 * MiB  # largest file soffice may write (same as Limits.max_total_bytes)

_FILTERS = {"docx": "docx:MS Word 2007 XML", "xlsx": "xlsx:Calc MS Excel 2007 XML",
            "pdf": "pdf:writer_pdf_Export"}  # pdf: the web workspace's previews of Word forms
_LOCK = threading.Lock()  # one soffice per profile at a time
_PROFILE: Path | None = None  # reused within the process: a warm profile starts faster

# Tried in order. ``--map-root-user`` is for a non-root service account on a kernel
# that allows unprivileged user namespaces; as root the plain form is enough.
_NAMESPACES: tuple[tuple[str, ...], ...] = (("--net",), ("--map-root-user", "--net"))
_PROBE_MEMORY_BYTES = 1024 * MiB  # fixed, so a lowered MEMORY_LIMIT_BYTES cannot fail the probe
_NO_SANDBOX = "服务器无法在断网环境中运行 LibreOffice，出于安全考虑未转换此文件"
_LOG_TAIL_BYTES = 64 * 1024
# What soffice prints to stderr when the address-space limit bites: the loader cannot
# map a library, a thread stack cannot be allocated, or operator new throws.
_MEMORY_MARKERS = (
    b"failed to map segment",
    b"Cannot allocate memory",
    b"bad_alloc",
    b"Thread::create failed",
)

# Written before the first run; LibreOffice keeps these entries when it rewrites the file.
# Writer and Calc number their link-update modes differently: "never" is 0 in Writer
# (sw UpdateLinks) and 1 in Calc (ScLkUpdMode). Recalc mode 1 is "never recalculate on
# load", so WEBSERVICE() and external references keep their cached values.
_SETTINGS: tuple[tuple[str, str, str], ...] = (
    ("org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
    ("org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
    ("org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    ("org.openoffice.Office.Writer/Content/Update", "Link", "0"),
    ("org.openoffice.Office.Calc/Content/Update", "Link", "1"),
    ("org.openoffice.Office.Calc/Formula/Load", "OOXMLRecalcMode", "1"),
    ("org.openoffice.Office.Calc/Formula/Load", "ODFRecalcMode", "1"),
)


@dataclass
class Job:
    data: bytes
    source_ext: str  # "doc", "wps", "xls", "odt", "rtf" …: tells soffice the input filter
    target: str  # "docx", "xlsx" or "pdf"


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
        sandbox = _sandbox()
        if sandbox is None:
            return [ConversionFailed(_NO_SANDBOX)] * len(jobs)
        for target in sorted({job.target for job in jobs}):
            batch = [i for i, job in enumerate(jobs) if job.target == target]
            outcomes = _run(binary, sandbox, Path(work), target, [jobs[i] for i in batch], timeout)
            for index, outcome in zip(batch, outcomes, strict=True):
                results[index] = outcome
    return results


def _run(
    binary: str, sandbox: Sequence[str], work: Path, target: str, jobs: list[Job], timeout: float
) -> Iterator[bytes | ConversionFailed]:
    src, out = work / f"in-{target}", work / f"out-{target}"
    src.mkdir()
    out.mkdir()
    inputs = []
    for number, job in enumerate(jobs):
        path = src / f"f{number:04d}.{job.source_ext or 'bin'}"
        path.write_bytes(job.data)
        inputs.append(path)
    cpu_seconds = max(1, min(CPU_LIMIT_SECONDS, math.ceil(timeout)))
    command = [
        *sandbox, *_limits(MEMORY_LIMIT_BYTES, cpu_seconds),
        binary, f"-env:UserInstallation={_profile().as_uri()}", "--headless", "--norestore",
        "--nologo", "--nodefault", "--nolockcheck", "--convert-to", _FILTERS[target],
        "--outdir", str(out), *map(str, inputs),
    ]  # fmt: skip
    failure = _execute(command, timeout, cpu_seconds, work / f"soffice-{target}.log")
    for path in inputs:
        converted = out / f"{path.stem}.{target}"
        if converted.is_file() and converted.stat().st_size > 0:
            yield converted.read_bytes()
        else:
            yield failure or ConversionFailed("文件已损坏、已加密或格式无法识别，转换失败")


def _limits(memory_bytes: int, cpu_seconds: int) -> list[str]:
    """A ``prlimit`` prefix. The CPU hard limit sits a little above the soft one: at the
    soft limit soffice gets SIGXCPU (and aborts), the hard one kills it if it lingers."""
    prlimit = shutil.which("prlimit") or "prlimit"
    return [
        prlimit, f"--as={memory_bytes}", f"--cpu={cpu_seconds}:{cpu_seconds + 5}",
        f"--fsize={FILE_LIMIT_BYTES}", "--core=0", "--",
    ]  # fmt: skip


def _execute(
    command: list[str], timeout: float, cpu_seconds: int, log_path: Path
) -> ConversionFailed | None:
    # Own session so a timeout kills soffice.bin too, not only the wrapper script;
    # unshare and prlimit exec rather than fork, so the session leader is our child.
    with open(log_path, "wb") as stderr:
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=stderr,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    try:
        code, cpu_used = _wait(process, timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        _discard_profile()
        return ConversionFailed(f"文件转换超过 {timeout:g} 秒，已停止")
    if code == 0:
        return None
    _discard_profile()
    output = _tail(log_path)
    # LibreOffice's own signal handler reports SIGXCPU/SIGXFSZ as "Signal 24/25" and
    # aborts, so the exit code alone would only say SIGABRT.
    xcpu = code in (-signal.SIGXCPU, 128 + signal.SIGXCPU) or b"Signal 24" in output
    xfsz = code in (-signal.SIGXFSZ, 128 + signal.SIGXFSZ) or b"Signal 25" in output
    if xcpu or cpu_used >= cpu_seconds:
        return ConversionFailed(f"文件过于复杂，转换占用 CPU 时间超过 {cpu_seconds} 秒，已停止")
    if any(marker in output for marker in _MEMORY_MARKERS):
        return ConversionFailed(
            f"文件过大或过于复杂，转换所需内存超过 {MEMORY_LIMIT_BYTES // MiB} MB 上限，已停止"
        )
    if xfsz:
        return ConversionFailed(f"转换结果超过 {FILE_LIMIT_BYTES // MiB} MB 上限，已停止")
    return ConversionFailed("LibreOffice 转换时异常退出，文件可能已损坏或结构异常")


def _wait(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, float]:
    """Exit code and CPU seconds of the whole tree (soffice.bin is reaped by its
    launcher, so its time is in the launcher's rusage). Popen.wait discards rusage."""
    deadline = time.monotonic() + timeout
    pause = 0.01
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode, usage.ru_utime + usage.ru_stime
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise subprocess.TimeoutExpired(process.args, timeout)
        time.sleep(min(pause, remaining))
        pause = min(pause * 2, 0.1)


def _tail(path: Path) -> bytes:
    with open(path, "rb") as file:
        file.seek(max(0, path.stat().st_size - _LOG_TAIL_BYTES))
        return file.read()


@functools.cache
def _sandbox() -> tuple[str, ...] | None:
    """The command prefix that puts soffice in an empty network namespace, or None."""
    unshare = shutil.which("unshare")
    if unshare is None or shutil.which("prlimit") is None:
        log.warning("LibreOffice conversion disabled: unshare or prlimit (util-linux) missing")
        return None
    for options in _NAMESPACES:
        prefix = (unshare, *options, "--")
        if _probe(prefix):
            return prefix
    log.warning("LibreOffice conversion disabled: no way to run it without network here")
    return None


def _probe(prefix: Sequence[str]) -> bool:
    """Run a checker through ``prefix`` plus the prlimit wrapper and ask it whether it is
    cut off: it must see no interface but loopback, fail to reach a socket listening
    on our loopback, and run under the memory limit. Trusting only an exit status of
    ``unshare`` would accept a wrapper that silently did nothing."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        check = (
            "import resource, socket, sys\n"
            "names = [name for _, name in socket.if_nameindex()]\n"
            "probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
            "probe.settimeout(3)\n"
            f"reached = probe.connect_ex(('127.0.0.1', {port})) == 0\n"
            f"limited = resource.getrlimit(resource.RLIMIT_AS)[0] == {_PROBE_MEMORY_BYTES}\n"
            "sys.exit(0 if names == ['lo'] and not reached and limited else 3)\n"
        )
        command = [
            *prefix, *_limits(_PROBE_MEMORY_BYTES, 10), sys.executable or "python3", "-I", "-c",
            check,
        ]  # fmt: skip
        try:
            result = subprocess.run(
                command, stdin=subprocess.DEVNULL, capture_output=True, timeout=20, check=False
            )
        except (OSError, subprocess.SubprocessError) as exc:
            log.info("sandbox probe %s failed: %s", " ".join(prefix), exc)
            return False
    if result.returncode != 0:
        log.info(
            "sandbox probe %s refused (exit %s): %s",
            " ".join(prefix), result.returncode, result.stderr[-300:].decode(errors="replace"),
        )  # fmt: skip
    return result.returncode == 0


def _profile() -> Path:
    global _PROFILE
    if _PROFILE is None:
        _PROFILE = Path(tempfile.mkdtemp(prefix="jiebang-lo-profile-"))
        atexit.register(shutil.rmtree, _PROFILE, ignore_errors=True)
        _write_settings(_PROFILE)
    return _PROFILE


def _discard_profile() -> None:
    """Forget the profile after soffice died abnormally: it may have been killed while
    rewriting registrymodifications.xcu, and a profile without our settings would run
    the next batch with macros and link updates at LibreOffice's defaults."""
    global _PROFILE
    if _PROFILE is not None:
        shutil.rmtree(_PROFILE, ignore_errors=True)
        _PROFILE = None


def _write_settings(profile: Path) -> None:
    items = "".join(
        f'<item oor:path="/{path}"><prop oor:name="{name}" oor:op="fuse">'
        f"<value>{value}</value></prop></item>\n"
        for path, name, value in _SETTINGS
    )
    user = profile / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry"'
        ' xmlns:xs="http://www.w3.org/2001/XMLSchema"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        f"{items}</oor:items>\n",
        encoding="utf-8",
    )
