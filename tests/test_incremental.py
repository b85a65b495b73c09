"""Incremental check runs (issue 16): after a first incremental run (a full read, kept), changes of
every kind are made with real SQL and Firebase writes; the next incremental run reads only what
changed and its counts and keys equal those of a fresh full run on the same data."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from lib import history
from lib.bench.incremental import KINDS, apply_changes
from lib.checks.incremental import INCREMENTAL_PARTS
from lib.checks.kept import forget
from lib.checks.runner import run_checks, to_json
from lib.services import EmbeddedServices
from tests.support import _env, _rows, _run_cli

ALL = 10_000_000


def _results(run: Any) -> dict[str, tuple[int | None, list[str]]]:
    return {r.id: (r.count, r.keys) for r in run.results}


def _ops_rows(stores: Any, sql: str, **params: Any) -> list[dict[str, Any]]:
    from sqlalchemy import text

    with stores.ops.transaction() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]


def _change(demo: Any, stores: Any) -> dict[str, int]:
    uris = EmbeddedServices(demo.settings).state.raw["postgres"]["uris"]
    return apply_changes(stores, uris["core"], uris["supabase"], 300, seed=5, fraction=0.05)


def test_an_incremental_run_after_every_kind_of_change_counts_what_a_full_run_counts(demo: Any, ops: Any) -> None:
    demo.dirty = True  # this test writes to the stores
    stores = ops
    forget(stores)
    first = run_checks(stores, incremental=True, keys_limit=ALL)
    assert first.reads is not None and {first.reads[p].mode for p in INCREMENTAL_PARTS} == {"full"}
    history.save_run(stores, first)  # its finding keys are the next run's
    changes = _change(demo, stores)
    assert all(changes[k] >= 1 for k in KINDS), changes

    inc = run_checks(stores, incremental=True, keys_limit=ALL)
    full = run_checks(stores, keys_limit=ALL)

    assert all(r.error is None for r in inc.results), [(r.id, r.error) for r in inc.results if r.error]
    assert _results(inc) == _results(full)
    assert _results(full) != _results(first)  # the changes moved findings: the comparison is not vacuous
    moved = {c for c, v in _results(full).items() if v != _results(first)[c]}
    assert {"sync.core_user_missing_in_firebase", "sync.firebase_user_missing_in_core", "sync.field_drift",
            "sync.patient_missing_in_supabase", "token.expired_active"} <= moved, moved
    assert inc.reads is not None
    for part in INCREMENTAL_PARTS:  # each identity part read incrementally, far fewer rows than in full
        assert inc.reads[part].mode == "incremental", (part, inc.reads[part])
        assert inc.reads[part].rows_read < first.reads[part].rows_read, part


def test_the_json_says_what_each_finding_was_read_from_and_when_in_full(demo: Any, ops: Any) -> None:
    from tests.support import _write

    demo.dirty = True
    stores = ops
    forget(stores)
    with _env({"OPS_DATABASE_URL": stores.ops_url}):
        code, out, _ = _run_cli(["check", "--incremental", "--json"])
        assert code in (0, 1)
        first = json.loads(out)
        uris = EmbeddedServices(demo.settings).state.raw["postgres"]["uris"]
        uid = _rows(stores.core, "SELECT firebase_uid AS uid FROM users WHERE role = 'PATIENT' "
                                 "AND firebase_uid IS NOT NULL ORDER BY id LIMIT 1")[0]["uid"]
        _write(uris["core"], "UPDATE users SET email = 'moved.x@example.com', updated_at = now() "
                             "WHERE firebase_uid = :u", {"u": uid})
        code, out, _ = _run_cli(["check", "--incremental", "--json"])
        second = json.loads(out)
        code, out, _ = _run_cli(["check", "--json"])
        plain = json.loads(out)
    for doc in (first, second, plain):  # a check that could not run names its error here
        assert [(f["check"], f.get("error")) for f in doc["findings"] if f["count"] is None] == []
    assert first["incremental"] and second["incremental"] and not plain["incremental"]
    by = {f["check"]: f for f in second["findings"]}
    first_by = {f["check"]: f for f in first["findings"]}
    assert {f["read"] for f in first["findings"]} == {"full"}
    drift = by["sync.field_drift"]
    assert drift["read"] == "incremental"
    assert drift["last_full_at"] == first_by["sync.field_drift"]["last_full_at"]
    # read in full before the second run's document was made (generated_at is to the second)
    assert datetime.fromisoformat(drift["last_full_at"]).replace(microsecond=0) <= datetime.fromisoformat(
        second["generated_at"].replace("Z", "+00:00"))
    assert by["constraint.missing"]["read"] == "reused"  # the catalog checks: their nightly cadence
    assert by["constraint.missing"]["count"] == first_by["constraint.missing"]["count"]
    assert by["dup.core_users_email"]["read"] == "full"  # single-store SQL: the database reads it in full
    assert set(second["reads"]["rows_read"]) >= {"core", "supabase", "firebase_auth", "firestore"}
    assert second["reads"]["parts"]["core_users"]["mode"] == "incremental"
    assert second["reads"]["parts"]["core_users"]["rows_read"] >= 1
    assert {f["check"]: f["count"] for f in second["findings"]} == {f["check"]: f["count"] for f in plain["findings"]}
    # what a run read is kept with it in the ops database
    rows = _ops_rows(stores, "SELECT part, mode FROM check_run_reads WHERE run_id = :r", r=second["run_id"])
    assert {r["part"]: r["mode"] for r in rows}["core_users"] == "incremental"


def test_the_watcher_runs_incrementally_and_finding_keys_are_kept_for_the_newest_runs(demo: Any, ops: Any) -> None:
    from lib.watch import run_once
    from lib.watch.config import load as load_config

    stores = ops
    forget(stores)
    cfg = load_config(stores.settings)
    assert cfg.incremental
    docs = [run_once(stores, config=cfg, send=False)[0] for _ in range(5)]
    assert all(d["incremental"] for d in docs)
    modes = _ops_rows(stores, "SELECT run_id, part, mode FROM check_run_reads ORDER BY run_id")
    last = {r["part"]: r["mode"] for r in modes if r["run_id"] == docs[-1]["run_id"]}
    assert last["core_users"] == "incremental" and last["fb_users"] == "incremental"
    kept = _ops_rows(stores, "SELECT DISTINCT run_id FROM check_finding_keys ORDER BY run_id")
    assert [r["run_id"] for r in kept] == [d["run_id"] for d in docs[-history.KEEP_KEYS_RUNS:]]


def test_a_watch_config_can_turn_incremental_runs_off(tmp_path: Any, demo: Any) -> None:
    from lib.config import load_settings
    from lib.errors import ConfigError
    from lib.watch.config import load as load_config

    path = tmp_path / "watch.toml"
    path.write_text("incremental = false\n")
    assert not load_config(load_settings(watch_config=path)).incremental
    path.write_text('incremental = "yes"\n')
    try:
        load_config(load_settings(watch_config=path))
    except ConfigError as exc:
        assert "incremental must be true or false" in str(exc)
    else:
        raise AssertionError("a bad value was accepted")


def test_a_firebase_auth_only_change_is_seen_at_the_next_listing(demo: Any, ops: Any) -> None:
    """The documented limitation: Auth has no "changed since" listing, so a user created in Auth
    alone (nothing else names the uid) appears at the next listing (INCREMENTAL_AUTH_MAX_AGE_S)."""
    import dataclasses

    from firebase_admin import auth

    demo.dirty = True
    stores = ops
    forget(stores)
    history.save_run(stores, run_checks(stores, incremental=True))
    stores.firebase.import_users([auth.ImportUserRecord(uid="auth-only-1", email="auth.only@example.com",
                                                        custom_claims={"role": "patient"})])
    inc = run_checks(stores, incremental=True, only=["sync.firebase_user_missing_in_core"])
    assert "auth-only-1" not in inc.results[0].keys
    assert to_json(inc)["findings"][0]["read"] == "incremental"
    history.save_run(stores, inc)
    relisting = dataclasses.replace(stores, settings=stores.settings.model_copy(update={"incremental_auth_max_age_s": 0}))
    again = run_checks(relisting, incremental=True, only=["sync.firebase_user_missing_in_core"])
    assert "auth-only-1" in again.results[0].keys
    assert again.reads is not None and again.reads["fb_users"].mode == "full"
