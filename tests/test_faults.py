"""A store stopped in the middle of a session (issue 7, hardening): the Firestore emulator, the Auth
emulator, the embedded PostgreSQL (core, Supabase and the ops database). Every page of app.py,
rendered with AppTest on the real demo stores, still renders without an exception, names the store
that is down, and recovers once it is back: the session's cached Stores reconnects (pool pre-ping
after PostgreSQL restarts on the same socket; new adapters when an emulator comes back on another
port). Between renders the cached reads (st.cache_data: 30 s / 60 s) are cleared, as their TTL
would; the cached stores (st.cache_resource) are kept, as in a running app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lib.demo import run_demo
from lib.services import EmbeddedServices

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 120
PAGES = re.findall(r'st\.Page\(\s*"(views/[^"]+)"', (ROOT / "app.py").read_text())
NOTICE = "Unreachable now:"
# the fault -> what the page must name: the store's label and the part that is down
FAULTS = {
    "firestore": [("Firebase", "firestore")],
    "auth": [("Firebase", "auth")],
    "postgres": [("Core PostgreSQL", "core"), ("Supabase", "supabase")],
}


@pytest.fixture(autouse=True)
def session_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def _render(page: str, uid: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["healbridge.role"] = "admin"  # the demo's role picker: every page is open to admin
    at.switch_page(page)
    if page.endswith("patient.py"):
        at.query_params["q"] = uid
    return at.run(timeout=TIMEOUT)


def _notices(at: AppTest) -> list[str]:
    return [str(w.value) for w in at.warning if str(w.value).startswith(NOTICE)]


def _no_exception(at: AppTest, page: str, phase: str) -> None:
    assert not at.exception, (phase, page, [str(e.value)[:500] for e in at.exception])
    assert "Traceback" not in "\n".join(str(e.value) for e in at.error), (phase, page)


def _stop(services: EmbeddedServices, fault: str) -> None:
    if fault == "postgres":
        services.stop_postgres()
    else:
        services.stop_part(fault)
    assert not services.running()["postgres" if fault == "postgres" else fault]


@pytest.mark.parametrize("fault", list(FAULTS))
def test_every_page_survives_a_store_stopped_mid_session(demo: Any, fault: str) -> None:
    manifest = demo.ensure()
    probe = demo.stores()
    try:
        with probe.core.read() as conn:
            uid = conn.exec_driver_sql("SELECT firebase_uid FROM users WHERE role = 'PATIENT' AND firebase_uid "
                                       "IS NOT NULL ORDER BY firebase_uid LIMIT 1").scalar()
    finally:
        probe.dispose()
    services = EmbeddedServices(demo.settings)

    # the session is under way: every page renders, nothing is down
    for page in PAGES:
        at = _render(page, uid)
        _no_exception(at, page, "before")
        assert not _notices(at), (page, _notices(at))

    _stop(services, fault)
    try:
        st.cache_data.clear()  # the cached reads expire; the session's stores stay cached
        for page in PAGES:
            at = _render(page, uid)
            _no_exception(at, page, "down")
            notices = _notices(at)
            assert len(notices) == 1, (page, notices)
            for label, part in FAULTS[fault]:
                assert label in notices[0] and part in notices[0].lower(), (page, notices[0])
            assert "Traceback" not in notices[0] and "postgresql+psycopg" not in notices[0]
        stores_page = _render("views/stores.py", uid)
        down = [str(e.value) for e in stores_page.error if str(e.value).startswith("Down: ")]
        assert len(down) == len(FAULTS[fault]), down
    finally:
        # back: the emulators restart empty (on other ports), so the demo refills them with the same data set
        run_demo(demo.settings, patients=manifest["patients"], seed=manifest["seed"], clean=manifest["clean"])
        demo.dirty = True
    assert all(EmbeddedServices(demo.settings).running().values())

    st.cache_data.clear()
    for page in PAGES:
        at = _render(page, uid)
        _no_exception(at, page, "after")
        assert not _notices(at), (page, _notices(at))
        if page.endswith("stores.py"):
            assert [str(s.value) for s in at.success] == ["Reachable"] * 3
        if page.endswith("patient.py"):
            assert not at.error, [str(e.value) for e in at.error]
            assert uid in "\n".join(str(c.value) for c in at.caption) + "\n".join(str(m.value) for m in at.markdown)
