"""Real servers (Dovecot IMAP, PostgreSQL) started privately on loopback for tests.

Generic helpers shared by :mod:`.dovecot` and :mod:`.postgres` live here:
free ports, readiness polling, process-group bookkeeping and an ``atexit``
safety net so that no server outlives the test session, even when a test or
fixture blows up half way.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

LOOPBACK = "127.0.0.1"

__all__ = [
    "LOOPBACK",
    "ServerError",
    "free_port",
    "kill_process_group",
    "live_pids_in_group",
    "private_dir",
    "register_cleanup",
    "remove_tree",
    "tail",
    "unregister_cleanup",
    "wait_for",
    "wait_for_port",
]


class ServerError(RuntimeError):
    """A private test server could not be started / stopped."""


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port on *host* that was free a moment ago (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for(
    predicate: Callable[[], object],
    timeout: float,
    *,
    interval: float = 0.01,
    what: str = "condition",
) -> object:
    """Poll *predicate* until it returns something truthy; raise TimeoutError after *timeout*."""
    deadline = time.monotonic() + timeout
    delay = interval
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.1)


def wait_for_port(
    host: str,
    port: int,
    timeout: float = 10.0,
    *,
    banner: bytes | None = None,
    alive: Callable[[], bool] | None = None,
) -> None:
    """Wait until ``host:port`` accepts TCP connections.

    With *banner*, additionally require that the server's first bytes start with
    it (e.g. ``b"* OK"`` for IMAP), which proves the service behind the socket
    is really serving and not just that the kernel queued the connection.
    *alive* is polled too so a crashed server fails fast instead of timing out.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise ServerError(f"server process exited while waiting for {host}:{port}")
        try:
            with socket.create_connection((host, port), timeout=1.0) as s:
                if banner is None:
                    return
                s.settimeout(max(0.1, min(5.0, deadline - time.monotonic())))
                data = b""
                while len(data) < len(banner):
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if data.startswith(banner):
                    return
                last_error = ServerError(f"unexpected banner {data[:80]!r}")
        except OSError as exc:
            last_error = exc
        time.sleep(0.02)
    raise TimeoutError(f"{host}:{port} not ready after {timeout:.1f}s (last error: {last_error!r})")


# --------------------------------------------------------------------------- processes


def _proc_stat(pid: int) -> tuple[str, str, int, int] | None:
    """(comm, state, ppid, pgrp) of *pid* from /proc, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read().decode("utf-8", "replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    rest = raw[raw.rindex(")") + 2 :].split()
    return comm, rest[0], int(rest[1]), int(rest[2])


def iter_processes() -> Iterator[tuple[int, str, str, int, int]]:
    """Yield (pid, comm, state, ppid, pgrp) for every process visible in /proc."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        st = _proc_stat(pid)
        if st is not None:
            yield (pid, *st)


def live_pids_in_group(pgid: int) -> list[int]:
    """Non-zombie processes whose process group is *pgid*.

    Zombies are ignored: this machine's PID 1 does not always reap orphans, and
    a zombie holds no sockets or files anyway.
    """
    return [
        pid
        for pid, _comm, state, _ppid, pgrp in iter_processes()
        if pgrp == pgid and state not in ("Z", "X")
    ]


def kill_process_group(pgid: int, sig: int = signal.SIGKILL, timeout: float = 5.0) -> None:
    """Send *sig* to process group *pgid* and wait until no live member remains."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
    if sig != signal.SIGKILL:
        return
    with contextlib.suppress(TimeoutError):
        wait_for(lambda: not live_pids_in_group(pgid), timeout, what=f"process group {pgid}")


def set_parent_death_signal(sig: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get *sig* when the spawning thread dies.

    This is the last line of defence when pytest itself is SIGKILLed (atexit
    never runs then).  Only used from the main thread: PR_SET_PDEATHSIG fires
    when the *thread* that forked exits, which would kill servers started from
    short-lived worker threads.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None

    def _preexec() -> None:
        prctl(1, sig)  # PR_SET_PDEATHSIG; runs after setuid in subprocess, so it sticks

    return _preexec


# --------------------------------------------------------------------------- cleanup

_cleanups: dict[int, Callable[[], None]] = {}
_cleanup_lock = threading.Lock()


def register_cleanup(owner: object, fn: Callable[[], None]) -> None:
    """Run *fn* at interpreter exit unless :func:`unregister_cleanup` is called first."""
    with _cleanup_lock:
        _cleanups[id(owner)] = fn


def unregister_cleanup(owner: object) -> None:
    with _cleanup_lock:
        _cleanups.pop(id(owner), None)


@atexit.register
def _run_cleanups() -> None:
    with _cleanup_lock:
        fns = list(_cleanups.values())
        _cleanups.clear()
    for fn in fns:
        with contextlib.suppress(Exception):
            fn()


def remove_tree(path: str | Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------- private dirs

_OWNER_FILE = ".jiebang-owner"


def _start_time(pid: int) -> str | None:
    """Kernel start time of *pid* (guards against PID reuse), None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read().decode("utf-8", "replace")
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return None if fields[0] in ("Z", "X") else fields[19]


def private_dir(prefix: str) -> Path:
    """``mkdtemp`` under the system temp dir (not pytest's 0700 tree), marked with its owner.

    Directories left behind by an earlier test process that was SIGKILLed (so
    neither fixtures nor ``atexit`` ran) are swept first.
    """
    sweep_stale_dirs(prefix)
    path = Path(tempfile.mkdtemp(prefix=prefix))
    (path / _OWNER_FILE).write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")
    return path


def sweep_stale_dirs(prefix: str) -> None:
    """Remove ``<tmp>/<prefix>*`` dirs whose owning process is dead, killing leftovers in them."""
    for path in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        try:
            pid_text, start = (path / _OWNER_FILE).read_text().split()
            alive = _start_time(int(pid_text)) == start
        except FileNotFoundError:  # being created right now, or foreign: only if old
            try:
                alive = time.time() - path.stat().st_mtime < 3600
            except OSError:
                continue
        except (OSError, ValueError):
            continue
        if alive:
            continue
        _kill_processes_mentioning(path.name)
        remove_tree(path)


def _kill_processes_mentioning(needle: str) -> None:
    """SIGKILL processes whose command line contains *needle* (a private dir's name)."""
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                cmdline = fh.read().decode("utf-8", "replace")
        except OSError:
            continue
        if needle in cmdline:
            with contextlib.suppress(OSError):
                os.kill(int(name), signal.SIGKILL)


def tail(path: str | Path, lines: int = 30) -> str:
    """Last *lines* lines of a log file (for error messages); '' if unreadable."""
    try:
        text = Path(path).read_text("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
