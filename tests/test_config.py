"""Configuration: names from the environment or secrets.toml, one clear sentence per mistake,
never the secret itself; nothing configured means the demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lib.config import load_settings
from lib.errors import ConfigError

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
