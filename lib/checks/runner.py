"""Run the checks: the one function the pages, the weekly review, the fixes and `python -m lib check`
all call. Stores are pinged in parallel first; a check whose store is down or not configured gets
count None and an error text while the others still run."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from lib.checks import incremental as inc
from lib.checks import kept
from lib.checks.ids import CHECKS, STORE_OF_PART
from lib.checks.registry import REGISTRY, Check
from lib.checks.sync import KEYS_LIMIT, PARTS, Snapshot, finish
from lib.errors import StoreUnavailable, safe_message
from lib.sqlfiles import load
from lib.stores import Stores

SAMPLE_SIZE = 20


@dataclass
class CheckResult:
    id: str
    severity: str
    count: int | None
    keys: list[str]
    duration_ms: float
    error: str | None = None
    fix: str | None = None
    read: str = "full"  # full | incremental | reused (carried from its last full read: catalog checks)
    last_full_at: str | None = None  # when what it read was last read in full (ISO-8601 UTC)

    @property
    def sample(self) -> list[str]:
        return self.keys[:SAMPLE_SIZE]


@dataclass
class CheckRun:
    started_at: datetime
    finished_at: datetime
    stores: dict[str, dict[str, Any]]
    results: list[CheckResult] = field(default_factory=list)
    run_id: int | None = None  # set by whoever saves the run (lib.history)
    history_error: str | None = None  # why it was not saved
    firebase_reused_s: float | None = None  # age of the reused Firebase listing; None: listed in this run
    reads: dict[str, inc.PartRead] | None = None  # incremental runs: what was read of each snapshot part
    keep_keys: tuple[str, ...] = ()  # checks whose every kept key lib.history saves (incremental runs need them)
    listed: dict[str, dict[str, Any]] = field(default_factory=dict)  # LISTED parts: {rows, at} (the Stores page)

    def by_id(self) -> dict[str, CheckResult]:
        return {r.id: r for r in self.results}


def stores_of(c: Check) -> set[str]:
    """The stores (core, supabase, firebase) a check reads."""
    return {STORE_OF_PART[p] for p in c.info.stores}


def select(only: list[str] | None = None, stores_filter: list[str] | None = None) -> list[Check]:
    """The checks to run: `only` (ids), and of those the ones that read only the stores of
    `stores_filter` (cli.md: `--store core --store supabase` adds the core↔Supabase checks)."""
    from lib.errors import ConfigError

    unknown = [c for c in only or [] if c not in REGISTRY]
    if unknown:
        raise ConfigError(f"Unknown check id {unknown[0]!r}; `python -m lib check --json` lists them all.")
    chosen = [REGISTRY[c.id] for c in CHECKS if not only or c.id in only]
    if stores_filter:
        named = set(stores_filter)
        kept = [c for c in chosen if stores_of(c) <= named]
        if not kept:  # say which store to add, for the first check that was left out
            first = chosen[0]
            also = sorted(stores_of(first) - named)
            raise ConfigError(f"No {'selected ' if only else ''}check reads only {' and '.join(sorted(named))}: "
                              f"{first.id} also reads {' and '.join(also)}; add {' '.join(f'--store {a}' for a in also)} "
                              "to run it.")
        chosen = kept
    return chosen


def run_checks(
    stores: Stores,
    only: list[str] | None = None,
    stores_filter: list[str] | None = None,
    *,
    firebase_max_age_s: float = 0.0,
    keys_limit: int = KEYS_LIMIT,
    incremental: bool = False,
) -> CheckRun:
    """Every check (or `only` / `stores_filter`); counts are exact, each result keeps its first
    `keys_limit` keys. `firebase_max_age_s` lets the run reuse a Firebase listing that recent. The
    run is not saved: the caller saves it (lib.history.record_run / save_run). `incremental`: the
    identity parts are brought up to date from what changed (lib.checks.incremental)."""
    started = datetime.now(UTC)
    checks = select(only, stores_filter)
    secrets = stores.settings.secret_values()
    needed = sorted({s for c in checks for s in stores_of(c)})  # with --store, within the named stores
    pings = stores.ping(tuple(needed)) if needed else {}
    down: dict[str, str] = {}
    for name, p in pings.items():
        if name == "firebase":
            for part in ("auth", "firestore"):
                info = p.get("parts", {}).get(part)
                if not p["ok"] and (info is None or not info["ok"]):
                    down["firebase_auth" if part == "auth" else "firestore"] = (
                        info["error"] if info else p["error"] or "firebase: not reachable"
                    )
        elif not p["ok"]:
            down[name] = p["error"] or f"{name}: not reachable"

    results: dict[str, CheckResult] = {}
    closing = ExitStack()  # closed after the pool: the snapshot's engine, whatever raised on the way
    with closing, ThreadPoolExecutor(max_workers=6) as pool:
        sql_futs: dict[str, Future[tuple[list[str], float]]] = {}
        for c in checks:
            if c.kind == "sql":
                assert c.store is not None
                if c.store in down:
                    results[c.id] = _failed(c, down[c.store])
                else:
                    sql_futs[c.id] = pool.submit(_run_sql, stores, c)
        con_checks = [c for c in checks if c.kind == "constraints"]
        both_up = {"core", "supabase"} <= set(needed) and not {"core", "supabase"} & set(down)
        reused = kept.reused_constraints(stores) if incremental and con_checks and both_up else None
        con_fut = pool.submit(_run_constraints, stores, needed, down, secrets) if con_checks and not reused else None
        parts = {p for c in checks if c.kind == "snapshot" for p in c.parts}
        snap_fut: Future[Snapshot] | None = None
        if parts and incremental:
            snap_fut = pool.submit(inc.load, stores, parts, down, secrets, started=started, keys_limit=keys_limit)
        elif parts:
            snap_fut = pool.submit(Snapshot.load, stores, parts, down, secrets, reuse_firebase_s=firebase_max_age_s,
                                   keys_limit=keys_limit)
        if snap_fut is not None:
            closing.callback(_close_snapshot, snap_fut)

        for cid, fut in sql_futs.items():
            c = REGISTRY[cid]
            try:
                keys, ms = fut.result()
                results[cid] = CheckResult(cid, c.info.severity, len(keys), keys[:keys_limit], ms, fix=c.info.fix)
            except StoreUnavailable as exc:
                results[cid] = _failed(c, str(exc))
            except Exception as exc:  # noqa: BLE001
                results[cid] = _failed(c, safe_message(exc, secrets))
        if con_fut is not None:
            found, errors, ms = con_fut.result()
            for c in con_checks:
                if errors:
                    results[c.id] = _failed(c, "; ".join(errors))
                else:
                    keys = sorted(found.get(c.id, []))
                    results[c.id] = CheckResult(c.id, c.info.severity, len(keys), keys[:keys_limit], ms,
                                                fix=c.info.fix)
            if incremental and not errors and both_up:
                kept.save_constraints(stores, started, {c.id: {"count": results[c.id].count, "keys": results[c.id].keys}
                                                       for c in con_checks})
        elif reused is not None:
            at, saved = reused
            for c in con_checks:
                prior = saved.get(c.id, {"count": 0, "keys": []})
                results[c.id] = CheckResult(c.id, c.info.severity, prior["count"], prior["keys"][:keys_limit], 0.0,
                                            fix=c.info.fix, read="reused", last_full_at=at)
        snap = None
        listed: dict[str, dict[str, Any]] = {}
        if snap_fut is not None:
            snap = snap_fut.result()
            listed = _listed(snap, started)
            region = stores.settings.phone_default_region
            # the biggest parts (document ids) are compared first and let go of as soon as no check
            # left needs them, so the identity comparisons run beside less
            todo = sorted((c for c in checks if c.kind == "snapshot"), key=lambda c: "doc" not in "".join(c.parts))
            for n, c in enumerate(todo):
                if n:
                    later = {p for d in todo[n:] for p in d.parts}
                    for part in [q for q in snap.frames if q not in later and q in PARTS]:
                        if not any(part in PARTS[q].after for q in later):
                            snap.drop(part)
                pa.default_memory_pool().release_unused()  # give back what the last comparison used
                missing = [snap.errors[p] for p in c.parts if p in snap.errors]
                if missing:
                    results[c.id] = _failed(c, missing[0])
                    continue
                t0 = time.perf_counter()
                try:
                    assert c.fn is not None
                    got = finish(c.fn(snap.frames, region), keys_limit)
                except Exception as exc:  # noqa: BLE001
                    results[c.id] = _failed(c, safe_message(exc, secrets))
                    continue
                load_ms = max(snap.seconds.get(p, 0.0) for p in c.parts) * 1000
                results[c.id] = CheckResult(c.id, c.info.severity, got.count, got.keys,
                                            round(load_ms + (time.perf_counter() - t0) * 1000, 1), fix=c.info.fix)

    reads = getattr(snap, "reads", None)
    for c in checks:  # provenance: what each result was computed from (history checks: below)
        r = results.get(c.id)
        if r is not None and r.last_full_at is None:
            r.read, r.last_full_at = inc.provenance(c.parts, reads, started)

    # history checks last: they judge this run's counts against the saved history
    counted = {cid: r.count for cid, r in results.items() if r.count is not None}
    for c in checks:
        if c.kind == "history":  # as every check: none when a store it reads (judges) is down
            missing = [down[p] for p in c.info.stores if p in down]
            results[c.id] = (_failed(c, missing[0]) if missing
                             else _run_history(stores, c, counted, started, keys_limit, secrets))

    run = CheckRun(
        started_at=started,
        finished_at=datetime.now(UTC),
        stores={n: {k: v for k, v in p.items() if k in ("ok", "latency_ms", "error", "version", "configured")}
                for n, p in pings.items()},
        results=[results[c.id] for c in checks],
        firebase_reused_s=max(snap.reused.values()) if snap is not None and snap.reused else None,
        reads=reads,
        keep_keys=tuple(c.id for c in checks if c.id in inc.KEYED_CHECKS),
        listed=listed,
    )
    return run


# The Firebase parts whose size the run learns for free (Auth has no count: the Stores page takes
# the run's listing instead of listing every user again).
LISTED = ("fb_users", "fs_profiles")


def _listed(snap: Snapshot, started: datetime) -> dict[str, dict[str, Any]]:
    """{part: {rows, at}} of the LISTED parts the snapshot holds: how many rows, and when they
    were last read in full (ISO-8601 UTC; a reused listing is as old as it is)."""
    rows = getattr(snap.frames.get("_engine"), "rows", {})
    reads = getattr(snap, "reads", None) or {}
    out: dict[str, dict[str, Any]] = {}
    for part in LISTED:
        if part not in rows or part in snap.errors:
            continue
        if part in reads:
            at = reads[part].last_full_at
        else:
            at = (started - timedelta(seconds=snap.reused.get(part, 0.0))).isoformat(timespec="seconds")
        out[part] = {"rows": int(rows[part]), "at": at}
    return out


def _close_snapshot(fut: Future[Snapshot]) -> None:
    """Close a loaded snapshot's engine and spill folder (again is harmless)."""
    if fut.done() and not fut.cancelled() and fut.exception() is None:
        fut.result().close()


def _failed(c: Check, error: str) -> CheckResult:
    return CheckResult(c.id, c.info.severity, None, [], 0.0, error=error, fix=c.info.fix)


def _run_history(stores: Stores, c: Check, counts: dict[str, int], started: datetime, keys_limit: int,
                 secrets: list[str]) -> CheckResult:
    """A history check over the counts of this run's other checks (never its own kind)."""
    assert c.judge is not None
    mine = {cid: n for cid, n in counts.items() if REGISTRY[cid].kind != "history"}
    t0 = time.perf_counter()
    try:
        keys = c.judge(stores, mine, started)
    except Exception as exc:  # noqa: BLE001 - the ops database is down or its history unreadable
        return _failed(c, f"ops: {safe_message(exc, secrets)}")
    return CheckResult(c.id, c.info.severity, len(keys), keys[:keys_limit],
                       round((time.perf_counter() - t0) * 1000, 1), fix=c.info.fix,
                       last_full_at=started.astimezone(UTC).isoformat())


def _run_sql(stores: Stores, c: Check) -> tuple[list[str], float]:
    """The check's keys and how long its query took (ms)."""
    store = stores.get(c.store or "")
    assert store is not None and c.sql is not None
    params = c.params(stores.settings) if c.params else None
    t0 = time.perf_counter()
    keys = list(store.keys(load(c.sql), params))
    return keys, round((time.perf_counter() - t0) * 1000, 1)


def _run_constraints(
    stores: Stores, needed: list[str], down: dict[str, str], secrets: list[str]
) -> tuple[dict[str, list[str]], list[str], float]:
    from lib.checks.constraints import constraint_findings, load_expected

    t0 = time.perf_counter()
    found: dict[str, list[str]] = {}
    errors: list[str] = []
    expected = load_expected()
    for name in ("core", "supabase"):
        if name not in needed:
            continue
        if name in down:
            errors.append(down[name])
            continue
        try:
            for cid, keys in constraint_findings(stores.get(name), expected).items():
                found.setdefault(cid, []).extend(keys)
        except StoreUnavailable as exc:
            errors.append(str(exc))
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{name}: {safe_message(exc, secrets)}")
    return found, errors, round((time.perf_counter() - t0) * 1000, 1)


def to_json(run: CheckRun) -> dict[str, Any]:
    """The headless command's document (checks.md); fields may be added, never renamed."""
    return {
        "generated_at": run.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "run_id": run.run_id,
        "stores": {n: {"ok": s["ok"], "latency_ms": s["latency_ms"], **({"error": s["error"]} if not s["ok"] else {})}
                   for n, s in run.stores.items()},
        "findings": [
            {"check": r.id, "severity": r.severity, "count": r.count, "sample": r.sample, "fix": r.fix,
             "duration_ms": r.duration_ms, "read": r.read, "last_full_at": r.last_full_at,
             **({"error": r.error} if r.error else {})}
            for r in run.results
        ],
        "incremental": run.reads is not None,
        **({"reads": inc.reads_json(run.reads)} if run.reads is not None else {}),
        **({"history_error": run.history_error} if run.history_error else {}),
    }


def exit_status(run: CheckRun) -> int:
    """2 when a store a selected check needs is unreachable (only those are pinged) or a selected
    check could not run; else 1 when an error check has findings; else 0."""
    if any(not s["ok"] for s in run.stores.values()):
        return 2
    if any(r.count is None for r in run.results):
        return 2
    return 1 if any(r.severity == "error" and (r.count or 0) > 0 for r in run.results) else 0


__all__ = ["PARTS", "CheckResult", "CheckRun", "exit_status", "run_checks", "select", "stores_of", "to_json"]
