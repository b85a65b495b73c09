"""Pages show the server's latest check run; a run starts only on the dashboard's own schedule or on
an oncall/admin request, one at a time; clearing Streamlit's caches (anyone can send `clear_cache`)
starts none. Every page agrees on whether a store is reachable."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import streamlit as st
from streamlit.runtime import caching

from lib import history, web
from lib.checks import latest
from lib.checks.ids import CHECK_IDS
from lib.roles import Actor, Forbidden
from lib.services import EmbeddedServices
from tests import apptest_support

pytestmark = pytest.mark.usefixtures("fresh_caches")
TIMEOUT = 180


def _saved_web_runs(stores: Any) -> int:
    return sum(1 for r in history.runs(stores, limit=10_000) if r["source"] == "web")


def _run_caption(at: Any) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Checked at"))


def test_clearing_the_caches_starts_no_check_run(demo: Any, stores: Any) -> None:
    demo.ensure()
    at = apptest_support.app("views/health.py", timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    first = _run_caption(at)
    latest.wait_all()
    runs = _saved_web_runs(stores)
    for _ in range(3):
        # what Streamlit does for a `clear_cache` message of any browser, signed in or not
        caching.cache_data.clear()
        caching.cache_resource.clear()
        for page in ("views/health.py", "views/duplicates.py", "views/tokens.py", "views/constraints.py",
                     "views/checks.py"):
            at = apptest_support.app(page, timeout=TIMEOUT)
            assert not at.exception, (page, [e.value for e in at.exception])
    latest.wait_all()
    assert _saved_web_runs(stores) == runs
    at = apptest_support.app("views/health.py", timeout=TIMEOUT)
    assert _run_caption(at).split(" (")[0] == first.split(" (")[0]  # the same run, shown again


def test_one_run_at_a_time_and_requests_join_it(demo: Any, stores: Any) -> None:
    demo.ensure()
    svc = latest.RunService()
    got: list[Any] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            got.append(svc.run_now(stores, Actor("ada", "oncall")))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    before = _saved_web_runs(stores)
    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors
    assert svc.runs_started == 1
    assert len({id(r) for r in got}) == 1 and len(got) == 6
    assert {r.id for r in got[0].results} == set(CHECK_IDS)
    assert _saved_web_runs(stores) == before + 1


def test_support_may_not_run_the_checks_on_request(demo: Any, stores: Any) -> None:
    demo.ensure()
    svc = latest.RunService()
    with pytest.raises(Forbidden, match="needs oncall or admin"):
        svc.run_now(stores, Actor("sam", "support"))
    with pytest.raises(Forbidden):
        svc.run_now(stores, None)
    assert svc.runs_started == 0
    at = apptest_support.app(None, timeout=TIMEOUT)
    at.session_state["healbridge.role"] = "support"
    at.switch_page("views/checks.py").run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    button = at.button(key="run_checks")
    assert button.disabled
    assert at.dataframe  # support still sees the latest run
    # a click that reached the server anyway is refused where the work is done (run_now above)


def test_a_stale_run_is_shown_while_the_next_one_runs_in_the_background(demo: Any, stores: Any) -> None:
    demo.ensure()
    svc = latest.RunService()
    first = svc.latest(stores, max_age_s=3600, wait_s=300)
    assert first.run is not None and not first.from_history
    again = svc.latest(stores, max_age_s=3600)
    assert again.run is first.run and svc.runs_started == 1  # fresh enough: no new run
    stale = svc.latest(stores, max_age_s=0)
    assert stale.run is first.run  # shown at once, not waited for
    svc.wait_idle()
    assert svc.runs_started == 2
    assert svc.latest(stores, max_age_s=3600).run is not first.run


def test_every_page_agrees_on_a_store_that_came_back(demo: Any) -> None:
    """PostgreSQL stops and comes back: once its ping is due again, Stores, Health and Patient all say
    reachable (none keeps a cached "unreachable" for longer than the one ping)."""
    demo.ensure()
    probe = demo.stores()
    try:
        uid = _first_uid(probe)
    finally:
        probe.dispose()
    services = EmbeddedServices(demo.settings)
    pages = {"health": "views/health.py", "stores": "views/stores.py", "patient": "views/patient.py"}
    for page in pages.values():  # the caches are warm with everything up
        at = apptest_support.app(page, query={"q": uid} if page.endswith("patient.py") else None, timeout=TIMEOUT)
        assert not at.exception
    services.stop_postgres()
    time.sleep(web.PING_TTL_S + 0.5)  # the ping of the warm caches is due again
    try:
        for page in pages.values():  # and now hold the store down
            at = apptest_support.app(page, query={"q": uid} if page.endswith("patient.py") else None,
                                     timeout=TIMEOUT)
            assert not at.exception
        assert any("Unreachable now" in str(w.value) for w in at.warning)
    finally:
        services.start()
    time.sleep(web.PING_TTL_S + 0.5)
    for name, page in pages.items():
        at = apptest_support.app(page, query={"q": uid} if page.endswith("patient.py") else None, timeout=TIMEOUT)
        assert not at.exception, (name, [e.value for e in at.exception])
        notices = [str(w.value) for w in at.warning if "Unreachable" in str(w.value)]
        assert not notices, (name, notices)
        downs = [str(e.value) for e in at.error if "down" in str(e.value).lower()]
        assert not downs, (name, downs)
        if name == "health":
            badges = [m.value for m in at.markdown if "badge[" in m.value]
            assert sum("Reachable" in b for b in badges) == 3, badges
        if name == "stores":
            assert [str(s.value) for s in at.success] == ["Reachable"] * 3
    st.cache_data.clear()


def _first_uid(stores: Any) -> str:
    with stores.core.read() as conn:
        return str(conn.exec_driver_sql("SELECT firebase_uid FROM users WHERE role = 'PATIENT' AND firebase_uid "
                                        "IS NOT NULL ORDER BY firebase_uid LIMIT 1").scalar())


def test_the_run_happens_in_a_worker_process_and_outlives_its_death(demo: Any, stores: Any) -> None:
    """The check run is not in the dashboard's process (it would hold the interpreter against every
    page's rerun): one worker process runs it; a worker killed mid-run costs that run only (said in
    one sentence, the run before stays shown) and the next run gets a new worker."""
    import os
    import signal

    demo.ensure()
    svc = latest.RunService()
    assert svc.worker_pid is None
    first = svc.latest(stores, max_age_s=3600, wait_s=300)
    assert first.run is not None and first.error is None
    pid = svc.worker_pid
    assert pid is not None and pid != os.getpid()
    assert {r.id for r in first.run.results} == set(CHECK_IDS) and first.run.run_id  # whole, and saved
    svc.latest(stores, max_age_s=0)  # stale: a background run starts in that worker
    os.kill(pid, signal.SIGKILL)
    svc.wait_idle()
    after = svc.latest(stores, max_age_s=3600)
    assert after.run is first.run and after.error and "worker process ended" in after.error
    svc.latest(stores, max_age_s=0)
    svc.wait_idle()
    fresh = svc.latest(stores, max_age_s=3600)
    assert fresh.run is not first.run and fresh.error is None and svc.worker_pid not in (None, pid)
    assert {r.id for r in fresh.run.results} == set(CHECK_IDS)
    svc.close()
