"""The web app under Streamlit's AppTest, on the real demo stores (no mocks): the Stores page shows
three reachable stores with the adapters' own row counts, every page carries the demo banner, the
Checks page shows exactly what run_checks finds, a store that is down or not configured is shown so
while the others still show, and a broken configuration is one sentence without its secret."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib.checks.ids import CHECK_IDS
from lib.checks.runner import run_checks
from lib.services import EmbeddedServices
from tests import apptest_support
from tests.apptest_support import rendered

pytestmark = pytest.mark.usefixtures("fresh_caches")

TIMEOUT = 120
STORES = ("core", "supabase", "firebase")


def _app(page: str | None = None) -> AppTest:
    return apptest_support.app(page, timeout=TIMEOUT)


def _frame_counts(df: pd.DataFrame) -> dict[str, int | None]:
    return {str(t): (None if pd.isna(n) else int(n)) for t, n in zip(df["table"], df["rows"], strict=True)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _demo_uris(demo: Any) -> dict[str, str]:
    return EmbeddedServices(demo.settings).state.raw["postgres"]["uris"]


# ---------------------------------------------------------------------- Stores
def test_stores_page_shows_three_reachable_stores_with_their_row_counts(demo: Any, stores: Any) -> None:
    at = _app("pages/stores.py")
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Stores"
    assert [s.value for s in at.subheader] == ["Core PostgreSQL", "Supabase", "Firebase"]
    assert [s.value for s in at.success] == ["Reachable"] * 3
    latencies = [m for m in at.metric if m.label == "Latency"]
    assert len(latencies) == 3 and all(m.value.endswith(" ms") for m in latencies)
    captions = " ".join(c.value for c in at.caption)
    assert "PostgreSQL" in captions and "Firebase Auth + Firestore" in captions

    expected = {name: stores.get(name).row_counts() for name in STORES}
    shown = [_frame_counts(df.value) for df in at.dataframe]
    assert shown == [expected[n] for n in STORES]
    # the demo really has rows everywhere the page counts them
    assert all(expected["core"].values()) and all(expected["supabase"].values()) and all(expected["firebase"].values())

    # Refresh asks again and shows the same
    at.button(key="refresh_stores").click().run(timeout=TIMEOUT)
    assert not at.exception
    assert [_frame_counts(df.value) for df in at.dataframe] == [expected[n] for n in STORES]


@pytest.mark.parametrize("page", ["pages/stores.py", "pages/checks.py"])
def test_every_page_says_it_is_a_demo(demo: Any, page: str) -> None:
    demo.ensure()
    at = _app(page)
    assert not at.exception
    banners = [w.value for w in at.warning if "Demo" in w.value]
    assert len(banners) == 1 and "generated" in banners[0]


def test_store_down_and_not_configured_while_others_show(demo: Any, stores: Any, monkeypatch: Any) -> None:
    """Outside the demo: core configured and up, Supabase not configured, Firebase pointed at ports
    where nothing listens. Each is shown for what it is, and no demo banner."""
    demo.ensure()
    monkeypatch.setenv("CORE_DATABASE_URL", _demo_uris(demo)["core"])
    monkeypatch.setenv("FIREBASE_PROJECT_ID", "healbridge-down")
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", f"127.0.0.1:{_free_port()}")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{_free_port()}")
    at = _app("pages/stores.py")
    assert not at.exception, [e.value for e in at.exception]
    assert not [w for w in at.warning if "Demo" in w.value]
    assert [s.value for s in at.success] == ["Reachable"]  # core
    assert [i.value for i in at.info] == ["Not configured"]  # supabase
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Down: ") and "firebase" in errors[0]
    # the store that is up still shows its row counts
    assert [_frame_counts(df.value) for df in at.dataframe] == [stores.core.row_counts()]


# ---------------------------------------------------------------------- Checks
def test_checks_page_shows_what_run_checks_finds(demo: Any, stores: Any) -> None:
    manifest = demo.ensure()
    at = _app("pages/checks.py")
    assert not at.exception
    assert at.title[0].value == "Checks"
    first = at.dataframe[0].value  # the latest run of the server, before any click
    assert set(first["check"]) == set(CHECK_IDS)
    at.button(key="run_checks").click().run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.status and at.status[0].state == "complete"

    df = at.dataframe[0].value
    shown = {str(c): (None if pd.isna(n) else int(n)) for c, n in zip(df["check"], df["count"], strict=True)}
    assert set(shown) == set(CHECK_IDS)
    assert shown == {cid: manifest["planted"][cid]["count"] for cid in CHECK_IDS}
    direct = run_checks(stores)
    assert shown == {r.id: r.count for r in direct.results}
    assert df["error"].isna().all()

    # sorted by severity, then count (largest first)
    order = {"error": 0, "warn": 1, "info": 2}
    keys = [(order[s], -(n if not pd.isna(n) else -1)) for s, n in zip(df["severity"], df["count"], strict=True)]
    assert keys == sorted(keys)
    # the sample column holds the first keys of each check's sample
    by_check = dict(zip(df["check"], df["sample"], strict=True))
    for cid in CHECK_IDS:
        first = manifest["planted"][cid]["keys"][:1]
        if first:
            assert by_check[cid].startswith(first[0]), cid

    # the run stays on the page across reruns of the session
    at.run(timeout=TIMEOUT)
    assert at.dataframe and len(at.dataframe[0].value) == len(CHECK_IDS)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("page", ["pages/stores.py", "pages/checks.py"])
def test_malformed_configuration_is_one_sentence_without_the_secret(demo: Any, monkeypatch: Any, page: str) -> None:
    monkeypatch.setenv("CORE_DATABASE_URL", "not a url :: secretpw")
    at = _app(page)
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "CORE_DATABASE_URL" in message
    assert "Traceback" not in message
    assert "secretpw" not in rendered(at)
    assert not at.dataframe  # the page stopped there


def test_missing_tool_for_the_demo_is_one_sentence(monkeypatch: Any, tmp_path: Path) -> None:
    """A demo that cannot start (here: the Firestore emulator jar named does not exist) says what to
    install or set, in the status box, without a traceback; nothing is started."""
    data = tmp_path / "d"
    monkeypatch.setenv("HEALBRIDGE_DATA_DIR", str(data))
    monkeypatch.setenv("FIRESTORE_EMULATOR_JAR", str(tmp_path / "missing.jar"))
    at = _app()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "FIRESTORE_EMULATOR_JAR" in errors[0]
    assert at.status and at.status[0].state == "error"
    assert not at.dataframe
    assert not (data / "demo.json").exists()
