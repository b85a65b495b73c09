"""Fixtures of the page tests (tests/conftest.py's apply too): the real stores configured outside the demo."""

from __future__ import annotations

from typing import Any

import pytest

from lib.services import PROJECT_ID, EmbeddedServices


@pytest.fixture
def configured(demo: Any, monkeypatch: Any) -> dict[str, str]:
    """Real stores configured through the environment: the demo's core and Supabase databases and its
    emulators, as a deployment would name them."""
    demo.ensure()
    services = EmbeddedServices(demo.settings)
    uris = services.state.raw["postgres"]["uris"]
    monkeypatch.setenv("CORE_DATABASE_URL", uris["core"])
    monkeypatch.setenv("SUPABASE_DB_URL", uris["supabase"])
    monkeypatch.setenv("OPS_DATABASE_URL", uris["ops"])
    monkeypatch.setenv("FIREBASE_PROJECT_ID", PROJECT_ID)
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", services.auth_host() or "")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", services.firestore_host() or "")
    return uris
