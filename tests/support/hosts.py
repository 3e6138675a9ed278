"""Hosts that share only PostgreSQL and an S3 bucket: a poller and workers, each a
`jiebang run --role …` in a folder of its own (its config.yaml and its log, nothing else),
with a cache of its own as separate machines would have. Used by the three-host
acceptance test and benchmarks/hosts.py.

The processes run the service as it ships: `python -m tracker.cli run` with the shipped
defaults except what a multi-host deployment must set (database, mailbox, SMTP, bucket);
keys reach them the way SPEC section 8 says, in the environment.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from support.helpers import REPO

LOG = "jiebang.log"
CONFIG = "config.yaml"


@dataclass
class Host:
    """One machine's jiebang: its folder, its role, its process."""

    name: str
    root: Path
    role: str  # poller | worker | all
    cache: Path  # this host's own cache home (XDG_CACHE_HOME): never shared with another host
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    once: bool = False  # `run --once` (benchmarks: each process ends when the queue is empty)

    @property
    def log(self) -> Path:
        return self.root / LOG

    @property
    def config(self) -> Path:
        return self.root / CONFIG

    def command(self) -> list[str]:
        return [sys.executable, "-m", "tracker.cli", "run", "-v", "--role", self.role,
                *(["--once"] if self.once else []), "--config", str(self.config)]

    def start(self) -> Host:
        env = {**os.environ, **self.env, "XDG_CACHE_HOME": str(self.cache),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        env.pop("CACHE_DIRECTORY", None)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.command(), cwd=self.root, env=env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM (the service finishes what it holds), then SIGKILL; the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        return self.proc.returncode

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def written(self) -> list[str]:
        """Every file under the host's folder but its configuration and its log."""
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*")
                      if p.is_file() and p.name not in (CONFIG, LOG))


def host_config(root: Path, *, db_url: str, mailbox_url: str, smtp_url: str, bucket_url: str,
                endpoint: str, workers: int = 1, **sections: dict[str, object]) -> Path:
    """A host's config.yaml: what a multi-host deployment must set, the rest as shipped.
    Relative paths would land in the host's folder, so none is given but the store's URL."""
    data: dict[str, dict[str, object]] = {
        "campaign": {"code": "JB2025"},
        "province": {"address": "dsjjzcghc@shandong.cn"},
        "mailbox": {"url": mailbox_url, "address": "dsjjzcghc@shandong.cn", "idle": True,
                    "max_messages_per_run": 5000},
        "smtp": {"url": smtp_url, "from": "dsjjzcghc@shandong.cn"},
        "database": {"url": db_url},
        "storage": {"url": bucket_url, "endpoint": endpoint},
        "processing": {"workers": workers},
        "schedule": {"poll_seconds": 5, "process_seconds": 2, "outbox_seconds": 2},
        "notify": {"new_address_hourly_cap": 10_000},
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value}
    root.mkdir(parents=True, exist_ok=True)
    path = root / CONFIG
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def make_hosts(base: Path, roles: Iterable[tuple[str, str]], env: dict[str, str], *, once: bool = False,
               **config: object) -> list[Host]:
    """A folder and a cache per (name, role) under *base*; each host's config from *config*."""
    hosts = []
    for name, role in roles:
        root = base / name
        host_config(root, **config)  # type: ignore[arg-type]
        hosts.append(Host(name, root, role, cache=base / "caches" / name, env=dict(env), once=once))
    return hosts


def wait_for(predicate: Callable[[], bool], seconds: float, *, every: float = 0.5,
             while_running: Iterable[Host] = ()) -> bool:
    """Until *predicate* holds (True) or *seconds* pass (False); stops early if a host
    that should be running has exited."""
    watched = list(while_running)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        if any(not h.running for h in watched):
            return predicate()
        time.sleep(every)
    return predicate()


def started(hosts: Iterable[Host], seconds: float = 120) -> bool:
    """Every host has logged that it runs (schema migrated, mailbox reached for the poller)."""
    hosts = list(hosts)
    return wait_for(lambda: all("jiebang running" in h.log_text() for h in hosts), seconds,
                    while_running=hosts)
