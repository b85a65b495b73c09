"""The incremental check run's benchmark (`python -m lib bench --only incremental`, issue 16) and the
changes it makes (also used by tests/test_incremental.py on the demo).

In fresh processes with the bench stores' environment (as the watcher or `check --incremental` would
run): an incremental run with no kept copy (its full read, saved, so its finding keys are in the ops
database), then 0.1 % of the patients changed with real SQL and Firebase writes (`apply_changes`:
new users, email and phone changes, new documents, deletions, token expiries), then the
incremental run, then a plain full run of the same data. Compared: the two runs' times, every
check's count and keys (a digest of all of them), and the rows each read per store.

The changes leave the data set unlike its build (the expected counts no longer hold), so the data
set is marked for a rebuild at the next `bench` (its fingerprint is changed).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lib.bench.measure import Info, Progress, _nothing, child_env, run_child

if TYPE_CHECKING:
    from lib.bench.data import BenchInfo

FRACTION = 0.001  # of the patients changed between the two runs
KINDS = ("new_users", "email_changes", "phone_changes", "new_documents", "deletions", "token_expiries")
ALL_KEYS = 100_000_000  # the worker keeps every key (digested), not the first KEYS_LIMIT


def _write(url: str, name: str, params: dict[str, Any]) -> Any:
    from lib.bench.data import _run

    return _run(url, name, params)


def apply_changes(stores: Any, core_url: str, supabase_url: str, patients: int, *, seed: int = 1,
                  fraction: float = FRACTION) -> dict[str, int]:
    """Change `fraction` of `patients` (at least one of each kind) with real writes; how many of each."""
    from firebase_admin import auth

    from lib.sqlfiles import load

    n = max(len(KINDS), round(patients * fraction))
    k = max(1, n // len(KINDS))
    rng = random.Random(seed)
    now = datetime.now(UTC).isoformat()
    picked = stores.core.rows(load("bench/incremental_pick_patients"), {"n": 4 * k, "seed": seed})
    emails, phones, docs, dels = (picked[i * k:(i + 1) * k] for i in range(4))
    fb, fs = stores.firebase, stores.firebase.db.collection("patients")
    done = dict.fromkeys(KINDS, 0)

    def tag() -> str:
        return uuid.UUID(int=rng.getrandbits(128)).hex[:12]

    new_fb = []
    for i in range(k):  # new patients; every other lacks its Auth user, every third its Supabase user or its profile
        t, uid, user_id = tag(), f"inc-{tag()}", str(uuid.UUID(int=rng.getrandbits(128)))
        email, phone = f"new.{t}@example.com", f"+1555{rng.randrange(10**6, 10**7)}"
        _write(core_url, "bench/incremental_new_core_user", {"id": user_id, "uid": uid, "email": email, "phone": phone})
        _write(core_url, "bench/incremental_new_core_patient",
               {"id": str(uuid.UUID(int=rng.getrandbits(128))), "user_id": user_id, "name": f"New Patient {t}"})
        if i % 3 != 1:
            _write(supabase_url, "bench/incremental_new_supabase_user",
                   {"id": str(uuid.UUID(int=rng.getrandbits(128))), "email": email, "phone": phone,
                    "meta": json.dumps({"firebase_uid": uid, "postgres_id": user_id})})
        if i % 3 != 2:
            fs.document(uid).set({"email": email, "phone": phone, "full_name": f"New Patient {t}", "updated_at": now})
        if i % 2 == 0:
            new_fb.append(auth.ImportUserRecord(uid=uid, email=email, phone_number=phone,
                                                custom_claims={"role": "patient"}))
        done["new_users"] += 1
    fb.import_users(new_fb)
    for i, p in enumerate(emails):  # in core and Firebase Auth together, or in core alone
        email = f"changed.{tag()}@example.com"
        _write(core_url, "bench/incremental_core_email", {"uid": p["uid"], "email": email})
        if i % 2 == 0:
            with contextlib.suppress(auth.UserNotFoundError):
                fb.auth.update_user(p["uid"], email=email)
        done["email_changes"] += 1
    for p in phones:  # in the Firestore profile (its updated_at set, as the app does)
        fs.document(p["uid"]).set({"phone": f"+1666{rng.randrange(10**6, 10**7)}", "updated_at": now}, merge=True)
        done["phone_changes"] += 1
    for i, p in enumerate(docs):  # in core, in both, or in Supabase alone
        doc_id, url = str(uuid.UUID(int=rng.getrandbits(128))), f"https://files.example/{tag()}.pdf"
        if i % 3 != 2:
            _write(core_url, "bench/incremental_core_document", {"id": doc_id, "patient_id": p["patient_id"], "url": url})
        if i % 3 != 0:
            _write(supabase_url, "bench/incremental_supabase_document", {"id": doc_id, "uid": p["uid"], "url": url})
        done["new_documents"] += 1
    for i, p in enumerate(dels):  # core always; Auth, the profile and Supabase in turn
        _write(core_url, "bench/incremental_core_delete_user", {"uid": p["uid"]})
        if i % 2 == 0:
            with contextlib.suppress(auth.UserNotFoundError):
                fb.auth.delete_user(p["uid"])
        if i % 3 == 0:
            fs.document(p["uid"]).delete()
        if i % 2 == 1:
            _write(supabase_url, "bench/incremental_supabase_soft_delete", {"uid": p["uid"]})
        done["deletions"] += 1
    done["token_expiries"] = int(_write(supabase_url, "bench/incremental_expire_tokens", {"n": k}) or 0)
    return done


def digest(keys: list[str]) -> str:
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]


def timed_run(stores: Any, *, incremental: bool, save: bool = True) -> dict[str, Any]:
    """One check run in this process (saved: its finding keys are the next incremental run's)."""
    from lib import history
    from lib.checks.incremental import reads_json
    from lib.checks.runner import run_checks

    t0 = time.perf_counter()
    run = run_checks(stores, incremental=incremental, keys_limit=ALL_KEYS)
    seconds = time.perf_counter() - t0
    if save:
        history.record_run(stores, run, source="bench")
    return {"seconds": round(seconds, 3),
            "checks": {r.id: {"count": r.count, "keys": digest(r.keys), "read": r.read,
                              **({"error": r.error} if r.error else {})} for r in run.results},
            "reads": reads_json(run.reads) if run.reads is not None else None,
            "slowest": sorted(((r.id, r.duration_ms) for r in run.results), key=lambda x: -x[1])[:5]}


def _worker(info: Info, name: str, args: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hb-inc-") as tmp:
        out = Path(tmp) / "out.json"
        child = run_child([sys.executable, "-m", "lib.bench.incremental", name, str(out), json.dumps(args)],
                          child_env(info))
        if child.exit_code != 0 or not out.is_file():
            tail = " ".join(child.stderr.strip().splitlines()[-3:])[-600:]
            raise RuntimeError(f"the incremental {name} worker failed (exit {child.exit_code}): {tail}")
        res: dict[str, Any] = json.loads(out.read_text())
        res["process_s"] = child.wall_s
        res["peak_rss_mb"] = child.peak_rss_mb
        return res


def measure_incremental(info: BenchInfo, *, progress: Progress = _nothing) -> dict[str, Any]:
    progress("incremental: the first incremental run (reads everything, keeps the copy)")
    base = _worker(info, "base", {})
    progress(f"incremental: base {base['seconds']} s; changing {FRACTION:.1%} of the patients")
    changes = _worker(info, "apply", {"patients": info.patients, "core_url": info.core_url,
                                      "supabase_url": info.supabase_url, "seed": info.seed})
    info.fingerprint = "changed by the incremental benchmark"  # the expected counts hold no longer
    info.save()
    inc = _worker(info, "incremental", {})
    progress(f"incremental: incremental run {inc['seconds']} s; now a full run of the same data")
    full = _worker(info, "full", {})
    differ = {c: {"incremental": inc["checks"].get(c), "full": f} for c, f in full["checks"].items()
              if (inc["checks"].get(c) or {}).get("count") != f["count"]
              or (inc["checks"].get(c) or {}).get("keys") != f["keys"]}
    ratio = inc["seconds"] / full["seconds"] if full["seconds"] else None
    progress(f"incremental: full run {full['seconds']} s; ratio {ratio:.3f}; {len(differ)} check(s) differ")
    return {"changes": changes["changes"], "base": base, "incremental": inc, "full": full,
            "ratio": round(ratio, 4) if ratio is not None else None, "differ": differ,
            "ok": not differ and all("error" not in c for c in inc["checks"].values())}


def main(argv: list[str]) -> int:
    import logging
    import warnings

    from lib.bench.measure import _stores

    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    name, out = argv[0], Path(argv[1])
    args = json.loads(argv[2]) if len(argv) > 2 else {}
    stores = _stores()
    try:
        if name == "base":
            from lib.checks.kept import forget

            forget(stores)
            result = timed_run(stores, incremental=True)
        elif name == "apply":
            result = {"changes": apply_changes(stores, args["core_url"], args["supabase_url"], int(args["patients"]),
                                               seed=int(args["seed"]))}
        elif name == "incremental":
            result = timed_run(stores, incremental=True, save=False)
        elif name == "full":
            result = timed_run(stores, incremental=False, save=False)
        else:
            raise SystemExit(f"unknown worker {name!r}")
    finally:
        stores.dispose()
    out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
