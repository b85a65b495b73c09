"""One settings object for HealBridge Ops.

Every name of system.md is read from the environment or from `.streamlit/secrets.toml` (same key,
top level; the environment wins). A malformed value is reported as one sentence that names the
setting and says what is wrong, never the value itself: URLs carry passwords.
"""

from __future__ import annotations

import os
import re
import threading
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from lib.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRETS_FILE_ENV = "HEALBRIDGE_SECRETS_FILE"

# The names whose presence means "a real deployment is configured" (system.md).
STORE_SETTINGS = (
    "CORE_DATABASE_URL",
    "SUPABASE_DB_URL",
    "SUPABASE_URL",
    "SUPABASE_SERVICE_ROLE_KEY",
    "FIREBASE_PROJECT_ID",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "FIREBASE_AUTH_EMULATOR_HOST",
    "FIRESTORE_EMULATOR_HOST",
)

_HOST_PORT = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")


_HOSTNAME = re.compile(r"^(localhost|[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+|\[[0-9a-fA-F:]+\])$")


def split_urls(value: str) -> list[str]:
    """The URLs of a comma-separated ALERT_URLS* value."""
    return [u.strip() for u in value.split(",") if u.strip()]


def is_host_name(host: str | None) -> bool:
    """A host name or address (shown), not a token that a URL scheme puts in the host's place."""
    return bool(host) and bool(_HOSTNAME.match(host or ""))


def invalid_alert_url(value: str) -> int | None:
    """The 1-based position of the first URL of an ALERT_URLS* value that apprise cannot use
    (unknown scheme, malformed), or None when all are usable."""
    import logging

    import apprise

    logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)  # apprise would log the URL
    for n, url in enumerate(split_urls(value), 1):
        if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
            return n
    return None


def alert_url_secrets(value: str) -> list[str]:
    """What of each URL of an ALERT_URLS* value must never be shown: the URL, its user, password,
    path segments, query values, and its host where that is a token (slack://, pagerduty://)."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    out: list[str] = []
    for url in split_urls(value):
        out.append(url)
        parts = urlsplit(url)
        for piece in (parts.username, parts.password, None if is_host_name(parts.hostname) else parts.hostname):
            if piece and len(piece) >= 3:
                out += [piece, unquote(piece)]
        out += [seg for seg in parts.path.split("/") if len(seg) >= 3]
        out += [v for _, v in parse_qsl(parts.query) if len(v) >= 3]
    return sorted(set(out), key=len, reverse=True)


def secrets_file() -> Path:
    return Path(os.environ.get(SECRETS_FILE_ENV, PROJECT_ROOT / ".streamlit" / "secrets.toml"))


class _SecretsTomlSource(PydanticBaseSettingsSource):
    """Top-level keys of `.streamlit/secrets.toml`, matched case-insensitively to the fields."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        path = secrets_file()
        self._data: dict[str, Any] = {}
        if path.is_file():
            try:
                with path.open("rb") as fh:
                    raw = tomllib.load(fh)
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"{path.name} cannot be read as TOML ({type(exc).__name__}); fix or remove it.") from None
            names = {n.lower() for n in settings_cls.model_fields}
            self._data = {k.lower(): v for k, v in raw.items() if k.lower() in names and not isinstance(v, dict)}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def _sqlalchemy_url(value: SecretStr | None) -> SecretStr | None:
    if value is None:
        return None
    raw = value.get_secret_value().strip()
    if not raw:
        return None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise ValueError("is not a database URL (expected postgresql+psycopg://user:password@host:port/database)") from None
    if not url.drivername.startswith("postgres"):
        raise ValueError("must be a PostgreSQL URL (postgresql+psycopg://…)")
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    elif url.drivername != "postgresql+psycopg":
        raise ValueError("must use the psycopg driver (postgresql+psycopg://…)")
    return SecretStr(url.render_as_string(hide_password=False))


class Settings(BaseSettings):
    """The dashboard's configuration; see system.md, "Configuration names"."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", hide_input_in_errors=True)

    core_database_url: SecretStr | None = None
    supabase_db_url: SecretStr | None = None
    supabase_url: str | None = None
    supabase_service_role_key: SecretStr | None = None
    firebase_project_id: str | None = None
    google_application_credentials: Path | None = None
    firebase_auth_emulator_host: str | None = None
    firestore_emulator_host: str | None = None
    ops_database_url: SecretStr | None = None

    # The project's own settings (not store names).
    healbridge_data_dir: Path = Field(default=PROJECT_ROOT / ".data")
    firestore_emulator_jar: Path | None = None
    phone_default_region: str = "US"
    statement_timeout_ms: int = Field(default=30_000, ge=100, le=3_600_000)
    # the check run's bulk reads (COPY of whole tables, set-based check queries) at millions of rows
    check_statement_timeout_ms: int = Field(default=300_000, ge=100, le=3_600_000)
    # the check run's cross-store engine (DuckDB): its memory limit; what does not fit spills to disk
    check_memory_mb: int = Field(default=128, ge=32, le=1_048_576)
    connect_timeout_s: int = Field(default=5, ge=1, le=120)
    # the Firestore listing (a whole collection): documents a page, and each page's deadline
    firestore_page_size: int = Field(default=5000, ge=1, le=100_000)
    firestore_page_timeout_s: float = Field(default=60.0, ge=0.001, le=3600)
    sync_jobs_stuck_minutes: int = Field(default=15, ge=1, le=100_000)
    token_expiring_hours: int = Field(default=24, ge=1, le=100_000)
    # the sync pipeline's pulse (checks.md, "Pulse of the sync pipeline")
    pulse_sync_lag_minutes: int = Field(default=10, ge=1, le=100_000)
    pulse_documents_unprocessed_minutes: int = Field(default=30, ge=1, le=100_000)
    # pulse.count_anomaly: a check counts when this run's count is above the median of its daily
    # counts over the last WINDOW days by more than max(MIN_EXCESS, MAD_FACTOR x their median
    # absolute deviation); not judged with fewer than MIN_DAYS of those days in the history
    pulse_anomaly_window_days: int = Field(default=14, ge=1, le=366)
    pulse_anomaly_min_days: int = Field(default=7, ge=1, le=366)
    pulse_anomaly_min_excess: int = Field(default=10, ge=0, le=10_000_000)
    pulse_anomaly_mad_factor: float = Field(default=3.0, ge=0, le=1000)
    # how old a Firebase listing the dashboard's periodic re-runs may reuse (0: list every time);
    # "Run checks now" and the command line always list afresh
    firebase_snapshot_max_age_s: int = Field(default=300, ge=0, le=86_400)
    # incremental check runs (`check --incremental`, the watcher; lib.checks.incremental): a full
    # read of every part when the last is older than this (nightly), a fresh Firebase Auth listing
    # when the kept one is older than this, and how far before the last read's watermark the next
    # read starts (covers transactions that committed after the watermark with an earlier timestamp)
    incremental_full_every_s: int = Field(default=86_400, ge=0, le=30 * 86_400)
    incremental_auth_max_age_s: int = Field(default=3_600, ge=0, le=30 * 86_400)
    incremental_margin_s: int = Field(default=300, ge=0, le=86_400)
    # how long a sign-in lasts (Streamlit's cookie lives 30 days): older sessions must sign in again
    session_max_age_hours: float = Field(default=12.0, gt=0, le=720)

    # alerts (lib.alerts): apprise URLs, comma-separated; they carry tokens, so they are secrets
    alert_urls: SecretStr | None = None
    alert_urls_error: SecretStr | None = None
    alert_urls_warn: SecretStr | None = None
    alert_urls_info: SecretStr | None = None
    alert_urls_digest: SecretStr | None = None
    alert_base_url: str | None = None
    # names this deployment in PagerDuty dedup keys (one incident per check and deployment)
    alert_deployment: str = "healbridge"
    # "worse" when the count reaches this multiple of the count last alerted
    alert_worse_factor: float = Field(default=2.0, gt=1, le=1000)
    # retries of a failed delivery: base * 2^attempts seconds, at most the max
    alert_retry_base_s: float = Field(default=30.0, ge=0, le=86_400)
    alert_retry_max_s: float = Field(default=3600.0, ge=0, le=7 * 86_400)
    # the weekly digest's day (ALERT_URLS_DIGEST)
    alert_digest_day: str = "monday"
    # the watcher (lib.watch): the default cadence, its config file (cadences, thresholds), pruning
    watch_interval_s: float = Field(default=300.0, ge=1, le=86_400)
    watch_config: Path | None = None
    watch_keep_all_days: int = Field(default=30, ge=1, le=36_500)
    watch_keep_daily_days: int = Field(default=365, ge=1, le=36_500)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _SecretsTomlSource(settings_cls))

    @field_validator("core_database_url", "supabase_db_url", "ops_database_url")
    @classmethod
    def _check_db_url(cls, v: SecretStr | None) -> SecretStr | None:
        return _sqlalchemy_url(v)

    @field_validator("supabase_url")
    @classmethod
    def _check_http_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        v = v.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be the project's https:// URL")
        return v

    @field_validator("firebase_auth_emulator_host", "firestore_emulator_host")
    @classmethod
    def _check_host_port(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        v = v.strip()
        if not _HOST_PORT.match(v) or not 0 < int(v.rsplit(":", 1)[1]) < 65536:
            raise ValueError("must be host:port, without a scheme (e.g. 127.0.0.1:9099)")
        return v

    @field_validator("firebase_project_id")
    @classmethod
    def _check_project(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        v = v.strip()
        if not re.match(r"^[a-z0-9][a-z0-9\-]{3,62}$", v):
            raise ValueError("must be a Firebase project id: lower-case letters, digits and dashes")
        return v

    @field_validator("google_application_credentials")
    @classmethod
    def _check_credentials(cls, v: Path | None) -> Path | None:
        if v is None or not str(v).strip():
            return None
        if not v.is_file():
            raise ValueError("must name a readable service-account JSON file")
        return v

    @field_validator("phone_default_region")
    @classmethod
    def _check_region(cls, v: str) -> str:
        if not re.match(r"^[A-Za-z]{2}$", v.strip()):
            raise ValueError("must be a two-letter region code such as US")
        return v.strip().upper()

    @field_validator("alert_urls", "alert_urls_error", "alert_urls_warn", "alert_urls_info", "alert_urls_digest")
    @classmethod
    def _check_alert_urls(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None or not v.get_secret_value().strip():
            return None
        bad = invalid_alert_url(v.get_secret_value())
        if bad is not None:
            raise ValueError(f"holds an address apprise cannot use (unknown scheme or malformed: the URL at position {bad})")
        return v

    @field_validator("alert_base_url")
    @classmethod
    def _check_base_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        v = v.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be the dashboard's http:// or https:// address")
        return v

    @field_validator("alert_digest_day")
    @classmethod
    def _check_day(cls, v: str) -> str:
        days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        v = v.strip().lower()
        if v not in days:
            raise ValueError("must be a day of the week such as monday")
        return v

    # ------------------------------------------------------------------ derived
    @cached_property
    def demo(self) -> bool:
        """True when none of the store names is set: the dashboard runs its own demo stores."""
        return not any(getattr(self, n.lower()) for n in STORE_SETTINGS)

    @property
    def firebase_configured(self) -> bool:
        return bool(
            self.firebase_project_id
            and (self.google_application_credentials or self.firebase_auth_emulator_host or self.firestore_emulator_host)
        )

    @property
    def supabase_configured(self) -> bool:
        return bool(self.supabase_db_url or (self.supabase_url and self.supabase_service_role_key))

    def secret_values(self) -> list[str]:
        """Every configured secret, so that tests and log filters can look for leaks."""
        out = []
        for name in ("alert_urls", "alert_urls_error", "alert_urls_warn", "alert_urls_info", "alert_urls_digest"):
            val = getattr(self, name)
            if val is not None:
                out.extend(alert_url_secrets(val.get_secret_value()))
        for name in ("core_database_url", "supabase_db_url", "supabase_service_role_key", "ops_database_url"):
            val = getattr(self, name)
            if val is not None:
                out.append(val.get_secret_value())
                from sqlalchemy.engine import make_url

                if name.endswith("_url"):
                    pw = make_url(val.get_secret_value()).password
                    if pw:
                        out.append(str(pw))
        return out


def _describe(error: dict[str, Any]) -> str:
    loc = ".".join(str(p) for p in error.get("loc", ()) if p != "__root__").upper() or "a setting"
    msg = str(error.get("msg", "is not valid"))
    msg = msg.removeprefix("Value error, ")
    if error.get("type") in ("int_parsing", "int_type"):
        msg = "must be a whole number"
    elif error.get("type") in ("float_parsing", "float_type", "finite_number"):
        msg = "must be a number"
    elif error.get("type", "").startswith(("greater_than", "less_than")):
        msg = msg[0].lower() + msg[1:]
    return f"{loc} {msg}."


def _source_key() -> tuple[Any, ...]:
    """What the configuration is read from: the environment's values of the settings' names and the
    secrets file's identity (path, size, modification time). Equal keys give equal settings."""
    names = {n.lower() for n in Settings.model_fields}
    env = tuple(sorted((k.lower(), v) for k, v in os.environ.items() if k.lower() in names))
    path = secrets_file()
    try:
        st = path.stat()
        stamp: tuple[Any, ...] = (st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError:
        stamp = ()
    return env, str(path), stamp


_LAST: tuple[tuple[Any, ...], Settings] | None = None
_LAST_LOCK = threading.Lock()


def load_settings(**overrides: Any) -> Settings:
    """Read the configuration; raise ConfigError with one clear sentence if it is malformed.

    Without overrides, the settings read last are handed back while the environment and the
    secrets file are unchanged (a dashboard rerun asks a dozen times; building them costs ~15 ms).
    Treat the result as read-only (`model_copy(update=…)` for a variant)."""
    global _LAST
    key = None if overrides else _source_key()
    last = _LAST
    if key is not None and last is not None and last[0] == key:
        return last[1]
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        raise ConfigError(" ".join(_describe(dict(e)) for e in errors[:3])) from None
    if key is not None:
        with _LAST_LOCK:
            _LAST = (key, settings)
    return settings
