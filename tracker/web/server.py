"""Serving the workspace with uvicorn: in the foreground (`jiebang web`), or beside the
service in a process of its own (`jiebang run` with ``web.enabled``).

A process, not a thread: the workspace's requests (argon2, previews, exports) then never
compete with the service's polling and sending for one interpreter, and a workspace in
trouble cannot stall the service. The service starts it and stops it (SIGTERM, then
SIGKILL after a grace period); should the service die without stopping it, the workspace
notices its parent is gone and stops itself.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.process import BaseProcess

import uvicorn

from tracker.app import App
from tracker.config import Settings
from tracker.web.workspace import create_workspace

log = logging.getLogger(__name__)


def server(app: App, *, host: str | None = None, port: int | None = None) -> uvicorn.Server:
    web = app.settings.web
    config = uvicorn.Config(
        create_workspace(app), host=host or web.host, port=web.port if port is None else port,
        proxy_headers=True, forwarded_allow_ips=web.forwarded_allow_ips,  # X-Forwarded-* only from the proxy
        server_header=False, log_level="info", access_log=False,
    )
    return uvicorn.Server(config)


def serve(app: App, *, host: str | None = None, port: int | None = None) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM)."""
    server(app, host=host, port=port).run()


class WebProcess:
    """The workspace served by a child process of the service."""

    def __init__(self, process: BaseProcess) -> None:
        self.process = process

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM (uvicorn finishes the requests in flight), SIGKILL after *grace* seconds."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(grace)
        if self.process.is_alive():
            log.warning("the web workspace did not stop within %.0f s: killed", grace)
            self.process.kill()
            self.process.join(5)


def spawn(app: App) -> WebProcess:
    """Start the workspace in a process of its own over *app*'s settings (its database is
    already migrated by the service); stop it with ``.stop()``."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no copied locks or threads
    process = context.Process(target=_child, args=(app.settings, os.getpid()), name="jiebang-web", daemon=True)
    process.start()
    log.info("web workspace started in process %s", process.pid)
    return WebProcess(process)


def _child(settings: Settings, parent: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    threading.Thread(target=_orphaned, args=(parent,), name="jiebang-web-parent", daemon=True).start()
    serve(App(settings))


def _orphaned(parent: int) -> None:
    """Stop (as on SIGTERM) once the service that started this process is gone."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)
