"""A private PostgreSQL cluster on 127.0.0.1 for tests.

``initdb`` runs into a fresh ``/tmp/jiebang-pg-*`` directory; ``postgres`` is
started directly (no ``pg_ctl``, so we own the postmaster's PID) listening on
127.0.0.1 only, with its Unix socket in a private directory, ``trust`` auth and
durability switched off (``fsync``, ``synchronous_commit``, ``full_page_writes``).
PostgreSQL refuses to run as root, so when we are root the cluster directory is
chowned to the ``postgres`` system user and the server runs as that user.

    pg = Postgres().start()
    url = pg.create_database("t_abc")   # postgresql+psycopg://postgres@127.0.0.1:PORT/t_abc
    ...
    pg.halt()    # the server goes away (fast shutdown), its data and port are kept
    pg.start()   # ... and comes back: same port, same databases
    pg.stop()    # gone for good, directory deleted
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from . import (
    LOOPBACK,
    ServerError,
    free_port,
    kill_process_group,
    private_dir,
    register_cleanup,
    remove_tree,
    set_parent_death_signal,
    tail,
    unregister_cleanup,
)

if TYPE_CHECKING:
    import psycopg

__all__ = ["Postgres", "PostgresNotFound", "find_pg_bindir"]

SUPERUSER = "postgres"
_REQUIRED = ("initdb", "postgres")
_DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class PostgresNotFound(ServerError):
    """The PostgreSQL server binaries (initdb, postgres) are not installed."""


def _has_server_binaries(bindir: str | os.PathLike[str]) -> bool:
    return all(os.access(os.path.join(bindir, name), os.X_OK) for name in _REQUIRED)


def _version_key(path: str) -> tuple[int, ...]:
    match = re.search(r"/postgresql/([0-9.]+)/bin$", path)
    return tuple(int(p) for p in match.group(1).split(".") if p) if match else (0,)


def find_pg_bindir() -> Path:
    """Directory holding initdb/postgres: ``$JIEBANG_PG_BINDIR``, ``pg_config --bindir``,
    PATH, then the newest ``/usr/lib/postgresql/*/bin``."""
    candidates: list[str] = []
    if env := os.environ.get("JIEBANG_PG_BINDIR"):
        candidates.append(env)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out:
                candidates.append(out)
    if initdb := shutil.which("initdb"):
        candidates.append(os.path.dirname(initdb))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    candidates += sorted(glob.glob("/usr/pgsql-*/bin"), reverse=True)
    for candidate in candidates:
        if _has_server_binaries(candidate):
            return Path(candidate)
    raise PostgresNotFound(
        "PostgreSQL server binaries (initdb, postgres) not found via $JIEBANG_PG_BINDIR, "
        "pg_config --bindir, PATH or /usr/lib/postgresql/*/bin - install Debian's "
        "'postgresql' package (apt-get install postgresql)"
    )


class Postgres:
    """A private PostgreSQL server; :meth:`start` / :meth:`stop`, or use as a context manager."""

    def __init__(self, *, start_timeout: float = 60.0, max_connections: int = 300) -> None:
        self.bindir = find_pg_bindir()
        self.host = LOOPBACK
        self.port = free_port()
        self.user = SUPERUSER
        self.start_timeout = start_timeout
        self.max_connections = max_connections
        self.root: Path | None = None
        self.data_dir: Path | None = None
        self.socket_dir: Path | None = None
        self.log_path: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_fh: IO[bytes] | None = None
        self._run_as: tuple[int, int] | None = None  # (uid, gid) when we are root

    # ----------------------------------------------------------------- properties

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the default ``postgres`` database."""
        return self.url_for("postgres")

    def url_for(self, dbname: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def dsn(self, dbname: str = "postgres") -> str:
        """libpq connection string (for psycopg.connect)."""
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Postgres {self.host}:{self.port} {state} root={self.root}>"

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Postgres:
        if self.running:
            return self
        if self.root is None:
            self._initdb()
        # else: halted, its cluster kept: the same data directory comes back on the same port
        assert self.data_dir is not None and self.socket_dir is not None
        assert self.log_path is not None
        self._log_fh = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        cmd = [
            str(self.bindir / "postgres"),
            "-D", str(self.data_dir),
            "-p", str(self.port),
            "-k", str(self.socket_dir),
            "-c", f"listen_addresses={self.host}",
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
            "-c", f"max_connections={self.max_connections}",
            "-c", "shared_buffers=32MB",
            "-c", "logging_collector=off",
            "-c", "log_min_messages=warning",
            "-c", "log_min_error_statement=panic",
            "-c", "timezone=UTC",
        ]  # fmt: skip
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=self._log_fh,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                start_new_session=True,
                env=self._env(),
                **self._user_kwargs(),
                # SIGINT = "fast shutdown" should the test process die without cleanup.
                preexec_fn=set_parent_death_signal(signal.SIGINT),
            )
        except BaseException:
            self._log_fh.close()
            self._log_fh = None
            raise
        try:
            self._wait_ready()
        except BaseException as exc:
            self.stop()
            raise ServerError(
                f"PostgreSQL did not start on {self.host}:{self.port}: {exc}\n"
                f"--- {self.log_path}:\n{tail(self.log_path)}"
            ) from exc
        return self

    def halt(self) -> None:
        """Fast-shutdown the server but keep its directory and port: :meth:`start` brings
        the same cluster back (a database server restarted under its clients' feet).

        Sessions are aborted as in a real restart; clients see their connections drop and
        new ones refused until :meth:`start`.
        """
        proc, self._proc = self._proc, None
        try:
            if proc is not None:
                try:
                    if proc.poll() is None:
                        proc.send_signal(signal.SIGINT)  # fast shutdown: abort sessions
                        with contextlib.suppress(subprocess.TimeoutExpired):
                            proc.wait(timeout=15)
                finally:
                    # backends left behind would keep the port or the shared memory
                    kill_process_group(proc.pid, signal.SIGKILL)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(timeout=5)
        finally:
            if self._log_fh is not None:
                self._log_fh.close()
                self._log_fh = None

    def restart(self, down_seconds: float = 0.0) -> Postgres:
        """:meth:`halt`, stay down *down_seconds*, :meth:`start` again."""
        self.halt()
        time.sleep(down_seconds)
        return self.start()

    def stop(self) -> None:
        """Fast-shutdown the server and delete its directory."""
        try:
            self.halt()
        finally:
            if self.root is not None:
                remove_tree(self.root)
                self.root = self.data_dir = self.socket_dir = None
            unregister_cleanup(self)

    close = stop

    def _emergency_cleanup(self) -> None:  # atexit
        proc = self._proc
        if proc is not None:
            kill_process_group(proc.pid, signal.SIGKILL, timeout=2)
        if self.root is not None:
            remove_tree(self.root)

    def __enter__(self) -> Postgres:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------- databases

    def connect(self, dbname: str = "postgres", **kwargs: Any) -> psycopg.Connection[Any]:
        """A psycopg 3 connection (autocommit by default); caller closes it."""
        import psycopg

        kwargs.setdefault("autocommit", True)
        kwargs.setdefault("connect_timeout", 10)
        return psycopg.connect(self.dsn(dbname), **kwargs)

    def create_database(self, name: str) -> str:
        """CREATE DATABASE *name* (UTF8) and return its SQLAlchemy URL."""
        self._check_name(name)
        from psycopg import sql

        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE IF EXISTS *name*, terminating any sessions still connected."""
        self._check_name(name)
        from psycopg import sql

        with self.connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    @staticmethod
    def _check_name(name: str) -> None:
        if not _DB_NAME_RE.match(name) or name.lower() in ("postgres", "template0", "template1"):
            raise ValueError(f"invalid test database name {name!r}")

    # ----------------------------------------------------------------- internals

    def _user_kwargs(self) -> dict[str, Any]:
        if self._run_as is None:
            return {}
        uid, gid = self._run_as
        return {"user": uid, "group": gid, "extra_groups": []}

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C.UTF-8"
        env["LANG"] = "C.UTF-8"
        if self._run_as is not None:
            env["HOME"] = str(self.root)
            env["USER"] = env["LOGNAME"] = pwd.getpwuid(self._run_as[0]).pw_name
        return env

    def _initdb(self) -> None:
        # Not under pytest's tmp_path: that is 0700 root-owned, the postgres user
        # could not reach it.
        self.root = private_dir("jiebang-pg-")
        register_cleanup(self, self._emergency_cleanup)
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log_path = self.root / "postgres.log"
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise ServerError(
                    "running as root but there is no 'postgres' system user to run "
                    "PostgreSQL as (install Debian's postgresql package)"
                ) from exc
            self._run_as = (pw.pw_uid, pw.pw_gid)
            for path in (self.root, self.socket_dir):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o700)
        cmd = [
            str(self.bindir / "initdb"),
            "-D", str(self.data_dir),
            "-U", SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
            "--no-instructions",
        ]  # fmt: skip
        started = time.monotonic()
        result = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            cwd=self.root,
            env=self._env(),
            timeout=120,
            **self._user_kwargs(),
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode("utf-8", "replace")
            raise ServerError(f"initdb failed ({result.returncode}):\n{output}")
        self.initdb_seconds = time.monotonic() - started

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + self.start_timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise ServerError("postgres exited during startup")
            try:
                with psycopg.connect(self.dsn(), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:  # starting up / not listening yet
                last = exc
            time.sleep(0.05)
        raise TimeoutError(f"not accepting connections after {self.start_timeout:.0f}s ({last})")
