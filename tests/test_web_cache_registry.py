"""lib.web's cached reads: every st.cache_data function is registered with its groups (no hand-kept
clear list), clear(group) forgets exactly what registered under it, and every read hands the page
one kind of result (lib.web.cache.Read: a value or one sentence without secrets, errors never cached)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.runtime.caching.cache_type import CacheType
from streamlit.runtime.caching.cache_utils import CachedFunc

import lib.web
from lib.web import cache

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "lib" / "web"


def _modules() -> list[Any]:
    return [lib.web] + [importlib.import_module(f"lib.web.{m.name}") for m in pkgutil.iter_modules(lib.web.__path__)]


def test_every_cache_data_function_in_lib_web_is_registered() -> None:
    registered = {id(r.cache) for r in cache.REGISTRY.values()}
    found = []
    for module in _modules():
        for name, value in vars(module).items():
            if isinstance(value, cache.CachedRead):
                assert value.name in cache.REGISTRY, (module.__name__, name)
            inner = value.cache if isinstance(value, cache.CachedRead) else value
            if isinstance(inner, CachedFunc) and inner._info.cache_type == CacheType.DATA:
                found.append(f"{module.__name__}.{name}")
                assert id(inner) in registered, f"{module.__name__}.{name} is st.cache_data but not registered"
    assert len(found) >= 15  # the reads of the pages: pings, row counts, history, reports, patient, fixes
    # st.cache_data is written in lib/web/cache.py only: nothing can be cached around the registry
    for path in sorted(WEB.glob("*.py")):
        if path.name != "cache.py":
            assert not re.search(r"cache_data\s*\(|@\s*st\.cache_data|import cache_data", path.read_text()), path


def test_groups_cover_what_the_hand_kept_lists_cleared() -> None:
    def names(group: str) -> set[str]:
        return {n.rsplit(".", 1)[1] for n in cache.in_group(group)}

    # Run checks now forgot these (clear_monitor_cache); an apply forgot them and the fixes' reads
    monitor = {"_previous_run", "_trends", "_sync_jobs", "_token_report", "_schema", "_review_runs", "_weekly_trend"}
    assert monitor <= names("monitor")
    assert monitor | {"_fix_status", "_fix_audit"} <= names("fix")
    assert names("stores") >= {"_ping", "_row_counts"}
    assert names("patient") >= {"_patient_search", "_patient_view"}
    assert names("acks") >= {"_review_acks"} and "_fix_audit" in names("audit")
    assert all(r.groups <= cache.GROUPS for r in cache.REGISTRY.values())
    with pytest.raises(ValueError, match="unknown cache group"):
        cache.clear("monitr")


def test_clear_forgets_what_registered_under_the_group_only() -> None:
    calls: list[str] = []

    @cache.cached(ttl=60, groups=("acks",), show_spinner=False)
    def in_acks(x: int) -> int:
        calls.append("acks")
        return x * 2

    @cache.cached(ttl=60, groups=("patient",), show_spinner=False)
    def in_patient(x: int) -> int:
        calls.append("patient")
        return x + 1

    assert in_acks(2).value == 4 and in_acks(2).value == 4 and in_patient(2).value == 3 and in_patient(2).value == 3
    assert calls == ["acks", "patient"]  # each computed once: cached
    cache.clear("acks")
    assert in_acks(2).ok and in_patient(2).ok
    assert calls == ["acks", "patient", "acks"]  # the acks read asked again, the patient one still cached
    cache.clear("acks", "patient")
    in_acks(2), in_patient(2)
    assert calls[3:] == ["acks", "patient"]


def test_a_failing_read_is_one_sentence_without_secrets_and_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "postgresql://ops:s3cret-pw@db.example:5432/ops"
    monkeypatch.setenv("OPS_DATABASE_URL", secret)
    calls: list[int] = []

    @cache.cached(ttl=60, groups=("acks",), show_spinner=False)
    def broken() -> int:
        calls.append(1)
        raise RuntimeError(f"could not connect to {secret}\nsecond line of a traceback")

    first, second = broken(), broken()
    assert first.value is None and first.error is not None and not first.ok
    assert secret not in first.error and "s3cret" not in first.error and "\n" not in first.error
    assert first.error.startswith("RuntimeError: could not connect to")
    assert len(calls) == 2  # an error is never cached: the next run asks again
    assert second.map(lambda v: v + 1).error == second.error  # map leaves an error as it is

    @cache.cached(ttl=60, groups=("acks",), show_spinner=False)
    def partial() -> str:
        calls.append(2)
        raise cache.Uncached("a store was down")

    assert partial().value == "a store was down" and partial().ok and calls.count(2) == 2  # handed back, not cached


def test_the_pages_public_reads_return_a_read(demo: Any, stores: Any, fresh_caches: None) -> None:
    """The reads that need no reader (the ones below are keyed on the stores only) on the real demo."""
    from lib.web import reads

    for read in (reads.ping(stores), reads.row_counts(stores), reads.schema(stores, "core")):
        assert isinstance(read, cache.Read) and read.ok, read.error
    assert set(reads.ping(stores).value) == {"core", "supabase", "firebase"}
