"""The Weekly review page on the real demo stores: the comparison with the generated week,
acknowledging a finding, the downloads, the trend and the run picker."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from lib import history
from lib.checks.runner import run_checks
from lib.reports import AREAS
from tests.pages.support import TIMEOUT, _app, _counts, _frame, _metric, _ok, _planted, _plotly

pytestmark = pytest.mark.usefixtures("fresh_caches")


def test_weekly_review_compares_with_the_generated_week_and_acknowledges(demo: Any, stores: Any,
                                                                           downloads: dict[str, bytes]) -> None:
    from lib import review

    manifest = demo.ensure()
    run = run_checks(stores)  # the latest run of the history
    run.run_id = history.save_run(stores, run)
    at = _app("views/review.py")
    _ok(at)
    assert at.title[0].value == "Weekly review"
    caption = next(c.value for c in at.caption if c.value.startswith("Comparing"))
    assert "(generated)" in caption and f"#{run.run_id} " in caption and "7 days apart" in caption

    table = _frame(at, "review_table")
    assert _counts(table, "after") == _planted(manifest)
    status = dict(zip(table["check"], table["status"], strict=True))
    expected = {"sync.jobs_stuck": "new", "orphan.documents_file_missing": "new", "sync.jobs_failed": "worse",
                "dup.medications": "better", "orphan.appointments_patient": "better", "dup.active_connections": "resolved",
                "dup.core_users_email": "same", "constraint.missing": "same"}
    assert {c: status[c] for c in expected} == expected
    assert _metric(at, "New") == ["2"] and _metric(at, "Resolved") == ["1"]

    # acknowledge one finding: a missing comment is one sentence; then it is kept and shown apart
    key = manifest["planted"]["dup.medications"]["keys"][0]
    at.selectbox(key="ack_check").set_value("dup.medications").run(timeout=TIMEOUT)
    at.selectbox(key="ack_key").set_value(key)
    at.text_input(key="ack_by").input("on-call")
    at.form_submit_button[0].click().run(timeout=TIMEOUT)
    _ok(at)
    assert [e.value for e in at.error] == ["Write a comment that says why this finding is acknowledged."]
    at.selectbox(key="ack_key").set_value(key)
    at.text_area(key="ack_comment").input("Duplicates of a retried sync; cleaned up next sprint")
    at.text_input(key="ack_by").input("on-call")
    at.form_submit_button[0].click().run(timeout=TIMEOUT)
    _ok(at)
    assert not at.error
    active = _frame(at, "acks_active")
    mine = active[active["finding"] == key]
    assert len(mine) == 1 and mine["check"].iloc[0] == "dup.medications" and mine["by"].iloc[0] == "on-call"
    table = _frame(at, "review_table")
    row = table[table["check"] == "dup.medications"].iloc[0]  # still there: never hidden
    assert row["after"] == manifest["planted"]["dup.medications"]["count"]
    assert row["acknowledged"] == f"1 of {manifest['planted']['dup.medications']['count']} findings"
    assert any(a.finding_key == key for a in review.acknowledgements(stores))

    # the summary downloads
    rows = list(csv.DictReader(io.StringIO(downloads[[n for n in downloads if n.endswith(".csv")][0]].decode())))
    assert {r["check"]: int(r["after"]) for r in rows} == _planted(manifest)
    md = downloads[[n for n in downloads if n.endswith(".md")][0]].decode()
    assert md.startswith("# HealBridge weekly data-quality review") and "## Acknowledged" in md
    assert "| sync.jobs_stuck | warn | 0 |" in md

    # trend charts over the weeks
    spec = _plotly(at, "review_trend")
    assert spec["layout"]["title"]["text"] == "Findings per area, weekly"
    assert {t["name"] for t in spec["data"]} == set(AREAS)  # one line per area of the checks

    # any two runs: the latest against itself is not offered, the previous one is
    at.toggle(key="review_pick").set_value(True).run(timeout=TIMEOUT)
    _ok(at)
    latest = at.selectbox(key="review_after").options[0]
    assert latest.startswith(f"#{run.run_id} ")
    assert latest not in at.selectbox(key="review_before").options
    oldest = review.run_list(stores)[-1]  # the first generated week
    assert oldest.generated and oldest.label in at.selectbox(key="review_before").options
    at.selectbox(key="review_before").set_value(oldest).run(timeout=TIMEOUT)
    _ok(at)
    assert any(c.value.startswith(f"Comparing {oldest.label} with #{run.run_id} ") for c in at.caption)
    table = _frame(at, "review_table")
    want = {c.check: c.status for c in review.compare_runs(stores, oldest.id, run.run_id)}
    assert dict(zip(table["check"], table["status"], strict=True)) == want
    assert want["dup.active_connections"] == "resolved" and want["sync.jobs_stuck"] == "new"
