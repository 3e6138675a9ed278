"""config.yaml (docs/contracts.md, "config.yaml"): the keys parse; mistakes give one line naming the key, exit 2."""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from support.helpers import REPO, SHARED, jiebang

from tracker.config import ConfigError, Secrets, load_settings


def test_shipped_config_and_init_output_load(tmp_path):
    settings = load_settings(REPO / "config.yaml")
    assert settings.role == "province"
    assert settings.campaign.deadlines.direct == date(2025, 1, 20)
    assert len(settings.cities) == 16
    assert settings.database_url == f"sqlite:///{REPO / 'var' / 'jiebang.db'}"

    result = jiebang("init", "--role", "city", "--city", "济南市", config=tmp_path / "c.yaml")
    assert result.returncode == 0, result.stderr
    city = load_settings(tmp_path / "c.yaml")
    assert (city.role, city.city) == ("city", "济南市")
    assert "授权码" in (tmp_path / "c.yaml").read_text(encoding="utf-8")  # QQ Mail hint for operators


@pytest.mark.skipif(not SHARED.exists(), reason="../shared not beside the checkout")
def test_sample_config_from_shared_loads():
    settings = load_settings(SHARED / "samples" / "config.yaml")
    policy = settings.round_policy()
    assert policy.city_for_sender("QINGDAO-DSJ@dsj.qingdao.example") == "青岛市"
    assert "dsjjzcghc@shandong.cn" in policy.own_addresses


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"mailbox": {"url": "pop3://x@y"}}, "mailbox.url: unsupported scheme 'pop3'"),
        ({"mailbox": {"password": "hunter2"}}, "mailbox.password: secrets are not read from config.yaml"),
        ({"campaign": {"deadlines": {"direct": "2025-13-40"}}}, "campaign.deadlines.direct"),
        ({"campaign": {"timezone": "Mars/Olympus"}}, "campaign.timezone: unknown time zone"),
        ({"role": "city"}, "role: city needs city"),
        ({"cities": {"北京市": {}}}, "'北京市' is not one of Shandong's 16 cities"),
        ({"mailbox": {"urll": "maildir:x"}}, "mailbox.urll: unknown key"),
        ({"mailbox": {"url": "imaps://u:pw@host/INBOX"}}, "mailbox.url: remove the password"),
        ({"mailbox": {"after_commit": "move"}}, "move needs move_to"),
    ],
)
def test_config_errors_name_the_key(tmp_path, data, expected):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_cli_config_error_is_one_line_exit_2(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("database:\n  url: mysql://nope\n", encoding="utf-8")
    result = jiebang("messages", config=path)
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "database.url" in lines[0]
    assert "Traceback" not in result.stderr.decode()


def test_missing_config_file_is_explained(tmp_path):
    result = jiebang("run", "--once", config=tmp_path / "absent.yaml")
    assert result.returncode == 2
    assert "jiebang init" in result.stderr.decode()


def test_secrets_come_from_environment_or_files(tmp_path, monkeypatch):
    secret_file = tmp_path / "pw"
    secret_file.write_text("from-file\n")
    monkeypatch.setenv("JIEBANG_IMAP_PASSWORD_FILE", str(secret_file))
    monkeypatch.setenv("JIEBANG_SMTP_PASSWORD", "from-env")
    secrets = Secrets()
    assert secrets.imap_secret() == "from-file"
    assert secrets.smtp_secret() == "from-env"


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    folder = tmp_path / "deploy"
    folder.mkdir()
    (folder / "config.yaml").write_text("storage: {path: blobs}\ndatabase: {url: 'sqlite:///db/j.db'}\n")
    settings = load_settings(folder / "config.yaml")
    assert settings.storage_path == folder / "blobs"
    assert settings.database_url == f"sqlite:///{folder / 'db' / 'j.db'}"


# --- the database password: only from the environment -----------------------------------------------
PG_URL = "postgresql+psycopg://jiebang@db.example.internal:5432/jiebang"


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://jiebang:hunter2@127.0.0.1/jiebang",
    "postgresql://jiebang:@127.0.0.1:5432/jiebang",
    "postgresql+psycopg://jiebang@127.0.0.1/jiebang?sslmode=require&Password=hunter2",
])
def test_a_password_in_database_url_is_refused(tmp_path, url):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": url}}), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert "database.url: remove the password" in message and "JIEBANG_DATABASE_PASSWORD" in message
    assert "\n" not in message and "hunter2" not in message


def _app(tmp_path, url, secrets):
    from tracker.app import App

    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"database": {"url": url}}), encoding="utf-8")
    return App(load_settings(tmp_path / "config.yaml"), secrets=secrets)


def test_the_database_password_from_the_environment_reaches_the_engine(tmp_path, monkeypatch):
    tricky = "p@ss:w/rd%?#"  # needs escaping in a URL
    monkeypatch.setenv("JIEBANG_DATABASE_PASSWORD", tricky)
    app = _app(tmp_path, PG_URL, Secrets())
    engine = app.engine  # creating an engine does not connect
    assert engine.url.password == tricky
    assert (engine.url.username, engine.url.host, engine.url.port, engine.url.database) == (
        "jiebang", "db.example.internal", 5432, "jiebang")
    assert tricky not in repr(engine.url) and tricky not in str(app.database_url) and tricky not in repr(engine)


def test_the_database_password_file_variant(tmp_path, monkeypatch):
    secret_file = tmp_path / "db-password"
    secret_file.write_text("from-file\n", encoding="utf-8")
    monkeypatch.delenv("JIEBANG_DATABASE_PASSWORD", raising=False)
    monkeypatch.setenv("JIEBANG_DATABASE_PASSWORD_FILE", str(secret_file))
    assert Secrets().database_secret() == "from-file"
    assert _app(tmp_path, PG_URL, Secrets()).engine.url.password == "from-file"


def test_without_a_database_password_the_url_is_used_as_configured(tmp_path, monkeypatch):
    monkeypatch.delenv("JIEBANG_DATABASE_PASSWORD", raising=False)
    monkeypatch.delenv("JIEBANG_DATABASE_PASSWORD_FILE", raising=False)
    assert _app(tmp_path, PG_URL, Secrets()).engine.url.password is None
    monkeypatch.setenv("JIEBANG_DATABASE_PASSWORD", "unused")
    engine = _app(tmp_path, "sqlite:///var/j.db", Secrets()).engine  # SQLite has no password
    assert engine.url.password is None and engine.url.database == str(tmp_path / "var" / "j.db")


@pytest.mark.parametrize(("section", "url", "registry"), [
    ("mailbox", "pop3://jb@mail.example.cn", "intake.sources:SOURCES"),
    ("smtp", "lmtp://127.0.0.1:24", "notifier.transports:TRANSPORTS"),
])
def test_an_unknown_scheme_is_refused_at_load_naming_the_registered_ones(tmp_path, section, url, registry):
    """What config.yaml may name is what the adapters' registries hold: one list, one message."""
    import importlib

    module, _, name = registry.partition(":")
    allowed = getattr(importlib.import_module(module), name)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({section: {"url": url}}), encoding="utf-8")
    result = jiebang("run", "--once", config=path)
    assert result.returncode == 2
    (line,) = result.stderr.decode().strip().splitlines()
    assert f"{section}.url: unsupported scheme" in line
    assert f"(allowed: {', '.join(allowed)})" in line


def _setting_paths(model, prefix=""):
    """Every key of the settings model, as config.yaml spells it: (dotted path, the field's model
    or None for a leaf, the model of each entry when the value is a mapping or list of sections)."""
    import typing

    from pydantic import BaseModel

    for name, field in model.model_fields.items():
        if field.exclude:  # base_dir: where the file was read from, not a setting
            continue
        path = f"{prefix}{field.alias or name}"
        kind = field.annotation
        section = kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None
        args = typing.get_args(kind)
        entries = args[-1] if args and isinstance(args[-1], type) and issubclass(args[-1], BaseModel) else None
        yield path, name, section, entries
        if section is not None:
            yield from _setting_paths(section, path + ".")


def test_init_writes_every_setting_with_its_default_and_a_comment(tmp_path):
    """`jiebang init` writes every key of the settings model — derived from the model, so a new
    setting without its line in the file fails here — with the default value and a comment."""
    import re

    from tracker.config import Settings

    target = tmp_path / "config.yaml"
    result = jiebang("init", config=target)
    assert result.returncode == 0, result.stderr
    text = target.read_text(encoding="utf-8")
    written = yaml.safe_load(text)
    loaded, defaults = load_settings(target), Settings()
    # what init fills in on purpose: the provincial mailbox's own addresses and the 16 cities
    filled = {"province.address", "mailbox.address", "smtp.from", "cities"}

    leaves = set()
    for path, name, section, entries in _setting_paths(Settings):
        node = written
        for key in path.split("."):
            assert isinstance(node, dict) and key in node, f"`jiebang init` does not write {path}"
            node = node[key]
        if section is not None:
            continue
        leaves.add(path)
        if entries is not None:  # cities, campaign.directions: every entry spells every key
            for entry in node.values() if isinstance(node, dict) else node:
                assert set(entry) == {f.alias or n for n, f in entries.model_fields.items()}, (path, entry)
        if path not in filled:
            owner_loaded, owner_default = loaded, defaults
            for key in path.split(".")[:-1]:
                owner_loaded, owner_default = getattr(owner_loaded, key), getattr(owner_default, key)
            assert getattr(owner_loaded, name) == getattr(owner_default, name), f"{path}: not the default"

    # every key's line says what it means: a comment on it or right above it
    stack: list[tuple[int, str]] = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        match = re.match(r"^( *)([a-z_]+):(.*)$", line)
        if not match:
            continue
        indent, key, rest = len(match[1]), match[2], match[3]
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = ".".join([k for _, k in stack] + [key])
        stack.append((indent, key))
        if path in leaves:
            above = lines[number - 1].strip() if number else ""
            assert "#" in rest or above.startswith("#"), f"{path}: no comment says what it means"


def test_every_setting_is_listed_in_docs_contracts():
    """docs/contracts.md's config.yaml table names every key of the settings model."""
    from tracker.config import Settings

    table = (REPO / "docs" / "contracts.md").read_text(encoding="utf-8").split("## config.yaml", 1)[1]
    missing = [path for path, _name, section, _entries in _setting_paths(Settings)
               if section is None and f"| `{path}` |" not in table]
    assert not missing, f"docs/contracts.md does not list {missing}"


def test_the_object_stores_keys_come_from_the_environment_by_specs_names(tmp_path, monkeypatch) -> None:
    from tracker.config import Secrets

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert Secrets().s3_keys() == {}
    secret_file = tmp_path / "s3-secret"
    secret_file.write_text("s3cr3t\n", encoding="utf-8")
    monkeypatch.setenv("JIEBANG_S3_ACCESS_KEY", "jiebang-key")
    monkeypatch.setenv("JIEBANG_S3_SECRET_KEY_FILE", str(secret_file))
    assert Secrets().s3_keys() == {"AWS_ACCESS_KEY_ID": "jiebang-key", "AWS_SECRET_ACCESS_KEY": "s3cr3t"}
    monkeypatch.delenv("JIEBANG_S3_ACCESS_KEY")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "tool-key")  # the S3 tools' convention, when ours is unset
    assert Secrets().s3_keys()["AWS_ACCESS_KEY_ID"] == "tool-key"
