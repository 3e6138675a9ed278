"""`jiebang web --port P` and `jiebang run` with ``web.enabled`` serve the workspace on
127.0.0.1, on the same database as everything else (real processes, a plain HTTP client)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from support.browser import free_port
from support.helpers import REPO, write_config
from support.web import PASSWORD, Workspace, csrf_of


def _start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tracker.cli", *args], cwd=REPO, env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for(url: str, proc: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _config(ws: Workspace, folder: Path, **sections: dict) -> Path:
    return write_config(folder, db_url=str(ws.app.settings.database_url), storage={"path": str(ws.app.settings.storage_path)},
                        **sections)


def test_jiebang_web_serves_the_contract(workspace: Workspace, tmp_path: Path) -> None:
    port = free_port()
    proc = _start("web", "--port", str(port), "--config", str(_config(workspace, tmp_path / "web")))
    try:
        base = f"http://127.0.0.1:{port}"
        assert _wait_for(f"{base}/login", proc).status_code == 200
        with httpx.Client(base_url=base) as client:
            anonymous = client.get("/submissions")
            assert anonymous.status_code in (303, 401) and workspace.jinan not in anonymous.text
            form = client.get("/login")
            answer = client.post("/login", data={"username": "alice", "password": PASSWORD,
                                                 "csrf_token": csrf_of(form.text)})
            assert answer.status_code == 303
            listing = client.get("/submissions")
            assert workspace.jinan in listing.text and workspace.weifang in listing.text
            assert "潍坊市数据港科技有限公司" in client.get(f"/submissions/{workspace.weifang}").text
    finally:
        _stop(proc)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1][:3]
    except FileNotFoundError:
        return False


def test_jiebang_run_serves_it_in_a_process_of_its_own_when_enabled(workspace: Workspace, tmp_path: Path) -> None:
    port = free_port()
    config = _config(workspace, tmp_path / "run", web={"enabled": True, "port": port},
                     processing={"workers": 0}, schedule={"poll_seconds": 3600})
    proc = _start("run", "--config", str(config))
    try:
        page = _wait_for(f"http://127.0.0.1:{port}/login", proc)
        assert page.status_code == 200 and 'name="csrf_token"' in page.text
        web = [pid for pid in _children(proc.pid) if b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert web, "the workspace is not a process of its own"
    finally:
        _stop(proc)
    assert proc.returncode == 0
    for pid in web:  # stopped with the service (it is told to; a loaded machine may take a moment)
        gone = time.monotonic() + 20
        while _running(pid):
            assert time.monotonic() < gone, "the workspace outlived the service"
            time.sleep(0.2)
    try:
        httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
        raise AssertionError("the workspace still answers after the service stopped")
    except httpx.TransportError:
        pass
