"""Helpers the test files share that are neither fixtures nor page helpers: the in-process command line
and a temporary environment, the patient queries, the check-fix constants, a made-up check run,
and the sign-in configuration of the tests outside the demo. They keep the names the tests were
written with, so each test moved here unchanged."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from lib import cli
from lib.checks.ids import CHECKS
from lib.checks.runner import CheckResult, CheckRun, run_checks
from lib.services import EmbeddedServices, free_port
from lib.sqlfiles import adhoc
from lib.stores.postgres import make_engine


def _rows(store: Any, sql: str, **params: Any) -> list[dict[str, Any]]:
    return store.rows(adhoc(sql), params)


def _uid_of_key(key: str) -> str:
    return key.split("|", 1)[0]


def _down_env(demo: Any) -> dict[str, str]:
    uris = EmbeddedServices(demo.settings).state.raw["postgres"]["uris"]
    return {"CORE_DATABASE_URL": uris["core"], "SUPABASE_DB_URL": uris["supabase"],
            "FIREBASE_PROJECT_ID": "healbridge-down", "FIREBASE_AUTH_EMULATOR_HOST": f"127.0.0.1:{free_port()}",
            "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{free_port()}"}


CHECKS_MD_FIXES = {
    "deactivate_expired_tokens", "rotate_duplicate_tokens", "deactivate_duplicate_connections", "token_constraints",
    "active_connection_index", "remap_appointment_patient_ids", "archive_orphan_rows", "validate_constraints",
    "appointments_patient_fk", "patient_foreign_keys", "close_duplicate_conversations", "open_conversation_index",
    "retry_failed_sync_jobs", "dedupe_medications", "remove_orphan_rag_chunks", "rag_chunks_fk",
    "revoke_disabled_patients_connections", "ban_disabled_patients_in_supabase",
}


def check_keys(stores: Any) -> dict[str, list[str]]:
    run = run_checks(stores)
    assert all(r.error is None for r in run.results), [(r.id, r.error) for r in run.results if r.error]
    return {r.id: r.keys for r in run.results}


EXIT_CODES = {0, 1, 2, 3, 4}


def _run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    saved = {n: os.environ.get(n) for n in values}
    try:
        os.environ.update(values)
        yield
    finally:
        for n, v in saved.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v


def _run(when: datetime, counts: dict[str, int | None], keys: dict[str, list[str]] | None = None) -> CheckRun:
    results = []
    for c in CHECKS:
        n = counts.get(c.id, 0)
        ks = sorted((keys or {}).get(c.id, [f"{c.id}-{i:03d}" for i in range(n or 0)]))
        results.append(CheckResult(c.id, c.severity, n, ks if n is not None else [], 1.0,
                                   error=None if n is not None else "core: down", fix=c.fix))
    stores = {n: {"ok": True, "latency_ms": 1.0, "error": None, "configured": True} for n in ("core", "supabase", "firebase")}
    return CheckRun(started_at=when, finished_at=when + timedelta(seconds=2), stores=stores, results=results)


AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test-cookie-secret-0123456789",
        "client_id": "healbridge-ops", "client_secret": "test-client-secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
ROLES = {"admin": ["ada@hospital.example"], "oncall": ["group:oncall"], "support": ["@hospital.example"]}


def _write(url: str, sql: str, params: dict[str, Any] | None = None) -> None:
    eng = make_engine(url)
    try:
        with eng.begin() as conn:
            conn.execute(text(sql), params or {})
    finally:
        eng.dispose()
