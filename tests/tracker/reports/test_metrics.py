"""/metrics and /healthz: what the operator's monitoring reads (web.metrics: true)."""

from __future__ import annotations

from starlette.testclient import TestClient
from support.helpers import make_mail
from support.records import make_app
from support.servers import free_port

from tracker.pipeline.ingest import store_raw
from tracker.web.workspace import create_workspace


def test_metrics_count_the_queue_and_the_outbox_in_prometheus_text(tmp_path, db_url):
    app = make_app(tmp_path, db_url, web={"metrics": True})
    for i in range(3):
        store_raw(app.engine, app.blobs, make_mail(subject=f"来信 {i}"))
    with TestClient(create_workspace(app)) as client:
        page = client.get("/metrics")
        health = client.get("/healthz")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    lines = page.text.splitlines()
    assert 'jiebang_messages{state="stored"} 3.0' in lines
    assert 'jiebang_messages{state="processed"} 0.0' in lines
    assert "jiebang_queue_depth 3.0" in lines
    assert 'jiebang_outbox{state="held"} 0.0' in lines and "jiebang_held_replies 0.0" in lines
    assert health.status_code == 200 and health.json() == {"status": "ok", "database": "ok", "blobs": "ok"}


def test_health_is_503_naming_the_blob_store_when_it_cannot_be_reached(tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    app = make_app(tmp_path, db_url, web={"metrics": True},
                   storage={"url": "s3://gone/jb", "endpoint": f"http://127.0.0.1:{free_port()}"})
    with TestClient(create_workspace(app)) as client:
        health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["database"] == "ok" and health.json()["blobs"] != "ok"


def test_without_web_metrics_neither_page_exists(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    with TestClient(create_workspace(app)) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/healthz").status_code == 404
