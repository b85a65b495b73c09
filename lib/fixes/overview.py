"""The fixes' status (the Fixes page and `python -m lib fix list`): whether each fix is needed now
and what blocks it, computed as plan and apply do but in one read-only transaction per store.
(Not `status.py`: the package exports the function `status`, which a submodule of that name would
shadow.)"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lib.checks.registry import REGISTRY
from lib.errors import OpsError, safe_message
from lib.fixes.counting import _Probe, _violations
from lib.fixes.files import FIX_STORES, Fix, list_fixes
from lib.fixes.results import _Stop
from lib.fixes.runner import _pg, firebase_params
from lib.stores import Stores

if TYPE_CHECKING:
    from lib.checks.runner import CheckRun


@dataclass
class FixStatus:
    fix: Fix
    needed: bool | None  # None when its store could not be read
    counts: dict[str, int]  # the resolves checks' counts on its store(s)
    blocked: dict[str, int]  # what blocks it now: check id (or constraint key) → count
    error: str | None = None
    at_least: set[str] = field(default_factory=set)  # blocked keys whose count is "more than" (a capped count)

    def blocked_text(self) -> dict[str, str]:
        """Each blocker with its count as shown: `> N` for a count capped at N (`at_least`)."""
        return {k: (f"> {v - 1:,}" if k in self.at_least else f"{v:,}") for k, v in self.blocked.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "fix": self.fix.id,
            "title": self.fix.title,
            "store": ", ".join(self.fix.stores),
            "needed": self.needed,
            "counts": self.counts,
            "blocked_by": self.blocked,
            **({"blocked_at_least": sorted(self.at_least)} if self.at_least else {}),
            "reviewed": self.fix.is_reviewed,
            "checksum": self.fix.checksum,
            "risk": self.fix.risk,
            **({"error": self.error} if self.error else {}),
        }


VIOLATIONS_SHOWN = 1_000  # with a run (the dashboard), rows violating a constraint are counted up to this


def status(stores: Stores, directory: Path | str | None = None, *, run: CheckRun | None = None,
           cap: int = VIOLATIONS_SHOWN) -> list[FixStatus]:
    """Every fix: whether it is needed now and what blocks it, computed as plan and apply do (the
    same counts and post queries) but in one read-only transaction per store. With `run` (a check
    run holding every key, as the dashboard holds its latest), a SQL check's keys are the run's
    instead of being counted again over the whole table, and a fix that reads Firebase's disabled
    users takes its resolves checks' counts from the run instead of listing Firebase Auth; what the
    run lacks (catalog checks, post and `each` queries, a check without every key) is read as
    without it, except that rows violating a constraint are counted up to `cap` (more is "more than":
    `at_least`). Plan and apply always read and count afresh inside their own transaction."""
    fixes = list_fixes(directory)
    known = known_keys(run) if run is not None else {}
    violations_cap = None if run is None else int(cap)  # the dashboard's status: "more than" is enough
    from lib.checks.constraints import load_expected

    expected = load_expected()
    secrets = stores.settings.secret_values()
    names = [n for n in FIX_STORES if any(n in f.stores for f in fixes)]
    with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:  # one transaction a store, side by side
        parts = list(pool.map(lambda n: _store_status(stores, n, [f for f in fixes if n in f.stores], known,
                                                      violations_cap, expected, secrets), names))
    out: dict[str, FixStatus] = {}
    for part in parts:  # in FIX_STORES order: a multi-store fix adds up its stores
        for fid, st in part.items():
            had = out.get(fid)
            if had is None or st.error is not None:
                out[fid] = st
                continue
            for cid, n in st.counts.items():
                had.counts[cid] = had.counts.get(cid, 0) + n
            for k, n in st.blocked.items():
                had.blocked[k] = had.blocked.get(k, 0) + n
            had.at_least |= st.at_least
            had.needed = bool(had.needed) or bool(st.needed)
    return [out[f.id] for f in fixes if f.id in out]


def _store_status(stores: Stores, name: str, mine: list[Fix], known: dict[str, list[str]],
                  violations_cap: int | None, expected: Any, secrets: list[str]) -> dict[str, FixStatus]:
    """The status of the fixes of one store, in one read-only transaction of its own (a multi-store
    fix gets its part on this store)."""
    out: dict[str, FixStatus] = {}
    try:
        store = _pg(stores, name)
        with store.read() as conn:
            probe = _Probe(name, conn, stores, known)
            params = {"run_id": None, "schemas": expected.schemas(name)}
            fresh: dict[str, Any] | None = None
            for f in mine:
                if (f.firebase_params and f.resolves and all(c in known for c in f.resolves)
                        and not f.blocked_by and not f.verify):
                    # its posts are its resolves checks with Firebase's disabled uids: the run's
                    # counts say it, without listing every Auth user again
                    st = out.setdefault(f.id, FixStatus(f, False, {}, {}))
                    st.counts.update({c: len(known[c]) for c in f.resolves})
                    st.needed = sum(st.counts.values()) > 0
                    continue
                if f.firebase_params:  # read once per status, fresh; a failure is this fix's alone
                    try:
                        fresh = firebase_params(stores, f) if fresh is None else fresh
                    except _Stop as stop:
                        out[f.id] = FixStatus(f, None, {}, {}, error=stop.error)
                        continue
                st = out.setdefault(f.id, FixStatus(f, False, {}, {}))
                opts = {o: None for o in f.options}
                if f.firebase_params:
                    opts.update(fresh or {})
                for cid in f.resolves:
                    keys = probe.keys(cid)
                    if keys is not None:
                        st.counts[cid] = st.counts.get(cid, 0) + len(keys)
                for cid in f.blocked_by:
                    n = len(probe.keys(cid) or [])
                    if n:
                        st.blocked[cid] = st.blocked.get(cid, 0) + n
                need = sum(t.count(probe.keys(t.check) or []) for t in f.verify)
                if not need:  # a post query's first row is enough
                    need += any(probe.exists(s.sql, {**params, **opts}) for s in f.posts)
                if any(s.kind == "each" for s in f.sections):
                    listed, bad = _violations(f, probe, {**params, **opts}, cap=violations_cap)
                    need += len(listed)
                    st.blocked.update({v.key: v.count for v in bad})
                    st.at_least.update(v.key for v in bad if violations_cap is not None and v.count > violations_cap)
                st.needed = bool(st.needed) or need > 0
    except _Stop as stop:
        for f in mine:
            out[f.id] = FixStatus(f, None, {}, {}, error=stop.error)
    except OpsError as exc:
        for f in mine:
            out[f.id] = FixStatus(f, None, {}, {}, error=str(exc))
    except Exception as exc:  # noqa: BLE001
        for f in mine:
            out[f.id] = FixStatus(f, None, {}, {}, error=safe_message(exc, secrets))
    return out


def known_keys(run: CheckRun) -> dict[str, list[str]]:
    """The complete keys of `run`'s checks that ran without error (a run loaded from the history
    holds samples only: those checks are left out, so they are counted). The probe takes the SQL
    checks' of its store; a fix reading Firebase takes its resolves checks' (their keys are what
    its posts would count)."""
    return {r.id: r.keys for r in run.results
            if r.error is None and r.count is not None and len(r.keys) == r.count and r.id in REGISTRY}
