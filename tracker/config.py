"""config.yaml → typed settings (every key: docs/contracts.md, "config.yaml").

Secrets never live in the file: IMAP/SMTP/database passwords and OAuth2 tokens come from the
environment (``JIEBANG_IMAP_PASSWORD`` …) or from files named there (``…_FILE``).
"""

from __future__ import annotations

import dataclasses
import getpass
import hashlib
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from campaign import SHANDONG_2025, SHANDONG_CITIES, Catalogue, CityBureau, Direction, RoundPolicy
from campaign.review import AcceptanceRules, Criterion, ReviewRules, header_name
from durable.blobs import BlobConfigError
from durable.blobs import check_scheme as check_blob_scheme
from intake.sources import SourceConfigError, url_scheme
from intake.sources import check_scheme as check_source_scheme
from notifier.transports import TransportConfigError
from notifier.transports import check_scheme as check_transport_scheme

SECRET_KEYS = {"password", "passwd", "secret", "token", "oauth2_token", "access_token"}


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line naming the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Deadlines(_Section):
    direct: date = SHANDONG_2025.deadlines["direct"]
    city_applicant: date = SHANDONG_2025.deadlines["city_applicant"]
    city_bureau: date = SHANDONG_2025.deadlines["city_bureau"]


class DirectionEntry(_Section):
    name: str = Field(min_length=2, max_length=40)
    aliases: list[str] = []
    # scope words a form may write instead of the name; none unless given (a new round's
    # directions never inherit 2025's)
    keywords: list[str] = []


def _default_directions() -> list[DirectionEntry]:
    return [DirectionEntry(name=d.name, aliases=list(d.aliases), keywords=list(d.keywords))
            for d in SHANDONG_2025.directions]


class Campaign(_Section):
    """The round as data (absent keys: the 2025 Shandong round)."""

    code: str = Field(SHANDONG_2025.code, pattern=r"^[A-Z][A-Z0-9]{1,15}$")
    year: int | None = Field(None, ge=2000, le=2100)  # default: the code's digits, e.g. JB2026 → 2026
    title: str = SHANDONG_2025.title
    timezone: str = SHANDONG_2025.timezone
    deadlines: Deadlines = Deadlines()
    # ordered: a direction's number is its position (1-based)
    directions: list[DirectionEntry] = Field(default_factory=_default_directions, min_length=1, max_length=99)
    consortium_max: int = Field(SHANDONG_2025.consortium_max, ge=1, le=50)
    city_quota: int = Field(SHANDONG_2025.city_quota, ge=1, le=50)

    @field_validator("directions")
    @classmethod
    def _distinct(cls, value: list[DirectionEntry]) -> list[DirectionEntry]:
        seen: dict[str, int] = {}
        for number, entry in enumerate(value, start=1):
            for name in (entry.name, *entry.aliases):
                if seen.setdefault(name, number) != number:
                    raise ValueError(f"{name!r} names direction {seen[name]} and direction {number}")
        return value

    def catalogue(self) -> Catalogue:
        digits = "".join(ch for ch in self.code if ch.isdigit())
        year = self.year or (int(digits) if len(digits) == 4 else self.deadlines.direct.year)
        return Catalogue(
            code=self.code, year=year, title=self.title, timezone=self.timezone,
            directions=tuple(Direction(d.name, tuple(d.aliases), tuple(d.keywords)) for d in self.directions),
            consortium_max=self.consortium_max, city_quota=self.city_quota,
            deadlines=self.deadlines.model_dump(),
        )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except Exception as exc:  # ZoneInfoNotFoundError, ValueError
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class CriterionEntry(_Section):
    name: str = Field(min_length=1, max_length=40)
    max: float = Field(gt=0, le=1000)


class Review(_Section):
    """The score form and the ranking's rules (SPEC section 6; absent keys: the defaults)."""

    criteria: list[CriterionEntry] = Field(
        default_factory=lambda: [CriterionEntry(name=c.name, max=c.max) for c in ReviewRules().criteria],
        min_length=1, max_length=30)
    trim_from: int = Field(ReviewRules().trim_from, ge=3, le=100)
    notice_working_days: int = Field(ReviewRules().notice_working_days, ge=1, le=60)
    spread_flag: float = Field(ReviewRules().spread_flag, ge=0)

    @field_validator("criteria")
    @classmethod
    def _distinct_criteria(cls, value: list[CriterionEntry]) -> list[CriterionEntry]:
        names = [header_name(c.name) for c in value]
        if len(set(names)) != len(names) or not all(names):
            raise ValueError("criteria need distinct, non-empty names (without brackets)")
        return value

    def rules(self) -> ReviewRules:
        return ReviewRules(tuple(Criterion(header_name(c.name), c.max) for c in self.criteria),
                           self.trim_from, self.notice_working_days, self.spread_flag)


class Acceptance(_Section):
    """The year after (SPEC section 7): when the selected units' tasks are due."""

    due: date | None = None  # the round's end: a selected unit that has not asked is reminded
    remind_working_days: int = Field(5, ge=1, le=60)

    def rules(self) -> AcceptanceRules:
        return AcceptanceRules(self.due.isoformat() if self.due else None, self.remind_working_days)


class Province(_Section):
    name: str = "山东省大数据局"
    address: str | None = None


class City(_Section):
    bureau_emails: list[str] = []
    contact: str = ""
    phone: str = ""


class Mailbox(_Section):
    url: str = "maildir:var/inbox"
    address: str | None = None  # the bureau mailbox's own address (loop prevention)
    folders: list[str] = ["INBOX"]
    # what to do on the server once a message is committed; never delete by default
    after_commit: Literal["seen", "move", "none"] = "seen"
    move_to: str | None = None
    auth: Literal["login", "xoauth2"] = "login"
    ca_file: str | None = None  # a private CA bundle to trust (default: the system's)
    # our own servers' ids in Authentication-Results (RFC 8601); others' are ignored
    trusted_authserv_ids: list[str] = []
    idle: bool = True
    idle_seconds: int = Field(300, ge=10, le=1740)  # re-issue IDLE well before 29 min
    timeout_seconds: float = Field(30, gt=0)
    max_message_bytes: int = Field(50 * 1024 * 1024, gt=0)
    max_messages_per_run: int = Field(500, gt=0)
    seconds_per_message: float = Field(120, gt=0)

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        try:
            check_source_scheme(value)  # the sources' own registry names what is allowed
        except SourceConfigError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _move_needs_folder(self) -> Mailbox:
        if self.after_commit == "move" and not self.move_to:
            raise ValueError("after_commit: move needs move_to (a folder name)")
        return self


class Smtp(_Section):
    url: str = "maildir:var/outbox"
    from_: str = Field("jiebang@localhost", alias="from")
    timeout_seconds: float = Field(30, gt=0)

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        try:
            check_transport_scheme(value)  # the transports' own registry names what is allowed
        except TransportConfigError as exc:
            raise ValueError(str(exc)) from None
        return value


class Database(_Section):
    url: str = "sqlite:///var/jiebang.db"

    @field_validator("url")
    @classmethod
    def _dialect(cls, value: str) -> str:
        if not (value.startswith("sqlite:") or value.startswith("postgresql")):
            raise ValueError("use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB")
        return value


class Staff(_Section):
    digest_to: list[str] = []


class Receiver(_Section):
    """The embedded local SMTP receiver that delivers into the Maildir inbox."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(2525, ge=0, le=65535)
    max_message_bytes: int = Field(60 * 1024 * 1024, gt=0)


class Storage(_Section):
    """Where raw messages, attachments and previews live (SPEC section 8)."""

    path: str = "var/store"  # content-addressed raw messages and attachments (no url: the store)
    # s3://bucket/prefix: an S3-compatible object store shared by every host (SeaweedFS,
    # MinIO, Ceph RGW, a cloud's); credentials from JIEBANG_S3_ACCESS_KEY / JIEBANG_S3_SECRET_KEY (or *_FILE; else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
    url: str | None = None
    endpoint: str | None = None  # http(s)://host:port of the S3 service (default: AWS)
    region: str | None = None
    cache_mb: int = Field(512, ge=16)  # the local copy of remote blobs, least recently used out
    # where that copy lives (null: $CACHE_DIRECTORY as systemd's CacheDirectory= sets it, else
    # $XDG_CACHE_HOME/jiebang or ~/.cache/jiebang; one folder per store): never the deployment's
    # folder, so a worker host keeps nothing there but its configuration and logs
    cache_path: str | None = None

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str | None) -> str | None:
        if value:
            try:
                check_blob_scheme(value)  # the blob stores' own registry names what is allowed
            except BlobConfigError as exc:
                raise ValueError(str(exc)) from None
        return value


class Schedule(_Section):
    poll_seconds: int = Field(60, ge=1)
    process_seconds: int = Field(15, ge=1)  # stored but not yet understood mail (ingest, requeue)
    outbox_seconds: int = Field(10, ge=1)  # also woken after each recorded mail while serving
    reminders_cron: str = "0 9 * * *"
    digest_cron: str = "30 8 * * *"


class Notify(_Section):
    sender_name: str = "山东省大数据局"
    daily_cap: int = Field(20, ge=1)  # automatic mails per address per day
    # automatic answers per hour to addresses never written to before whose mail our server did
    # not verify (no aligned SPF/DKIM or DMARC pass at a trusted server): the backscatter guard.
    # Counted per class (answers to applications; everything else) and per recipient domain (a
    # quarter of it); beyond it, answers are held for staff (`jiebang release`). A verified
    # sender is never held. 400: the notice's direct applicants are a few hundred units, most of
    # them in the last two days; a deadline-day hour of first contacts stays under it (the
    # deadline-day benchmark: 300 new senders in 3 minutes), a forged-sender flood does not.
    new_address_hourly_cap: int = Field(400, ge=0)
    # a mail whose full answer is not written this long after it arrived gets a short receipt
    # (arrival time, being checked) at once; the full answer follows in its thread. 0: never.
    # 20, not 60: on 2 cores a deadline-day queue of scans keeps full answers minutes
    # away, and the first answer must reach 95% of applicants within 30 s
    receipt_after_seconds: int = Field(20, ge=0)
    max_attempts: int = Field(8, ge=1)
    # a mail left "sending" by a crash is sent again (same Message-ID) after this long
    stale_sending_seconds: int = Field(600, ge=0)


class Processing(_Section):
    """Understanding mail: in worker processes, each under hard limits."""

    workers: int | None = Field(None, ge=0, le=256)  # default: the CPU count; 0 = in this process
    # resident memory of one worker (its address space may grow as much beyond its start,
    # plus what loading the OCR engine maps); OCR needs ~1100 MB at its peak (a photo
    # read at 2000 px): tracker/pipeline/workers.py gives the measurements
    worker_memory_mb: int = Field(1536, ge=128)
    worker_cpu_seconds: int = Field(300, ge=1)  # CPU time for one message
    seconds_per_message: float = Field(300, gt=0)  # wall-clock time for one message
    max_attempts: int = Field(3, ge=1, le=20)  # worker deaths on one message before quarantine
    ocr_threads: int = Field(2, ge=1, le=64)  # onnxruntime threads for one OCR engine
    # a claim of a process on another host is taken over once this old (a live process
    # renews its claims every quarter of it): how long a killed host's mail waits
    lease_seconds: int = Field(120, ge=20, le=3600)

    @property
    def worker_count(self) -> int:
        return (os.cpu_count() or 1) if self.workers is None else self.workers


class Reminders(_Section):
    days_before: list[int] = [7, 3, 1]

    @field_validator("days_before")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(d < 0 for d in value):
            raise ValueError("days must be 0 or more")
        return sorted(set(value), reverse=True)


class Web(_Section):
    """The staff web workspace (`jiebang web`, or inside `jiebang run` when enabled)."""

    enabled: bool = False  # `jiebang run` serves it too
    host: str = "127.0.0.1"  # behind a TLS reverse proxy; never a public address without one
    port: int = Field(8025, ge=0, le=65535)
    # the address people reach the workspace at (the proxy's https://…); invitations link to it
    public_url: str | None = None
    # Secure cookies: true / false, or null = when the request came over https (the proxy's
    # X-Forwarded-Proto, believed only from forwarded_allow_ips)
    secure_cookies: bool | None = None
    forwarded_allow_ips: str = "127.0.0.1"
    session_hours: int = Field(12, ge=1, le=24 * 14)
    idle_minutes: int = Field(30, ge=1, le=24 * 60)  # a session unused this long ends
    # /metrics (Prometheus) and /healthz: unauthenticated, for the operator's monitoring
    # only; keep web.host on loopback or let the proxy refuse them from outside
    metrics: bool = False
    # 等保 2.0: a province account must sign in with a one-time code too (`jiebang user 2fa NAME`)
    require_2fa_for_province: bool = False


class Settings(_Section):
    role: Literal["province", "city"] = "province"
    city: str | None = None
    campaign: Campaign = Campaign()
    province: Province = Province()
    cities: dict[str, City] = {}
    mailbox: Mailbox = Mailbox()
    smtp: Smtp = Smtp()
    database: Database = Database()
    staff: Staff = Staff()
    receiver: Receiver = Receiver()
    storage: Storage = Storage()
    schedule: Schedule = Schedule()
    notify: Notify = Notify()
    reminders: Reminders = Reminders()
    processing: Processing = Processing()
    web: Web = Web()
    review: Review = Review()
    acceptance: Acceptance = Acceptance()

    # where the file was read from; relative paths resolve against it
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)

    @model_validator(mode="after")
    def _role(self) -> Settings:
        if self.role == "city" and not self.city:
            raise ValueError("role: city needs city: (e.g. 济南市)")
        if self.city and self.city not in SHANDONG_CITIES:
            raise ValueError(f"city: {self.city!r} is not one of Shandong's 16 cities")
        if self.receiver.enabled and url_scheme(self.mailbox.url) != "maildir":
            raise ValueError("receiver.enabled: the local receiver delivers into a maildir: inbox")
        unknown = [name for name in self.cities if name not in SHANDONG_CITIES]
        if unknown:
            raise ValueError(f"cities: {unknown[0]!r} is not one of Shandong's 16 cities")
        return self

    # --- derived values -------------------------------------------------
    def path(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def database_url(self) -> str:
        url = self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
            return prefix + str(self.path(url[len(prefix):]))
        return url

    @property
    def storage_path(self) -> Path:
        return self.path(self.storage.path)

    @property
    def blob_cache_path(self) -> Path:
        """The local copy of a remote store (``storage.cache_path``, else the user's cache)."""
        if self.storage.cache_path:
            return self.path(self.storage.cache_path)
        systemd = os.environ.get("CACHE_DIRECTORY", "").split(":")[0]
        xdg = os.environ.get("XDG_CACHE_HOME")
        home = Path(systemd) if systemd else (Path(xdg) if xdg else Path.home() / ".cache") / "jiebang"
        here = home
        while not here.exists() and here != here.parent:
            here = here.parent
        if not os.access(here, os.W_OK):  # no writable home (a locked-down service user)
            home = Path(tempfile.gettempdir()) / f"jiebang-cache-{os.getuid()}"
        # one folder per store: two deployments on one host never share a copy by accident
        which = hashlib.sha256(f"{self.storage.endpoint}|{self.storage.url}".encode()).hexdigest()[:12]
        return home / which

    def maildir_path(self, url: str) -> Path:
        return self.path(url.split(":", 1)[1])

    @property
    def own_addresses(self) -> frozenset[str]:
        found = {self.smtp.from_, self.mailbox.address, self.province.address}
        return frozenset(a.strip().lower() for a in found if a)

    def round_policy(self) -> RoundPolicy:
        return RoundPolicy(
            catalogue=dataclasses.replace(self.campaign.catalogue(), review=self.review.rules(),
                                          acceptance=self.acceptance.rules()),
            cities={
                name: CityBureau(name, tuple(c.bureau_emails), c.contact, c.phone)
                for name, c in self.cities.items()
            },
            own_addresses=self.own_addresses,
            role=self.role,
            city=self.city,
            trusted_authserv_ids=frozenset(a.strip().lower() for a in self.mailbox.trusted_authserv_ids if a.strip()),
        )


class Secrets(BaseSettings):
    """Credentials, from the environment only (or files the environment names)."""

    model_config = SettingsConfigDict(env_prefix="JIEBANG_", extra="ignore")

    imap_password: str | None = None
    imap_password_file: Path | None = None
    imap_oauth2_token: str | None = None
    imap_oauth2_token_file: Path | None = None
    smtp_password: str | None = None
    smtp_password_file: Path | None = None
    database_password: str | None = None
    database_password_file: Path | None = None
    # the object store's keys (SPEC sections 4 and 8); AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
    # are read too when these are unset (the S3 tools' own convention)
    s3_access_key: str | None = None
    s3_access_key_file: Path | None = None
    s3_secret_key: str | None = None
    s3_secret_key_file: Path | None = None

    def _pick(self, value: str | None, file: Path | None) -> str | None:
        if value:
            return value
        if file:
            return file.read_text(encoding="utf-8").strip()
        return None

    def imap_secret(self) -> str | None:
        return self._pick(self.imap_password, self.imap_password_file)

    def imap_token(self) -> str | None:
        return self._pick(self.imap_oauth2_token, self.imap_oauth2_token_file)

    def smtp_secret(self) -> str | None:
        return self._pick(self.smtp_password, self.smtp_password_file)

    def database_secret(self) -> str | None:
        return self._pick(self.database_password, self.database_password_file)

    def s3_keys(self) -> dict[str, str]:
        """The object store's keys as its client names them (empty: none configured)."""
        access = self._pick(self.s3_access_key, self.s3_access_key_file) or os.environ.get("AWS_ACCESS_KEY_ID")
        secret = self._pick(self.s3_secret_key, self.s3_secret_key_file) or os.environ.get("AWS_SECRET_ACCESS_KEY")
        return {"AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": secret or ""} if access else {}


class Operator(BaseSettings):
    """Who is at the keyboard, and the rehearsal clock: read from the environment once.

    ``JIEBANG_STAFF`` names the staff member in the event log (default: the login name);
    ``JIEBANG_TODAY`` (YYYY-MM-DD) rehearses the deadline calendar (reminders, digest).
    """

    model_config = SettingsConfigDict(env_prefix="JIEBANG_", extra="ignore")

    staff: str | None = None
    today: date | None = None

    def actor(self) -> str:
        return self.staff or getpass.getuser()


def config_path(explicit: str | os.PathLike[str] | None) -> Path:
    return Path(explicit or os.environ.get("JIEBANG_CONFIG") or "config.yaml")


def _find_secret(data: Any, trail: str = "") -> str | None:
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{trail}.{key}" if trail else str(key)
            if str(key).lower() in SECRET_KEYS:
                return here
            found = _find_secret(value, here)
            if found:
                return found
    return None


def _netloc_password(url: str) -> bool:
    return "://" in url and urlsplit(url).password is not None


def _database_password(url: str) -> bool:
    # parsed as the engine will parse it; libpq also takes ?password=… from the query
    try:
        parsed = make_url(url)
    except ArgumentError:
        return False  # not a URL at all: Database's own check names the key
    return parsed.password is not None or any(k.lower() == "password" for k in parsed.query)


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    return f"{where}: {msg}"


def parse_settings(data: dict[str, Any], base_dir: Path) -> Settings:
    secret = _find_secret(data)
    if secret:
        raise ConfigError(
            f"{secret}: secrets are not read from config.yaml; set JIEBANG_IMAP_PASSWORD / "
            "JIEBANG_SMTP_PASSWORD / JIEBANG_DATABASE_PASSWORD (or *_FILE) in the environment"
        )
    for section in ("mailbox", "smtp", "database"):
        url = (data.get(section) or {}).get("url", "") if isinstance(data.get(section), dict) else ""
        if not isinstance(url, str):
            continue
        if section == "database" and _database_password(url):
            raise ConfigError("database.url: remove the password from the URL; set JIEBANG_DATABASE_PASSWORD "
                              "(or JIEBANG_DATABASE_PASSWORD_FILE) in the environment")
        if _netloc_password(url):
            raise ConfigError(f"{section}.url: remove the password from the URL; use the environment")
    try:
        return Settings.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read and validate config.yaml; raise ConfigError with a one-line reason."""
    file = config_path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such file (run `jiebang init` to write one)") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{file}:{where} is not valid YAML") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: the top level must be a mapping of keys")
    try:
        return parse_settings(data, file.resolve().parent)
    except ConfigError as exc:
        raise ConfigError(f"{file}: {exc}") from None
