"""The Stores page on the real demo stores: three reachable stores with the adapters' own row counts;
outside the demo a store down and one not configured, while the others still show."""

from __future__ import annotations

from typing import Any

import pytest

from lib.services import free_port
from tests.pages.support import STORES, TIMEOUT, _app, _frame_counts, _uris

pytestmark = pytest.mark.usefixtures("fresh_caches")


def test_stores_page_shows_three_reachable_stores_with_their_row_counts(demo: Any, stores: Any) -> None:
    at = _app("views/stores.py")
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


def test_store_down_and_not_configured_while_others_show(demo: Any, stores: Any, monkeypatch: Any) -> None:
    """Outside the demo: core configured and up, Supabase not configured, Firebase pointed at ports
    where nothing listens. Each is shown for what it is, and no demo banner."""
    demo.ensure()
    monkeypatch.setenv("CORE_DATABASE_URL", _uris(demo)["core"])
    monkeypatch.setenv("FIREBASE_PROJECT_ID", "healbridge-down")
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    at = _app("views/stores.py")
    assert not at.exception, [e.value for e in at.exception]
    assert not [w for w in at.warning if "Demo" in w.value]
    assert [s.value for s in at.success] == ["Reachable"]  # core
    assert [i.value for i in at.info] == ["Not configured"]  # supabase
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Down: ") and "firebase" in errors[0]
    # the store that is up still shows its row counts
    assert [_frame_counts(df.value) for df in at.dataframe] == [stores.core.row_counts()]
