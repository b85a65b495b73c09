"""The weekly review (lib.review) on a real ops database: comparisons, acknowledgements (validated, kept,
never hiding a finding), the summaries, the weekly trend, the run picker, and the demo's generated
history derived from its manifest."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from lib import history, review
from lib.checks.ids import BY_ID, CHECK_IDS
from lib.errors import NotFound
from tests.support import _run


@pytest.mark.parametrize(
    ("before", "after", "status"),
    [(0, 0, "ok"), (0, 3, "new"), (3, 0, "resolved"), (2, 5, "worse"), (5, 2, "better"), (4, 4, "same"),
     (None, 4, "unknown"), (4, None, "unknown")],
)
def test_classify(before: int | None, after: int | None, status: str) -> None:
    assert review.classify(before, after) == status


def test_compare_tells_new_and_resolved_keys_even_from_partial_samples() -> None:
    def row(cid: str, count: int | None, sample: list[str]) -> dict[str, Any]:
        return {"check_id": cid, "severity": BY_ID[cid].severity, "count": count, "sample": sample}

    before = [row("dup.medications", 3, ["a", "b", "c"]), row("sync.jobs_failed", 25, [f"k{i:02d}" for i in range(20)]),
              row("orphan.documents_patient", None, [])]
    after = [row("dup.medications", 3, ["b", "c", "d"]),
             row("sync.jobs_failed", 30, ["j00", *[f"k{i:02d}" for i in range(1, 20)]]),
             row("orphan.documents_patient", 2, ["x", "y"])]
    by = {c.check: c for c in review.compare(before, after)}
    assert list(by) == [c for c in CHECK_IDS if c in by]  # registry order
    med = by["dup.medications"]
    assert (med.status, med.new_keys, med.resolved_keys, med.delta) == ("same", ("d",), ("a",), 0)
    jobs = by["sync.jobs_failed"]
    # both samples are the first 20 of longer key lists: "j00" sorts before the earlier sample's last
    # key, so it is certainly new; "k00" sorts before the later sample's last key, so it certainly went
    assert (jobs.status, jobs.new_keys, jobs.resolved_keys) == ("worse", ("j00",), ("k00",))
    docs = by["orphan.documents_patient"]
    assert (docs.status, docs.new_keys, docs.delta) == ("unknown", (), None)


def test_compare_runs_of_the_history_and_unknown_runs(ops: Any) -> None:
    t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    a = history.save_run(ops, _run(t - timedelta(days=7), {"dup.medications": 4, "sync.jobs_failed": 1}))
    b = history.save_run(ops, _run(t, {"dup.medications": 2, "sync.jobs_stuck": 3}))
    changes = {c.check: c for c in review.compare_runs(ops, a, b)}
    assert set(changes) == set(CHECK_IDS)
    assert changes["dup.medications"].status == "better" and changes["sync.jobs_failed"].status == "resolved"
    assert changes["sync.jobs_stuck"].status == "new" and changes["sync.jobs_stuck"].new_keys == tuple(
        f"sync.jobs_stuck-{i:03d}" for i in range(3))
    assert review.counts_by_status(changes.values()) == {"new": 1, "worse": 0, "better": 1, "resolved": 1,
                                                         "same": 0, "ok": len(CHECK_IDS) - 3, "unknown": 0}
    with pytest.raises(NotFound, match=r"no check run #999999"):
        review.compare_runs(ops, a, 999999)


def test_default_pair_is_the_latest_run_and_the_one_a_week_before(ops: Any) -> None:
    assert review.default_pair(ops) == (None, None)
    t = datetime(2026, 3, 20, 9, tzinfo=UTC)
    first = history.save_run(ops, _run(t - timedelta(days=2), {}))
    assert review.default_pair(ops)[0] is None and review.default_pair(ops)[1].id == first  # one run: nothing to compare
    latest = history.save_run(ops, _run(t, {}))
    # the history is younger than a week: its oldest run
    assert [r.id if r else None for r in review.default_pair(ops)] == [first, latest]
    old = [history.save_run(ops, _run(t - timedelta(days=d), {})) for d in (10, 8)]
    history.save_run(ops, _run(t - timedelta(days=6, hours=23), {}))
    before, after = review.default_pair(ops)
    assert (before.id, after.id) == (old[1], latest)  # the newest at least 7 days before the latest
    assert [r.id for r in review.run_list(ops)][0] == latest


def test_acknowledgements_are_validated_kept_and_never_deleted(ops: Any) -> None:
    now = datetime.now(UTC)
    ack = review.acknowledge(ops, "dup.medications", "  retried sync; cleaned next sprint ", date.today() + timedelta(days=3),
                             key="med-1", by="ana")
    whole = review.acknowledge(ops, "token.expiring_soon", "expected churn", now + timedelta(days=1))
    acks = {a.id: a for a in review.acknowledgements(ops)}
    assert acks[ack].comment == "retried sync; cleaned next sprint" and acks[ack].finding_key == "med-1"
    assert acks[ack].created_by == "ana" and acks[ack].state() == "active"
    # a date means through that day (UTC)
    assert acks[ack].expires_at == datetime.combine(date.today() + timedelta(days=4), datetime.min.time(), UTC)
    assert acks[whole].finding_key is None and acks[whole].scope == "every finding of the check"

    bad = [
        (("nope.check", "x", now + timedelta(days=1)), "Unknown check id 'nope.check'"),
        (("dup.medications", "   ", now + timedelta(days=1)), "Write a comment that says why"),
        (("dup.medications", "x", date.today() - timedelta(days=1)), "The expiry date must be in the future."),
        (("dup.medications", "x", now + timedelta(days=400)), "at most a year ahead"),
        (("dup.medications", "x" * 3000, now + timedelta(days=1)), "The comment is too long"),
    ]
    for args, message in bad:
        with pytest.raises(review.ReviewError) as info:
            review.acknowledge(ops, *args)
        assert message in str(info.value) and "\n" not in str(info.value)
    assert len(review.acknowledgements(ops)) == 2  # nothing written by a refusal

    # ending one keeps it, marked; ending twice changes nothing
    assert review.end_acknowledgement(ops, whole, by="bo") is True
    assert review.end_acknowledgement(ops, whole, by="bo") is False
    ended = {a.id: a for a in review.acknowledgements(ops)}[whole]
    assert ended.state() == "ended" and ended.ended_by == "bo"

    # an acknowledgement written a while ago that has expired since is listed as expired
    past = now - timedelta(days=30)
    old = review.acknowledge(ops, "dup.medications", "old", past + timedelta(days=10), key="med-2", now=past)
    assert {a.id: a for a in review.acknowledgements(ops)}[old].state(now) == "expired"


def test_coverage_marks_what_active_acknowledgements_cover(ops: Any) -> None:
    now = datetime.now(UTC)
    t = now - timedelta(hours=1)
    a = history.save_run(ops, _run(t - timedelta(days=7), {"dup.medications": 1}))
    b = history.save_run(ops, _run(t, {"dup.medications": 3, "sync.jobs_failed": 2, "token.expiring_soon": 1}))
    changes = review.compare_runs(ops, a, b)
    review.acknowledge(ops, "dup.medications", "known", now + timedelta(days=2), key="dup.medications-001")
    review.acknowledge(ops, "dup.medications", "not in the run", now + timedelta(days=2), key="gone")
    review.acknowledge(ops, "sync.jobs_failed", "whole", now + timedelta(days=2))
    past = now - timedelta(days=20)
    review.acknowledge(ops, "token.expiring_soon", "expired", past + timedelta(days=5), now=past)
    cov = review.coverage(changes, review.acknowledgements(ops), now)
    assert set(cov) == {"dup.medications", "sync.jobs_failed"}
    assert list(cov["dup.medications"].keys) == ["dup.medications-001"]
    assert cov["dup.medications"].describe(3) == "1 of 3 findings"
    assert cov["sync.jobs_failed"].whole is not None and cov["sync.jobs_failed"].describe(2).startswith("whole check")

    # never hidden: every check stays in the comparison, the covered ones marked
    frame = review.comparison_frame(changes, cov)
    assert set(frame["check"]) == set(CHECK_IDS)
    marked = dict(zip(frame["check"], frame["acknowledged"], strict=True))
    assert marked["dup.medications"] == "1 of 3 findings" and marked["token.expiring_soon"] == ""
    assert list(frame["status"][:2]) == ["new", "new"]  # changes first


def test_summaries_in_csv_and_markdown(ops: Any) -> None:
    now = datetime.now(UTC)
    a = history.save_run(ops, _run(now - timedelta(days=7), {"dup.medications": 1, "orphan.storage_objects": 2}))
    b = history.save_run(ops, _run(now, {"dup.medications": 2, "sync.jobs_failed": 1},
                                   {"sync.jobs_failed": ["job|with|pipes"]}))
    changes = review.compare_runs(ops, a, b)
    review.acknowledge(ops, "sync.jobs_failed", "a | pipe in the comment", now + timedelta(days=1))
    acks = review.acknowledgements(ops)
    cov = review.coverage(changes, acks, now)
    frame = review.comparison_frame(changes, cov)
    rows = list(csv.DictReader(io.StringIO(review.summary_csv(frame))))
    assert [r["check"] for r in rows] == list(frame["check"]) and len(rows) == len(CHECK_IDS)
    assert {r["check"]: r["status"] for r in rows if r["status"] != "ok"} == {
        "sync.jobs_failed": "new", "dup.medications": "worse", "orphan.storage_objects": "resolved"}
    md = review.summary_markdown(review.get_run(ops, a), review.get_run(ops, b), changes, cov, acks, now)
    assert md.startswith("# HealBridge weekly data-quality review")
    assert "1 new · 1 worse · 0 better · 1 resolved" in md
    assert "| sync.jobs_failed | error | 0 | 1 | 1 | new | whole check, until" in md
    assert "a \\| pipe in the comment" in md and "## Acknowledged" in md and "## Still failing" in md

    clean = review.summary_markdown(review.get_run(ops, a), review.get_run(ops, a),
                                    review.compare_runs(ops, a, a), {}, [], now)
    assert "Nothing changed between the two runs." in clean


def test_weekly_trend_takes_the_last_run_of_each_week(ops: Any) -> None:
    now = datetime(2026, 5, 14, 12, tzinfo=UTC)  # a Thursday
    for days, n in ((15, 1), (8, 5), (7, 6), (1, 2), (0, 3)):
        history.save_run(ops, _run(now - timedelta(days=days), {"dup.medications": n}))
    trend = review.weekly_trend(ops, weeks=4, now=now)
    med = trend[trend["check"] == "dup.medications"]
    assert list(med["count"]) == [1, 6, 3]  # weeks of Apr 27, May 4 (the Thursday's run), May 11
    assert set(trend["area"]) == {BY_ID[c].area for c in CHECK_IDS}


def test_demo_writes_generated_weekly_history_derived_from_its_manifest(demo: Any, stores: Any) -> None:
    manifest = demo.ensure()
    anchor = datetime.fromisoformat(manifest["anchor"])
    gen = [r for r in history.runs(stores, 500) if r["generated"]]
    assert len(gen) == 16 and {r["source"] for r in gen} == {"demo"}
    assert sorted(r["started_at"] for r in gen) == [anchor - timedelta(days=d) for d in (28, 21, 14, *range(13, 0, -1))]

    weeks = sorted((r for r in gen if (anchor - r["started_at"]).days % 7 == 0), key=lambda r: r["started_at"])
    series: dict[str, list[int]] = {c: [] for c in CHECK_IDS}
    for r in weeks:
        results = {x["check_id"]: x for x in history.results(stores, r["id"])}
        assert set(results) == set(CHECK_IDS)
        for cid, x in results.items():
            series[cid].append(x["count"])
            planted = manifest["planted"][cid]
            assert x["sample"] == sorted(x["sample"]) and len(x["sample"]) == min(20, x["count"])
            if x["count"] <= planted["count"]:
                assert set(x["sample"]) <= set(planted["keys"]), cid  # still-open findings are today's rows
    for cid in CHECK_IDS:
        now = manifest["planted"][cid]["count"]
        scenario = review.SCENARIOS.get(cid, "steady")
        s = series[cid]
        if scenario == "steady":
            assert s == [now] * 4, cid
        elif scenario == "new":
            assert s == [0] * 4 and now > 0, cid
        elif scenario == "growing":
            assert s == sorted(s) and s[-1] < now, cid
        elif scenario == "shrinking":
            assert s == sorted(s, reverse=True) and s[-1] > now, cid
        elif scenario == "resolved":
            assert now == 0 and min(s) > 0, cid

    # the same manifest gives the same history; a clean demo's history is clean
    again = review.generated_runs(manifest)
    assert [[(r.id, r.count, r.keys) for r in run.results] for run in again] == \
        [[(r.id, r.count, r.keys) for r in run.results] for run in review.generated_runs(manifest)]
    clean = review.generated_runs({**manifest, "clean": True,
                                   "planted": {c: {"count": 0, "keys": []} for c in CHECK_IDS}})
    assert {r.count for run in clean for r in run.results} == {0}


def test_the_run_picker_offers_the_latest_runs_and_one_a_day(ops: Any) -> None:
    now = datetime(2026, 6, 30, 12, tzinfo=UTC)
    minutes = [history.save_run(ops, _run(now - timedelta(minutes=m), {})) for m in range(0, 8)]
    days = [history.save_run(ops, _run(now - timedelta(days=d, hours=h), {})) for d in (2, 3) for h in (1, 5)]
    ancient = history.save_run(ops, _run(now - timedelta(days=400), {}))
    picked = [r.id for r in review.pickable_runs(ops, recent=3, days=30, now=now)]
    # the three latest, today's last is among them, then the last run of each earlier day
    assert picked == [minutes[0], minutes[1], minutes[2], days[0], days[2]]
    with_old = review.pickable_runs(ops, recent=3, days=30, now=now, include=[review.get_run(ops, ancient), None])
    assert with_old[-1].id == ancient
