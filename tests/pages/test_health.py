"""The Health page (the landing page) on the real demo stores: what the checks find, worst first, with
report and fix links, the trend, the stores and the sync jobs; a store down or not configured."""

from __future__ import annotations

import socket
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import text

from lib import history
from lib.checks.ids import BY_ID, CHECK_IDS
from lib.checks.runner import run_checks
from tests.pages.support import TIMEOUT, _app, _counts, _frame, _metric, _ok, _planted, _uris

pytestmark = pytest.mark.usefixtures("fresh_caches")


def test_health_is_the_landing_page_and_shows_what_the_checks_find(demo: Any, stores: Any) -> None:
    manifest = demo.ensure()
    at = _app()  # no page asked: the default one
    _ok(at)
    assert at.title[0].value == "Health"
    direct = run_checks(stores)
    assert {r.id: r.count for r in direct.results} == _planted(manifest)

    # the failing checks: every planted check with its count, worst first, with report and fix links
    failing = _frame(at, "health_failing")
    assert _counts(failing) == {c: n for c, n in _planted(manifest).items() if n}
    rank = {"error": 0, "warn": 1, "info": 2}
    order = [(rank[s], -int(n)) for s, n in zip(failing["severity"], failing["count"], strict=True)]
    assert order == sorted(order)
    links = dict(zip(failing["check"], failing["fix"], strict=True))
    assert links["dup.open_conversations"] == "fixes?fix=close_duplicate_conversations"
    assert links["token.expired_active"] == "fixes?fix=deactivate_expired_tokens"
    assert pd.isna(links["sync.field_drift"]) or links["sync.field_drift"] is None
    reports = dict(zip(failing["check"], failing["report"], strict=True))
    assert reports["orphan.documents_patient"] == "duplicates" and reports["constraint.missing"] == "constraints"
    assert reports["token.expired_active"] == "tokens" and reports["sync.jobs_failed"] == "checks"
    # the trend since the previous run of the history (at least the demo's generated weeks)
    caption = next(c.value for c in at.caption if "change since run #" in c.value)
    prev_id = int(caption.split("change since run #")[1].split(" ")[0])
    prev = {r["check_id"]: r["count"] for r in history.results(stores, prev_id)}
    assert _counts(failing, "previous") == {c: prev.get(c) for c in failing["check"]}  # None: not in that run
    known = failing["previous"].notna()
    assert (failing["change"][known] == (failing["count"] - failing["previous"])[known]).all()

    # stores: reachable with a latency, Firebase snapshot age = the check run's time
    badges = [m.value for m in at.markdown if "badge[" in m.value]
    assert sum("Reachable" in b for b in badges) == 3
    assert any(c.value.startswith("Users and profiles listed") for c in at.caption)
    assert any(c.value.startswith("Checked at") for c in at.caption)

    # a tile per area, coloured by its worst finding, with the sum of its counts
    findings = _metric(at, "Findings")
    areas = ["sync", "duplicates", "orphans", "tokens", "access", "constraints", "pulse"]
    assert findings == [f"{sum(n for c, n in _planted(manifest).items() if BY_ID[c].area == a):,}" for a in areas]
    area_badges = [b for b in badges if "Reachable" not in b]
    assert len(area_badges) == 7 and all(b.startswith(":red-badge[") for b in area_badges)  # every area has an error
    assert [p.proto.page for p in at.get("page_link")] == ["checks", "duplicates", "duplicates", "tokens", "checks",
                                                            "constraints", "checks"]

    # sync jobs: the failed and stuck checks, failures by kind over time, top last_error messages
    assert _metric(at, "Failed") == [str(manifest["planted"]["sync.jobs_failed"]["count"])]
    assert _metric(at, "Stuck") == [str(manifest["planted"]["sync.jobs_stuck"]["count"])]
    assert "**Failed sync jobs by kind, last 14 days**" in [m.value for m in at.markdown]
    by_kind = _frame(at, "health_failures")  # a row per kind, most failures first, with a bar per day
    assert int(by_kind["failed"].sum()) == manifest["planted"]["sync.jobs_failed"]["count"]
    assert list(by_kind["failed"]) == sorted(by_kind["failed"], reverse=True)
    assert all(len(days) == 15 and sum(days) == n for days, n in zip(by_kind["per_day"], by_kind["failed"], strict=True))
    with stores.core.read() as conn:  # what the table says, asked of core directly
        direct = dict(conn.execute(text("SELECT kind, count(*) FROM sync_jobs WHERE status = 'failed' "
                                        "AND updated_at >= date_trunc('day', now()) - interval '14 days' GROUP BY kind")).all())
    assert dict(zip(by_kind["kind"], by_kind["failed"], strict=True)) == direct
    assert not at.get("plotly_chart")  # a chart costs the browser more than the rest of the page (BENCHMARKS.md)
    errors = _frame(at, "health_errors")
    assert int(errors["jobs"].sum()) == manifest["planted"]["sync.jobs_failed"]["count"]

    # "Run checks now" runs them afresh, with its progress, and the page shows the new run
    before = [c.value for c in at.caption if c.value.startswith("Checked at")][0]
    at.button(key="health_run").click().run(timeout=TIMEOUT)
    _ok(at)
    assert at.status and at.status[0].state == "complete"
    after = [c.value for c in at.caption if c.value.startswith("Checked at")][0]
    assert after != before
    assert _counts(_frame(at, "health_failing")) == {c: n for c, n in _planted(manifest).items() if n}


def test_health_shows_a_store_down_and_one_not_configured(demo: Any, monkeypatch: Any) -> None:
    """Outside the demo: core up, Supabase not configured, Firebase where nothing listens. The page
    still renders: the stores for what they are, the checks that could not run as unknown."""
    demo.ensure()
    monkeypatch.setenv("CORE_DATABASE_URL", _uris(demo)["core"])
    monkeypatch.setenv("FIREBASE_PROJECT_ID", "healbridge-down")
    for name in ("FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST"):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            monkeypatch.setenv(name, f"127.0.0.1:{sock.getsockname()[1]}")
    at = _app("views/health.py")
    _ok(at)
    badges = [m.value for m in at.markdown if "badge[" in m.value]
    assert badges[:3] == [":green-badge[:material/check_circle: Reachable]", ":gray-badge[:material/help: Not configured]",
                          ":red-badge[:material/error: Down]"]
    failing = _frame(at, "health_failing")
    unknown = failing[failing["count"].isna()]
    assert set(unknown["check"]) == {c for c in CHECK_IDS if set(BY_ID[c].stores) - {"core"}}
    assert unknown["error"].notna().all()
    # the core-only checks still count
    assert _counts(failing[failing["count"].notna()]) == {
        c: n for c, n in _planted(demo.manifest).items() if BY_ID[c].stores == ("core",) and n}
    assert _metric(at, "Failed") == [str(demo.manifest["planted"]["sync.jobs_failed"]["count"])]
