"""A private Dovecot IMAP server on 127.0.0.1 for tests.

Everything lives in a fresh ``/tmp/jiebang-dovecot-*`` directory (own
``dovecot.conf`` passed with ``-c``, own ``base_dir`` / ``state_dir``, Maildir
store, passwd-file with plain passwords); ``/etc/dovecot`` and
``/var/run/dovecot`` are never touched.  The directory is created outside
pytest's ``tmp_path`` because pytest's base temp dir is mode 0700 and Dovecot's
unprivileged processes (``mail`` for mailbox access, ``dovecot`` for the auth
process reading the passwd-file) must be able to reach it.  The log is copied
into ``tmp_path`` when the instance is closed.

Typical use::

    with Dovecot(tmp_path) as dv:
        uid = dv.append(b"Subject: hi\\r\\n\\r\\nbody\\r\\n")
        client = dv.client()          # logged-in imapclient.IMAPClient

Settings worth knowing about (see ``_render_config``):

* ``first_valid_uid`` must be lowered: ``mail`` is uid 8, below the default 500,
  and Dovecot refuses to access mail as uid 0 when running as root.
* Authentication penalties are disabled by *not* providing the
  ``anvil-auth-penalty`` socket.  ``login_trusted_networks`` alone does not stop
  them, and after a few failed logins even *correct* logins from 127.0.0.1 get
  delayed by 2-15 s.  Note that Dovecot 2.3 still answers every failed login
  after ~0.5 s (a hard-coded flush timer; ``auth_failure_delay = 0`` does not
  remove it).
* ``mail_max_userip_connections`` defaults to 10 per user and IP; raised.
* ``mailbox_idle_check_interval = 1 secs`` so IDLE notices changes quickly even
  if inotify were unavailable (with inotify, EXISTS arrives in ~0.5 s).
"""

from __future__ import annotations

import contextlib
import getpass
import grp
import math
import os
import pwd
import re
import shutil
import signal
import ssl
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from imapclient import IMAPClient

from . import (
    LOOPBACK,
    ServerError,
    free_port,
    iter_processes,
    kill_process_group,
    private_dir,
    register_cleanup,
    remove_tree,
    set_parent_death_signal,
    tail,
    unregister_cleanup,
    wait_for,
    wait_for_port,
)

__all__ = ["Dovecot", "find_dovecot"]

DEFAULT_USER = "jiebang"
DEFAULT_PASSWORD = "secret"

_APPENDUID_RE = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")


def find_dovecot() -> str:
    """Path of the ``dovecot`` master binary, or raise :class:`ServerError`."""
    candidates = [shutil.which("dovecot"), "/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise ServerError(
        "dovecot binary not found (looked in PATH, /usr/sbin, /usr/local/sbin); "
        "install Debian's dovecot-imapd"
    )


class Dovecot:
    """A private Dovecot instance (IMAP only) listening on 127.0.0.1.

    ``users`` maps user name -> plain password; the first entry becomes
    :attr:`user` / :attr:`password` (default ``jiebang`` / ``secret``).
    ``tls=True`` additionally opens an implicit-TLS (IMAPS) listener on
    :attr:`tls_port` with a self-signed certificate from ``trustme`` (note that
    the plain port then also advertises STARTTLS); trust it with
    :meth:`ssl_context` or :attr:`ca_cert`.
    """

    def __init__(
        self,
        tmp_path: Path | str,
        users: Mapping[str, str] | None = None,
        *,
        tls: bool = False,
        start_timeout: float = 10.0,
    ) -> None:
        self.tmp_path = Path(tmp_path)
        self.users: dict[str, str] = dict(users) if users else {DEFAULT_USER: DEFAULT_PASSWORD}
        for name, password in self.users.items():
            _check_passwd_field("user name", name)
            _check_passwd_field("password", password)
        self.user, self.password = next(iter(self.users.items()))
        self.host = LOOPBACK
        self.port = free_port()
        self.tls_port: int | None = None
        if tls:
            while (tls_port := free_port()) == self.port:
                pass
            self.tls_port = tls_port
        self.start_timeout = start_timeout
        self.binary = find_dovecot()

        self.root = private_dir("jiebang-dovecot-")
        register_cleanup(self, self._emergency_cleanup)
        os.chmod(self.root, 0o755)
        self.base_dir = self.root / "run"
        self.state_dir = self.root / "state"
        self.mail_dir = self.root / "mail"
        self.config_path = self.root / "dovecot.conf"
        self.passwd_path = self.root / "passwd"
        self.log_path = self.root / "dovecot.log"
        self.stderr_path = self.root / "dovecot.stderr"
        self.ca_cert: Path | None = None
        self._server_pem: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr_fh = None
        self._closed = False
        # process titles become "dovecot-<instance_name>/<service>": findable by dir name
        self.instance_name = self.root.name

        try:
            self._prepare_files()
        except BaseException:
            self.close()
            raise

    # ----------------------------------------------------------------- properties

    @property
    def url(self) -> str:
        """``imap://USER@127.0.0.1:PORT/INBOX`` (the password is not included)."""
        return f"imap://{quote(self.user, safe='')}@{self.host}:{self.port}/INBOX"

    @property
    def tls_url(self) -> str | None:
        if self.tls_port is None:
            return None
        return f"imaps://{quote(self.user, safe='')}@{self.host}:{self.tls_port}/INBOX"

    @property
    def pid(self) -> int | None:
        """PID of the Dovecot master process while running."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def maildir(self, user: str | None = None) -> Path:
        """On-disk Maildir root of *user* (default: :attr:`user`)."""
        return self.mail_dir / (user or self.user) / "Maildir"

    def log_text(self) -> str:
        """Contents of Dovecot's log file (handy in assertion messages)."""
        parts = []
        for path in (self.stderr_path, self.log_path):
            with contextlib.suppress(OSError):
                parts.append(path.read_text("utf-8", "replace"))
        return "".join(parts)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return (
            f"<Dovecot {self.host}:{self.port} tls_port={self.tls_port} {state} root={self.root}>"
        )

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Dovecot:
        if self._closed:
            raise ServerError("this Dovecot instance was closed")
        if self.running:
            return self
        # base_dir holds only runtime state (sockets, pid file).  Starting from a
        # fresh one avoids stale sockets (a stale anvil-auth-penalty socket makes
        # the first login hang for ~5 s).
        remove_tree(self.base_dir)
        self.base_dir.mkdir(mode=0o755)
        self._stderr_fh = open(self.stderr_path, "ab")  # noqa: SIM115 - closed in stop()
        try:
            self._proc = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=self._stderr_fh,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                start_new_session=True,  # own process group: kill everything in one go
                preexec_fn=set_parent_death_signal(signal.SIGTERM),
                env=_clean_env(),
            )
        except BaseException:
            self._stderr_fh.close()
            self._stderr_fh = None
            raise
        try:
            wait_for_port(
                self.host,
                self.port,
                self.start_timeout,
                banner=b"* OK",
                alive=lambda: self._proc is not None and self._proc.poll() is None,
            )
            if self.tls_port is not None:
                wait_for_port(self.host, self.tls_port, self.start_timeout)
        except (TimeoutError, ServerError) as exc:
            self.stop(graceful=False)
            raise ServerError(
                f"Dovecot did not start on {self.host}:{self.port}: {exc}\n"
                f"--- {self.stderr_path}:\n{tail(self.stderr_path)}\n"
                f"--- {self.log_path}:\n{tail(self.log_path)}"
            ) from exc
        return self

    def stop(self, graceful: bool = True) -> None:
        """Stop the server and every process it spawned.

        ``graceful`` sends SIGTERM to the master first (takes ~1 s, Dovecot's own
        shutdown wait); otherwise the whole process group is SIGKILLed at once,
        which is safe for Maildir and instant.  Either way no process of this
        instance survives (Dovecot leaves ``imap`` workers running after the
        master exits, so they are always killed explicitly).
        """
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if graceful and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
        finally:
            kill_process_group(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            if self._stderr_fh is not None:
                self._stderr_fh.close()
                self._stderr_fh = None

    def restart(self, graceful: bool = True) -> Dovecot:
        """Stop and start a new master process on the same port(s) and mail store."""
        self.stop(graceful=graceful)
        return self.start()

    def close(self) -> None:
        """Stop (fast) and delete the instance directory; the log is kept in tmp_path."""
        if self._closed:
            return
        self._closed = True
        try:
            self.stop(graceful=False)
        finally:
            with contextlib.suppress(OSError):
                if self.log_path.exists() and self.tmp_path.is_dir():
                    shutil.copyfile(self.log_path, self.tmp_path / f"dovecot-{self.port}.log")
            remove_tree(self.root)
            unregister_cleanup(self)

    def _emergency_cleanup(self) -> None:  # atexit
        proc = self._proc
        if proc is not None:
            kill_process_group(proc.pid, signal.SIGKILL, timeout=2)
        remove_tree(self.root)

    def __enter__(self) -> Dovecot:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def penalised_ips(self) -> list[str]:
        """The client IPs this instance's anvil holds an authentication penalty for
        (``doveadm penalty``): each failed login from one of them delays the next login
        by 2-15 s. Empty while penalties are disabled (see the module docstring)."""
        doveadm = shutil.which("doveadm") or str(Path(self.binary).with_name("doveadm"))
        result = subprocess.run(
            [doveadm, "-c", str(self.config_path), "penalty"],
            capture_output=True, text=True, timeout=30, env=_clean_env(), check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise ServerError(f"doveadm penalty failed: {result.stderr.strip()}")
        lines = result.stdout.splitlines()[1:]  # the first is the "IP penalty ..." header
        return [line.split()[0] for line in lines if line.strip()]

    def imap_pids(self) -> list[int]:
        """PIDs of this instance's live ``imap`` worker processes (one per logged-in client)."""
        master = self.pid
        if master is None:
            return []
        return [
            pid
            for pid, comm, state, ppid, _pgrp in iter_processes()
            if ppid == master and comm == "imap" and state not in ("Z", "X")
        ]

    def kill_imap_processes(self, timeout: float = 5.0) -> int:
        """SIGKILL every ``imap`` worker of this instance, dropping all logged-in clients.

        Only children of this instance's master are touched.  The master keeps
        running, so new connections work immediately afterwards.  Returns the
        number of processes killed.
        """
        pids = self.imap_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if pids:
            wait_for(
                lambda: not set(pids) & set(self.imap_pids()),
                timeout,
                what="killed imap processes to exit",
            )
        return len(pids)

    # ----------------------------------------------------------------- users

    def add_user(self, user: str, password: str) -> None:
        """Add a user or change a password; in effect when this returns.

        Dovecot re-checks the passwd-file at most once per wall-clock second
        (and only notices a different mtime or size), so while the server runs
        this forces a new mtime and waits for the next second (< 1 s).
        """
        _check_passwd_field("user name", user)
        _check_passwd_field("password", password)
        self.users[user] = password
        self._write_passwd()
        if self.running:
            now = time.time()
            time.sleep(math.ceil(now) - now + 0.02)

    # ----------------------------------------------------------------- IMAP helpers

    def ssl_context(self) -> ssl.SSLContext:
        """Client SSL context trusting this instance's self-signed CA (tls=True only)."""
        if self.ca_cert is None:
            raise ServerError("Dovecot was created without tls=True")
        return ssl.create_default_context(cafile=str(self.ca_cert))

    def client(
        self,
        user: str | None = None,
        password: str | None = None,
        *,
        tls: bool = False,
        timeout: float = 10.0,
    ) -> IMAPClient:
        """A new logged-in :class:`imapclient.IMAPClient`; the caller must close it."""
        user = user or self.user
        if password is None:
            password = self.users[user]
        if tls:
            if self.tls_port is None:
                raise ServerError("Dovecot was created without tls=True")
            client = IMAPClient(
                self.host, self.tls_port, ssl=True, ssl_context=self.ssl_context(), timeout=timeout
            )
        else:
            client = IMAPClient(self.host, self.port, ssl=False, timeout=timeout)
        try:
            client.login(user, password)
        except BaseException:
            with contextlib.suppress(Exception):
                client.shutdown()
            raise
        return client

    @contextlib.contextmanager
    def session(self, user: str | None = None) -> Iterator[IMAPClient]:
        """``with dv.session() as c:`` - a logged-in client that is logged out afterwards."""
        client = self.client(user)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()
            with contextlib.suppress(Exception):
                client.shutdown()

    def append(
        self,
        raw: bytes,
        folder: str = "INBOX",
        flags: Iterable[str | bytes] = (),
        date: datetime | None = None,
        *,
        user: str | None = None,
    ) -> int:
        """APPEND *raw* to *folder* and return the new UID (from UIDPLUS's APPENDUID)."""
        with self.session(user) as c:
            response = c.append(folder, raw, flags=tuple(flags), msg_time=date)
        match = _APPENDUID_RE.search(response or b"")
        if match is None:
            raise ServerError(f"APPEND response without APPENDUID: {response!r}")
        return int(match.group(2))

    def create_folder(self, name: str, *, user: str | None = None) -> None:
        with self.session(user) as c:
            c.create_folder(name)
            with contextlib.suppress(Exception):
                c.subscribe_folder(name)

    def delete_folder(self, name: str, *, user: str | None = None) -> None:
        with self.session(user) as c:
            c.delete_folder(name)

    def recreate_folder(self, name: str, *, user: str | None = None) -> int:
        """Delete (if present) and create *name*; return its new, different UIDVALIDITY."""
        with self.session(user) as c:
            old = (
                c.folder_status(name, [b"UIDVALIDITY"])[b"UIDVALIDITY"]
                if c.folder_exists(name)
                else None
            )
            for _attempt in range(5):
                if c.folder_exists(name):
                    c.delete_folder(name)
                c.create_folder(name)
                new = c.folder_status(name, [b"UIDVALIDITY"])[b"UIDVALIDITY"]
                if new != old:
                    with contextlib.suppress(Exception):
                        c.subscribe_folder(name)
                    return int(new)
        raise ServerError(f"UIDVALIDITY of {name!r} did not change after recreating it ({old})")

    def folder_exists(self, name: str, *, user: str | None = None) -> bool:
        with self.session(user) as c:
            return bool(c.folder_exists(name))

    def folders(self, *, user: str | None = None) -> list[str]:
        with self.session(user) as c:
            return [name for _flags, _delim, name in c.list_folders()]

    def uidvalidity(self, folder: str = "INBOX", *, user: str | None = None) -> int:
        with self.session(user) as c:
            return int(c.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])

    def uidnext(self, folder: str = "INBOX", *, user: str | None = None) -> int:
        with self.session(user) as c:
            return int(c.folder_status(folder, [b"UIDNEXT"])[b"UIDNEXT"])

    def count(self, folder: str = "INBOX", *, user: str | None = None) -> int:
        with self.session(user) as c:
            return int(c.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"])

    def uids(self, folder: str = "INBOX", *, user: str | None = None) -> list[int]:
        with self.session(user) as c:
            c.select_folder(folder, readonly=True)
            return sorted(int(u) for u in c.search("ALL"))

    def flags(
        self, folder: str = "INBOX", *, user: str | None = None
    ) -> dict[int, tuple[bytes, ...]]:
        """``{uid: flags}`` for every message in *folder*, as imapclient returns them.

        Flags are ``bytes`` (``b"\\Seen" in dv.flags()[uid]``), in server order.  The
        session-specific ``\\Recent`` flag is left out so results do not depend on
        which session looked first.
        """
        with self.session(user) as c:
            c.select_folder(folder, readonly=True)
            uids = c.search("ALL")
            if not uids:
                return {}
            data = c.fetch(uids, [b"FLAGS"])
        return {
            int(uid): tuple(
                flag
                for flag in (_encode_flag(f) for f in item.get(b"FLAGS", ()))
                if flag.lower() != b"\\recent"
            )
            for uid, item in sorted(data.items())
        }

    def messages(self, folder: str = "INBOX", *, user: str | None = None) -> dict[int, bytes]:
        """``{uid: raw message bytes}`` for *folder* (fetched with BODY.PEEK, flags untouched)."""
        with self.session(user) as c:
            c.select_folder(folder, readonly=True)
            uids = c.search("ALL")
            if not uids:
                return {}
            data = c.fetch(uids, [b"BODY.PEEK[]"])
        return {int(uid): bytes(item[b"BODY[]"]) for uid, item in sorted(data.items())}

    # ----------------------------------------------------------------- files

    def _prepare_files(self) -> None:
        self.state_dir.mkdir(mode=0o750)
        self.mail_dir.mkdir(mode=0o750)
        if os.geteuid() == 0:
            mail = pwd.getpwnam("mail")
            os.chown(self.mail_dir, mail.pw_uid, mail.pw_gid)
            for required in ("dovecot", "dovenull"):
                try:
                    pwd.getpwnam(required)
                except KeyError as exc:
                    raise ServerError(
                        f"system user {required!r} missing; install Debian's dovecot-core"
                    ) from exc
        if self.tls_port is not None:
            self._make_certificate()
        self._write_passwd()
        self.config_path.write_text(self._render_config(), "utf-8")

    def _make_certificate(self) -> None:
        import trustme

        tls_dir = self.root / "tls"
        tls_dir.mkdir(mode=0o755)
        ca = trustme.CA()
        cert = ca.issue_cert(self.host, "localhost")
        self._server_pem = tls_dir / "server.pem"
        cert.private_key_and_cert_chain_pem.write_to_path(str(self._server_pem))
        os.chmod(self._server_pem, 0o600)  # read by the (root) config process only
        self.ca_cert = tls_dir / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_cert))

    def _write_passwd(self) -> None:
        # user:password:uid:gid:gecos:home:shell:extra - uid/gid/home come from
        # the global mail_uid/mail_gid/mail_home settings.
        lines = "".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.users.items())
        tmp = self.passwd_path.with_suffix(".tmp")
        tmp.write_text(lines, "utf-8")
        os.chmod(tmp, 0o644)  # the auth process runs as the unprivileged "dovecot" user
        with contextlib.suppress(FileNotFoundError):
            mtime = int(self.passwd_path.stat().st_mtime) + 1  # always a different mtime
            os.utime(tmp, (mtime, mtime))
        os.replace(tmp, self.passwd_path)

    def _render_config(self) -> str:
        if os.geteuid() == 0:
            mail_user, mail_group = "mail", "mail"
            uid, gid = pwd.getpwnam("mail").pw_uid, grp.getgrnam("mail").gr_gid
            privilege = ""
            no_chroot = ""
        else:  # best effort when not root: everything runs as the current user
            mail_user = getpass.getuser()
            mail_group = grp.getgrgid(os.getegid()).gr_name
            uid, gid = os.geteuid(), os.getegid()
            privilege = f"""
default_internal_user = {mail_user}
default_internal_group = {mail_group}
default_login_user = {mail_user}
service imap-urlauth-login {{
  chroot =
}}
"""
            no_chroot = "\n  chroot ="
        if self.tls_port is not None:
            tls = f"""
ssl = yes
ssl_cert = <{self._server_pem}
ssl_key = <{self._server_pem}
"""
            imaps_listener = f"""
  inet_listener imaps {{
    address = {self.host}
    port = {self.tls_port}
    ssl = yes
  }}"""
        else:
            tls = "\nssl = no\n"
            imaps_listener = """
  inet_listener imaps {
    port = 0
  }"""
        return f"""# generated by tests/servers/dovecot.py - private test instance
base_dir = {self.base_dir}
state_dir = {self.state_dir}
instance_name = {self.instance_name}
protocols = imap
listen = {self.host}
shutdown_clients = yes
verbose_proctitle = no
log_path = {self.log_path}
info_log_path = {self.log_path}
{privilege}{tls}
# authentication: plain passwords, no penalties for failed logins
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
auth_cache_size = 0
auth_verbose = yes
login_trusted_networks = 127.0.0.0/8
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd_path}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.passwd_path}
}}
service anvil {{{no_chroot}
  # Without this socket the auth process cannot track per-IP penalties.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}

# mail storage
mail_uid = {mail_user}
mail_gid = {mail_group}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_home = {self.mail_dir}/%u
mail_location = maildir:~/Maildir
mail_fsync = never
mailbox_idle_check_interval = 1 secs
namespace inbox {{
  inbox = yes
  separator = /
}}
protocol imap {{
  mail_max_userip_connections = 1000
  # log the client's ID (RFC 2971) so tests can see that jiebang sends one
  imap_id_log = *
}}

service imap-login {{{no_chroot}
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}{imaps_listener}
}}
"""


def _check_passwd_field(what: str, value: str) -> None:
    if not value or any(ch in value for ch in ":\n\r\t\0"):
        raise ValueError(f"{what} {value!r} cannot be stored in a Dovecot passwd-file")


def _encode_flag(flag: bytes | str) -> bytes:
    return flag if isinstance(flag, bytes) else flag.encode("utf-8")


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOVECOT", "LISTEN_"))}
    env.setdefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    return env
