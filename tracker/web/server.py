"""Serving the workspace with uvicorn: in the foreground (`jiebang web`) or beside the
service in a thread (`jiebang run` with ``web.enabled``)."""

from __future__ import annotations

import threading

import uvicorn

from tracker.app import App
from tracker.web.workspace import create_workspace


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


def serve_in_thread(app: App) -> tuple[uvicorn.Server, threading.Thread]:
    """Serve beside the service; stop with ``srv.should_exit = True`` and ``thread.join()``."""
    srv = server(app)  # uvicorn leaves signals alone outside the main thread: the service owns them
    thread = threading.Thread(target=srv.run, name="jiebang-web", daemon=True)
    thread.start()
    return srv, thread
