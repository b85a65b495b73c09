"""Configuration (lib.config): names from the environment or secrets.toml, one clear sentence per mistake,
never the secret itself, also for at least 1,000 generated environments (hypothesis); nothing
configured means the demo."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from lib.config import Settings, load_settings
from lib.errors import ConfigError
from tests.strategies import ENV_TEXT, SUPPRESS
from tests.support import _env

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    secrets = tmp_path / "secrets.toml"
    monkeypatch.setenv("HEALBRIDGE_SECRETS_FILE", str(secrets))
    return secrets


def test_nothing_configured_is_demo(clean_env: Path) -> None:
    s = load_settings()
    assert s.demo
    assert not s.firebase_configured and not s.supabase_configured and s.core_database_url is None
    assert s.phone_default_region == "US"


def test_env_configures_stores(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORE_DATABASE_URL", "postgresql://ops:pw@db.internal:5432/core")
    s = load_settings()
    assert not s.demo
    assert s.core_database_url is not None
    # plain postgresql:// gets the psycopg 3 driver
    assert s.core_database_url.get_secret_value().startswith("postgresql+psycopg://ops:pw@db.internal")
    assert "pw" not in repr(s)


def test_secrets_toml_is_read_and_env_wins(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env.write_text(
        'SUPABASE_DB_URL = "postgresql+psycopg://u:filepw@sb/postgres"\n'
        'FIREBASE_PROJECT_ID = "from-file"\n'
        "[connections.other]\nurl = 'ignored'\n"
    )
    s = load_settings()
    assert s.supabase_db_url is not None and "filepw" in s.supabase_db_url.get_secret_value()
    assert s.firebase_project_id == "from-file"
    monkeypatch.setenv("FIREBASE_PROJECT_ID", "from-env")
    assert load_settings().firebase_project_id == "from-env"


@pytest.mark.parametrize(
    ("name", "value", "expect"),
    [
        ("CORE_DATABASE_URL", "mysql://root:hunter2@db/core", "CORE_DATABASE_URL must be a PostgreSQL URL"),
        ("SUPABASE_DB_URL", "this is :: not a url hunter2", "SUPABASE_DB_URL is not a database URL"),
        ("OPS_DATABASE_URL", "postgresql+asyncpg://u:hunter2@h/db", "OPS_DATABASE_URL must use the psycopg driver"),
        ("FIREBASE_AUTH_EMULATOR_HOST", "http://hunter2:9099", "FIREBASE_AUTH_EMULATOR_HOST must be host:port"),
        ("FIRESTORE_EMULATOR_HOST", "localhost:99999", "FIRESTORE_EMULATOR_HOST must be host:port"),
        ("SUPABASE_URL", "ftp://hunter2.supabase.co", "SUPABASE_URL must be the project's https:// URL"),
        ("FIREBASE_PROJECT_ID", "Hunter2 Project!", "FIREBASE_PROJECT_ID must be a Firebase project id"),
        ("GOOGLE_APPLICATION_CREDENTIALS", "/no/such/hunter2.json", "GOOGLE_APPLICATION_CREDENTIALS must name"),
        ("STATEMENT_TIMEOUT_MS", "soon-hunter2", "STATEMENT_TIMEOUT_MS must be a whole number"),
        ("SYNC_JOBS_STUCK_MINUTES", "0", "SYNC_JOBS_STUCK_MINUTES input should be greater than or equal to 1"),
        ("PHONE_DEFAULT_REGION", "hunter2", "PHONE_DEFAULT_REGION must be a two-letter region code"),
    ],
)
def test_malformed_value_one_sentence_without_secret(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, expect: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    msg = str(err.value)
    assert msg.startswith(expect), msg
    assert "hunter2" not in msg
    assert "\n" not in msg


def test_unreadable_secrets_file(clean_env: Path) -> None:
    clean_env.write_text("CORE_DATABASE_URL = 'unterminated")
    with pytest.raises(ConfigError, match="secrets.toml cannot be read as TOML"):
        load_settings()


def test_cli_reports_config_error_without_traceback(clean_env: Path) -> None:
    env = {"HEALBRIDGE_SECRETS_FILE": str(clean_env), "PATH": "/usr/bin:/bin",
           "CORE_DATABASE_URL": "mysql://root:hunter2@db/core"}
    for cmd in (["status"], ["check", "--json"]):
        proc = subprocess.run([sys.executable, "-m", "lib", *cmd], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 2
        assert proc.stdout == ""
        assert proc.stderr.strip() == "error: CORE_DATABASE_URL must be a PostgreSQL URL (postgresql+psycopg://…)."
        assert "Traceback" not in proc.stderr and "hunter2" not in proc.stderr


def test_cli_bad_arguments_are_one_line(clean_env: Path) -> None:
    env = {"HEALBRIDGE_SECRETS_FILE": str(clean_env), "PATH": "/usr/bin:/bin"}
    for cmd in (["nonsense"], ["check", "--store", "mongo"], ["demo", "--patients", "many"]):
        proc = subprocess.run([sys.executable, "-m", "lib", *cmd], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 2
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


SECRET_SETTINGS = {"CORE_DATABASE_URL", "SUPABASE_DB_URL", "SUPABASE_SERVICE_ROLE_KEY", "OPS_DATABASE_URL"}
SETTING_NAMES = sorted(n.upper() for n in Settings.model_fields)
_TOKEN = hs.text(string.ascii_letters + string.digits, min_size=10, max_size=24)


@hs.composite
def _db_url(draw: Any) -> tuple[str, str]:
    """A database URL (well- or ill-formed) that carries a distinctive password; returns (url, password)."""
    pw = "Pw" + draw(_TOKEN)
    scheme = draw(hs.sampled_from(["postgresql+psycopg", "postgresql", "postgres", "mysql", "postgresql+asyncpg",
                                   "sqlite", "", "http", "postgresql+psycopg2"]))
    host = draw(hs.sampled_from(["db.example", "127.0.0.1", "", "[::1]", "db example", "h:99999"]))
    port = draw(hs.sampled_from(["", ":5432", ":notaport", ":-1", ":99999"]))
    tail = draw(hs.sampled_from(["/core", "", "/x?sslmode=require", "/a b", "?host=/tmp/sock", "/%zz"]))
    sep = draw(hs.sampled_from(["://", ":/", "//", " :: ", "://:"]))
    user = draw(hs.sampled_from(["ops", "", "u@x", "ü"]))
    return f"{scheme}{sep}{user}:{pw}@{host}{port}{tail}", pw


def _value(name: str) -> Any:
    secret_ish = name in SECRET_SETTINGS
    generic = hs.one_of(ENV_TEXT, hs.integers(-10**12, 10**12).map(str), hs.sampled_from(["", " ", "0", "-1", "1e3",
                                                                                          "true", "null", "\t\n"]))
    if name.endswith("_URL") and secret_ish:
        return hs.one_of(_db_url(), generic.map(lambda v: (v, None)))
    if secret_ish:  # the service-role key
        return hs.one_of(_TOKEN.map(lambda t: ("sk_" + t, "sk_" + t)), generic.map(lambda v: (v, None)))
    if name.endswith("_HOST"):
        return hs.one_of(hs.from_regex(r"\A[a-z0-9.:\[\]-]{0,20}:[0-9]{0,7}\Z"), generic).map(lambda v: (v, None))
    return generic.map(lambda v: (v, None))


@hs.composite
def _environment(draw: Any) -> dict[str, tuple[str, str | None]]:
    names = draw(hs.lists(hs.sampled_from(SETTING_NAMES), min_size=1, max_size=5, unique=True))
    return {n: draw(_value(n)) for n in names}


@settings(max_examples=1200, deadline=None, suppress_health_check=SUPPRESS)
@given(env=_environment())
def test_configuration_is_settings_or_one_sentence_without_the_secret(env: dict[str, tuple[str, str | None]]) -> None:
    values = {n: v for n, (v, _) in env.items()}
    with _env(values):
        try:
            s = load_settings()
        except ConfigError as exc:
            message = str(exc)
            assert message and "\n" not in message and "Traceback" not in message, message
            named = [n for n in SETTING_NAMES if re.search(rf"\b{n}\b", message)]  # CHECK_STATEMENT_… ≠ STATEMENT_…
            assert named and set(named) <= set(values), (message, values)
            for n, (v, pw) in env.items():
                if n in SECRET_SETTINGS:
                    if pw:
                        assert pw not in message, (n, message)
                    if len(v.strip()) >= 8:
                        assert v.strip() not in message, (n, message)
            return
        # a Settings: what the rest of the code derives from it works, and the secrets are masked in its repr
        assert isinstance(s, Settings)
        assert isinstance(s.demo, bool)
        found = s.secret_values()
        for n, (_, pw) in env.items():
            if n in SECRET_SETTINGS and pw:
                assert pw in "".join(found), n  # a configured secret is known, so it can be redacted
                assert pw not in repr(s) and pw not in str(s), n


def test_settings_are_read_again_when_the_environment_or_the_secrets_file_changes(
        clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """load_settings() hands back the settings read last while nothing they come from changed (a
    dashboard rerun asks a dozen times), and reads them again as soon as something did."""
    monkeypatch.setenv("PHONE_DEFAULT_REGION", "GB")
    first = load_settings()
    assert first.phone_default_region == "GB"
    assert load_settings() is first  # unchanged: the same settings, not read again
    monkeypatch.setenv("PHONE_DEFAULT_REGION", "FR")
    assert load_settings().phone_default_region == "FR"  # the environment changed
    monkeypatch.delenv("PHONE_DEFAULT_REGION")
    clean_env.write_text('phone_default_region = "DE"\n')
    assert load_settings().phone_default_region == "DE"  # the secrets file appeared
    clean_env.write_text('phone_default_region = "IT"\n# a longer file\n')
    assert load_settings().phone_default_region == "IT"  # the secrets file changed
    assert load_settings(phone_default_region="ES").phone_default_region == "ES"  # overrides: always read
    assert load_settings().phone_default_region == "IT"
    clean_env.write_text('phone_default_region = "IT"\nstatement_timeout_ms = "soon"\n')
    with pytest.raises(ConfigError, match="STATEMENT_TIMEOUT_MS"):  # a broken file is never served from memory
        load_settings()
