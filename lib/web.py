"""What the pages share: the one place in lib that imports Streamlit.

- `get_stores()`: the stores, opened once per configuration and shared by every session
  (`st.cache_resource`). In the demo, when the demo stores are not running (or were never filled),
  it starts and fills them inside an `st.status` that shows each step.
- `page_header()`: the title of a page and, in the demo, the banner that says so on every page.
- `show_error()`: one clear sentence, secrets removed, never a traceback.
- Cached reads (`st.cache_data`): store pings and row counts (30 s), the check run (60 s). They are
  keyed on a digest of the configuration, never on the Stores object itself.
"""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, NoReturn

import pandas as pd
import streamlit as st
from pydantic import SecretStr

from lib.config import STORE_SETTINGS, Settings, load_settings
from lib.errors import DemoNotRunning, OpsError, safe_message
from lib.stores import STORE_NAMES, Stores, open_stores

STORE_LABELS = {"core": "Core PostgreSQL", "supabase": "Supabase", "firebase": "Firebase"}
SEVERITY_ORDER = {"error": 0, "warn": 1, "info": 2}
DEMO_BANNER = (
    "**Demo** — nothing is configured, so these are the dashboard's own demo stores holding "
    "generated HealBridge data with planted defects. No real patient is shown."
)

_demo_lock = threading.Lock()


# ---------------------------------------------------------------------- errors
def _secrets(settings: Settings | None = None) -> list[str]:
    """Every secret we know of: the configured ones, and the raw values of the secret settings
    (a malformed URL cannot be parsed for its password, so the whole value is removed)."""
    out: list[str] = []
    if settings is None:
        try:
            settings = load_settings()
        except Exception:  # noqa: BLE001 - a broken configuration still gets its raw values removed
            settings = None
    if settings is not None:
        out.extend(settings.secret_values())
    for name in (*STORE_SETTINGS, "OPS_DATABASE_URL"):
        raw = os.environ.get(name)
        if raw and ("URL" in name or "KEY" in name):
            out.append(raw)
    return sorted({s for s in out if s}, key=len, reverse=True)


def redact(text: str | None, settings: Settings | None = None) -> str:
    """`text` with every known secret replaced."""
    if not text:
        return ""
    for s in _secrets(settings):
        text = text.replace(s, "•••")
    return text


def show_error(exc: BaseException, *, stop: bool = False) -> None:
    """Show `exc` as one sentence without secrets (never a traceback); `stop` ends the page run."""
    st.error(safe_message(exc, _secrets()), icon=":material/error:")
    if stop:
        st.stop()


def _fail(exc: BaseException) -> NoReturn:
    show_error(exc, stop=True)
    raise AssertionError("unreachable")  # st.stop() raises


# ---------------------------------------------------------------------- settings and stores
def get_settings() -> Settings:
    """The configuration; a malformed one ends the page with its one-sentence error."""
    try:
        return load_settings()
    except OpsError as exc:
        _fail(exc)


def settings_key(settings: Settings) -> str:
    """A digest of the whole configuration: the cache key of everything built from it."""
    parts = []
    for name, value in sorted(settings.model_dump().items()):
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        parts.append(f"{name}={value}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _stores_key(stores: Stores) -> str:
    return settings_key(stores.settings)


def _release(stores: Stores) -> None:
    stores.dispose()


@st.cache_resource(show_spinner="Connecting to the stores…", max_entries=4, on_release=_release)
def _open_stores(key: str, _settings: Settings) -> Stores:
    """Open the adapters; no Streamlit output here (it would be replayed on every cache hit).
    In the demo, raise DemoNotRunning when some demo store is down or the data was never loaded,
    so that get_stores() starts and fills the demo (exceptions are not cached)."""
    if _settings.demo:
        from lib.demo import read_manifest
        from lib.demo.services import DemoServices

        running = DemoServices(_settings).running()
        if not all(running.values()) or read_manifest(_settings) is None:
            raise DemoNotRunning("The demo stores are not running.")
    return open_stores(_settings)


def _start_demo(settings: Settings) -> None:
    """Start and fill the demo, showing each step; on failure, show the sentence and stop."""
    from lib.demo import run_demo

    with st.status("Starting the demo stores…", expanded=True) as status:
        try:
            run_demo(settings, progress=status.write)
        except Exception as exc:  # noqa: BLE001 - shown as one sentence below
            status.update(label="The demo stores could not start", state="error", expanded=True)
            _fail(exc)
        status.update(label="Demo stores ready", state="complete", expanded=False)


def get_stores() -> Stores:
    """The stores for the current configuration, shared by every session.

    A configuration error, a missing tool (demo) or a demo that cannot start ends the page with
    one sentence. A store that is down is not an error here: the pages show it as down."""
    settings = get_settings()
    key = settings_key(settings)
    try:
        return _open_stores(key, settings)
    except DemoNotRunning:
        if not settings.demo:
            raise
    except OpsError as exc:
        _fail(exc)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    if not _demo_lock.acquire(blocking=False):
        with st.spinner("Another session is starting the demo stores…"):
            _demo_lock.acquire()
    try:
        try:
            return _open_stores(key, settings)
        except DemoNotRunning:
            pass
        _start_demo(settings)
        try:
            return _open_stores(key, settings)
        except Exception as exc:  # noqa: BLE001
            _fail(exc)
    finally:
        _demo_lock.release()


# ---------------------------------------------------------------------- shared widgets
def page_header(title: str, caption: str | None = None) -> Settings:
    """The page title, its caption, and in the demo the demo banner. Returns the settings."""
    st.title(title)
    if caption:
        st.caption(caption)
    settings = get_settings()
    if settings.demo:
        from lib.demo import read_manifest

        text = DEMO_BANNER
        manifest = read_manifest(settings)
        if manifest:
            text += f" ({manifest['patients']:,} generated patients, seed {manifest['seed']}.)"
        st.warning(text, icon=":material/science:")
    return settings


# ---------------------------------------------------------------------- cached reads
@st.cache_data(ttl=30, show_spinner="Pinging the stores…")
def _ping(key: str, _stores: Stores) -> dict[str, dict[str, Any]]:
    now = datetime.now(UTC)
    out = _stores.ping(STORE_NAMES)
    for info in out.values():
        info["checked_at"] = now
        if info.get("error"):
            info["error"] = redact(info["error"], _stores.settings)
    return out


def ping(stores: Stores) -> dict[str, dict[str, Any]]:
    """{store: {ok, configured, latency_ms, version, error, checked_at, (parts)}}, cached 30 s."""
    return _ping(_stores_key(stores), stores)


@st.cache_data(ttl=30, show_spinner="Counting rows…")
def _row_counts(key: str, names: tuple[str, ...], _stores: Stores) -> dict[str, dict[str, Any]]:
    def one(name: str) -> dict[str, Any]:
        store = _stores.get(name)
        if store is None:
            return {"counts": {}, "error": None}
        try:
            return {"counts": store.row_counts(), "error": None}
        except Exception as exc:  # noqa: BLE001 - one store failing leaves the others shown
            return {"counts": {}, "error": safe_message(exc, _secrets(_stores.settings))}

    if not names:
        return {}
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        return dict(zip(names, pool.map(one, names), strict=True))


def row_counts(stores: Stores, names: tuple[str, ...] = STORE_NAMES) -> dict[str, dict[str, Any]]:
    """{store: {counts: {table: rows or None}, error}} for `names`, cached 30 s."""
    return _row_counts(_stores_key(stores), tuple(names), stores)


def clear_store_cache() -> None:
    """Forget the cached pings and row counts (the Stores page's Refresh)."""
    _ping.clear()
    _row_counts.clear()


@st.cache_data(ttl=60, show_spinner=False)
def _check_run(key: str, _stores: Stores) -> Any:
    from lib.checks.runner import run_checks

    return run_checks(_stores, source="web")


def check_run(stores: Stores, *, fresh: bool = False) -> Any:
    """The latest CheckRun of every check (lib.checks.runner.run_checks), cached 60 s;
    `fresh` runs them now. Errors end the page with one sentence."""
    if fresh:
        _check_run.clear()
    try:
        return _check_run(_stores_key(stores), stores)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)


def clear_check_cache() -> None:
    _check_run.clear()


def check_count() -> int:
    from lib.checks.ids import CHECKS

    return len(CHECKS)


def check_results_frame(run: Any, sample_keys: int = 3) -> pd.DataFrame:
    """One row a check: id, severity, count (empty when it could not run), the first keys of its
    sample, error; sorted by severity, then by count (largest first, those that could not run last)."""
    rows = []
    for r in run.results:
        sample = ", ".join(r.sample[:sample_keys])
        if len(r.keys) > sample_keys:
            sample += ", …"
        rows.append(
            {
                "check": r.id,
                "severity": r.severity,
                "count": r.count,
                "sample": sample,
                "error": redact(r.error) if r.error else None,
            }
        )
    df = pd.DataFrame(rows, columns=["check", "severity", "count", "sample", "error"])
    df["count"] = df["count"].astype("Int64")
    df["_sev"] = df["severity"].map(SEVERITY_ORDER).fillna(9)
    df = df.sort_values(["_sev", "count", "check"], ascending=[True, False, True], na_position="last", kind="stable")
    return df.drop(columns="_sev").reset_index(drop=True)
