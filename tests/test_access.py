"""Access that outlives the account (issue 17), on the real demo stores: patients disabled in
Firebase Auth whose Supabase user is still live, and whose doctors' connections are still active.

The checks count exactly what the demo planted, near misses next to them left out (a deleted or a
still-banned Supabase user, an inactive or an expired connection); the two fixes read the disabled
set fresh from Firebase at plan and apply, plan exactly the rows they change, take their check to 0,
keep what they changed, and change nothing the second time; support cannot apply them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lib import fixes
from lib.checks.runner import run_checks
from lib.roles import Actor
from tests.support import _rows

ONCALL = Actor("pytest", "oncall")
SUPPORT = Actor("pytest", "support")
LIVE, CONNS = "identity.disabled_live_in_supabase", "token.active_for_disabled_patient"
REVOKE, BAN = "revoke_disabled_patients_connections", "ban_disabled_patients_in_supabase"


def _disabled(stores: Any) -> set[str]:
    return {u["uid"] for u in stores.firebase._iter_user_dicts() if u["disabled"]}


def _counts(stores: Any) -> dict[str, Any]:
    return {r.id: r for r in run_checks(stores, only=[LIVE, CONNS]).results}


def test_the_checks_count_the_plants_and_not_the_near_misses(fresh: tuple[Any, dict[str, Any]]) -> None:
    stores, manifest = fresh
    planted = manifest["planted"]
    found = _counts(stores)
    for cid in (LIVE, CONNS):
        assert found[cid].error is None and planted[cid]["count"] > 0
        assert (found[cid].count, found[cid].keys) == (planted[cid]["count"], planted[cid]["keys"]), cid
    disabled = sorted(_disabled(stores))
    users = _rows(stores.supabase, "SELECT raw_user_meta_data->>'firebase_uid' AS uid, deleted_at IS NOT NULL AS "
                                   "deleted, coalesce(banned_until > now(), false) AS banned FROM auth.users "
                                   "WHERE raw_user_meta_data->>'firebase_uid' = ANY(:u)", u=disabled)
    conns = _rows(stores.supabase, "SELECT id::text AS id, is_active, token_expires_at < now() AS expired "
                                   "FROM public.patient_doctor_connections WHERE patient_firebase_uid = ANY(:u)",
                  u=disabled)
    # the near misses are there, and none of them is counted
    deleted = {u["uid"] for u in users if u["deleted"]}
    banned = {u["uid"] for u in users if u["banned"]}
    assert deleted and banned and not (deleted | banned) & set(found[LIVE].keys)
    inactive = {c["id"] for c in conns if not c["is_active"]}
    expired = {c["id"] for c in conns if c["is_active"] and c["expired"]}
    assert inactive and expired and not (inactive | expired) & set(found[CONNS].keys)
    assert expired <= set(planted["token.expired_active"]["keys"])  # the other check counts those


def test_the_fixes_plan_exactly_apply_once_and_keep_what_they_changed(fresh: tuple[Any, dict[str, Any]]) -> None:
    stores, manifest = fresh
    planted = manifest["planted"]
    disabled = sorted(_disabled(stores))
    active = {r["id"] for r in _rows(stores.supabase, "SELECT id::text AS id FROM public.patient_doctor_connections "
                                                      "WHERE is_active AND patient_firebase_uid = ANY(:u)", u=disabled)}
    assert set(planted[CONNS]["keys"]) < active  # also the expired active ones of those patients

    for fid, check, changes in ((REVOKE, CONNS, active), (BAN, LIVE, None)):
        refused = fixes.apply(stores, fid, SUPPORT, "test")
        assert refused.refused == "role" and not refused.applied and refused.rows == 0

        planned = fixes.plan(stores, fid, SUPPORT)
        assert planned.outcome == "planned", planned.outcome
        assert planned.inputs == {"disabled_uids": len(disabled)}
        shown = {row["key"] for s in planned.steps for row in s.sample}
        if fid == REVOKE:
            assert shown == changes and planned.rows == len(changes)
        else:  # one Supabase user per counted uid
            assert {row["firebase_uid"] for s in planned.steps for row in s.sample} == set(planted[LIVE]["keys"])
            assert planned.rows == planted[LIVE]["count"]
        assert _counts(stores)[check].count == planted[check]["count"]  # the plan changed nothing

        done = fixes.apply(stores, fid, ONCALL, "account closed", expect_rows=planned.rows)
        assert done.outcome == "applied" and done.rows == planned.rows
        assert _counts(stores)[check].count == 0
        again = fixes.apply(stores, fid, ONCALL, "again")
        assert again.outcome == "nothing to do" and again.rows == 0 and not again.applied

    # what changed is archived with the run's audit id: the previous values
    revoked = _rows(stores.supabase, "SELECT id::text AS id, is_active, fix_id FROM ops_archive.revoked_connections")
    assert {r["id"] for r in revoked} == active and all(r["is_active"] and r["fix_id"] == REVOKE for r in revoked)
    bans = _rows(stores.supabase, "SELECT firebase_uid, banned_until FROM ops_archive.banned_users")
    assert {b["firebase_uid"] for b in bans} == set(planted[LIVE]["keys"])
    live = _rows(stores.supabase, "SELECT banned_until FROM auth.users WHERE raw_user_meta_data->>'firebase_uid' "
                                  "= ANY(:u) AND deleted_at IS NULL AND banned_until < '9999-01-01'", u=disabled)
    assert live and all(u["banned_until"] > datetime.now(UTC) for u in live)  # only the ban that runs already
    assert not [s.fix.id for s in fixes.status(stores) if s.fix.id in (REVOKE, BAN) and s.needed is not False]


def test_the_disabled_set_is_read_fresh_at_plan_time(fresh: tuple[Any, dict[str, Any]]) -> None:
    """A patient disabled after the last check run (whose listing the dashboard may reuse) is in
    the very next plan: the fix reads Firebase Auth itself."""
    stores, _ = fresh
    run_checks(stores, only=[CONNS], firebase_max_age_s=3600)  # a listing the check run could reuse
    uid = _rows(stores.supabase, "SELECT patient_firebase_uid AS uid FROM public.patient_doctor_connections c "
                                 "WHERE is_active AND token_expires_at > now() + interval '2 days' "
                                 "AND patient_firebase_uid <> ALL(:u) ORDER BY id LIMIT 1",
                u=sorted(_disabled(stores)))[0]["uid"]
    before = fixes.plan(stores, REVOKE, ONCALL)
    stores.firebase.auth.update_user(uid, disabled=True)
    after = fixes.plan(stores, REVOKE, ONCALL)
    assert after.inputs["disabled_uids"] == before.inputs["disabled_uids"] + 1
    assert {row["patient_firebase_uid"] for s in after.steps for row in s.sample} - \
        {row["patient_firebase_uid"] for s in before.steps for row in s.sample} == {uid}
