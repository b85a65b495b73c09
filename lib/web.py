"""What the pages share: the one place in lib that imports Streamlit.

- `get_stores()`: the stores, opened once per configuration and shared by every session
  (`st.cache_resource`). In the demo, when the demo stores are not running (or were never filled),
  it starts and fills them inside an `st.status` that shows each step.
- `page_header()`: the title of a page and, in the demo, the banner that says so on every page.
- `show_error()`: one clear sentence, secrets removed, never a traceback.
- Cached reads (`st.cache_data`): store pings (PING_TTL_S, the one state of a store every page
  shows), row counts (30 s); the check run is the server's (lib.checks.latest). They are
  keyed on a digest of the configuration, never on the Stores object itself.
"""

from __future__ import annotations

import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, NoReturn

import pandas as pd
import streamlit as st
from pydantic import SecretStr

from lib import plain as _plain
from lib.config import STORE_SETTINGS, Settings, load_settings
from lib.errors import DemoNotRunning, OpsError, safe_message
from lib.stores import STORE_NAMES, Stores, open_stores

STORE_LABELS = {"core": "Core PostgreSQL", "supabase": "Supabase", "firebase": "Firebase"}
SEVERITY_ORDER = {"error": 0, "warn": 1, "info": 2}
DEMO_BANNER = (
    "**Demo** — nothing is configured, so these are the dashboard's own demo stores holding "
    "generated HealBridge data with planted defects. No real patient is shown."
)

# ---------------------------------------------------------------------- plain text
def plain(value: Any) -> str:
    """A value from a store (or any text that is not ours: an error, a name, a typed query) as
    Markdown that renders as exactly its text: every ASCII punctuation backslash-escaped, on one line.
    Use it wherever such a value enters an element that renders Markdown (title, subheader,
    caption, markdown, info / warning / error / success, tab and expander labels). Dataframe cells,
    st.code and st.text are plain already; plotly text goes through lib.plain.chart."""
    return _plain.markdown(value)


chart_text = _plain.chart


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
    st.error(plain(safe_message(exc, _secrets())), icon=":material/error:")
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


def _where_key(settings: Settings, where: list[str]) -> str:
    """settings_key plus where the stores listen: in the demo an emulator that restarts comes back
    on another port, and whatever was cached for the old address must not be used again."""
    return settings_key(settings) + "-" + hashlib.sha256("|".join(where).encode()).hexdigest()[:12]


def _demo_where(settings: Settings) -> list[str]:
    """Where the demo stores listen now (demo.json); [] outside the demo."""
    if not settings.demo:
        return []
    from lib.demo.services import DemoServices

    services = DemoServices(settings)
    uris = services.state.raw.get("postgres", {}).get("uris", {})
    return [str(services.auth_host()), str(services.firestore_host()), str(uris.get("core")), str(uris.get("supabase"))]


def _stores_key(stores: Stores) -> str:
    if not stores.demo:
        return settings_key(stores.settings)
    fb = stores.firebase
    return _where_key(stores.settings, [str(fb and fb.auth_emulator_host), str(fb and fb.firestore_emulator_host),
                                        str(stores.core and stores.core._url), str(stores.supabase and getattr(stores.supabase, "_url", None))])


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


DEMO_START_TIMEOUT_S = 600.0  # a page gives up waiting (and says so) after this; the start itself goes on


def _wait_for_demo(settings: Settings) -> None:
    """The demo stores are down or empty: have the server start them (lib.demo.starter: one start
    for the whole process, owned by no session) and show its progress until it is ready. A tab
    that closes or reloads meanwhile leaves the start running; every other tab shows the same steps."""
    from lib.demo.starter import starter

    start = starter(settings)
    state = start.ensure()
    shown = 0
    with st.status("Starting the demo stores…", expanded=True) as status:
        deadline = time.monotonic() + DEMO_START_TIMEOUT_S
        while True:
            for step in state.steps[shown:]:
                status.write(step)
            shown = len(state.steps)
            if not state.running:
                break
            if time.monotonic() > deadline:
                status.update(label="The demo stores are still starting", state="running", expanded=True)
                st.info(f"Still starting after {state.elapsed_s:,.0f} s; this page looks again by itself.")
                time.sleep(2)
                st.rerun()
            state = start.wait(0.5)
        if state.error:
            status.update(label="The demo stores could not start", state="error", expanded=True)
            _fail(OpsError(state.error))
        status.update(label=f"Demo stores ready ({state.elapsed_s:,.0f} s)", state="complete", expanded=False)
    from lib.checks.latest import forget_all

    forget_all()  # the data may have been refilled: no run of the old data is shown


def get_stores() -> Stores:
    """The stores for the current configuration, shared by every session.

    A configuration error, a missing tool (demo) or a demo that cannot start ends the page with
    one sentence. A store that is down is not an error here: the pages show it as down."""
    settings = get_settings()
    for _attempt in range(3):
        key = _where_key(settings, _demo_where(settings)) if settings.demo else settings_key(settings)
        try:
            return _open_stores(key, settings)
        except DemoNotRunning:
            if not settings.demo:
                raise
        except OpsError as exc:
            _fail(exc)
        except Exception as exc:  # noqa: BLE001
            _fail(exc)
        _wait_for_demo(settings)
    _fail(OpsError("The demo stores started but do not answer; see the logs in the data folder."))


def navigate(pages: dict[str, list[Any]]) -> None:
    """Run st.navigation(pages). Streamlit serves the default page at the root only, so a link or a
    bookmark to its own url_path (e.g. /health) would say "Page not found" and redirect: that path
    is resolved to the default page first."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    default = next((p for group in pages.values() for p in group if getattr(p, "_default", False)), None)
    ctx = get_script_run_ctx()
    if default is not None and ctx is not None:
        manager = ctx.pages_manager
        own = getattr(default, "_url_path", "")
        if own and not manager.intended_page_script_hash and manager.intended_page_name == own:
            manager.set_script_intent("", "")
    st.navigation(pages).run()


# ---------------------------------------------------------------------- shared widgets
def page_header(title: str, caption: str | None = None) -> Settings:
    """The page title, its caption, and in the demo the demo banner. Returns the settings.
    Outside the demo a reader who is not signed in with a role gets no page (actor() stops it)."""
    actor()
    if get_settings().demo:
        _demo_role_picker()  # on every page (drawn here: the pages' own sidebar, seen by AppTest too)
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
    down_notice(get_stores())
    return settings


def down_notice(stores: Stores) -> None:
    """On every page: which configured store is unreachable now (the cached ping), so that what is
    missing below is explained; it goes away by itself once the store answers again."""
    down = [f"{STORE_LABELS.get(n, n)} ({plain(redact(p.get('error'), stores.settings)) or 'no answer'})"
            for n, p in ping(stores).items() if p.get("configured") and not p.get("ok")]
    if down:
        st.warning("Unreachable now: " + "; ".join(down) + ". What needs it is shown as down or not run below; "
                   "the page recovers by itself once it answers.", icon=":material/cloud_off:")


# ---------------------------------------------------------------------- cached reads
PING_TTL_S = 5  # every page shows a store's state from this one ping: they agree within these seconds


@st.cache_data(ttl=PING_TTL_S, show_spinner="Pinging the stores…")
def _ping(key: str, _stores: Stores) -> dict[str, dict[str, Any]]:
    now = datetime.now(UTC)
    out = _stores.ping(STORE_NAMES)
    for info in out.values():
        info["checked_at"] = now
        if info.get("error"):
            info["error"] = redact(info["error"], _stores.settings)
    return out


def ping(stores: Stores) -> dict[str, dict[str, Any]]:
    """{store: {ok, configured, latency_ms, version, error, checked_at, (parts)}}, cached PING_TTL_S:
    the one source of "reachable now" for every page (Stores, the down notice, Health's tiles)."""
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


def _not_before(settings: Settings) -> datetime | None:
    """In the demo, a saved run is of the data now loaded only if it started after the last fill."""
    if not settings.demo:
        return None
    from lib.demo import manifest_path

    p = manifest_path(settings)
    return datetime.fromtimestamp(p.stat().st_mtime, UTC) if p.is_file() else None


def latest_run(stores: Stores) -> Any:
    """The latest run of the checks (lib.checks.latest): the one this server holds, refreshed in
    the background once per REFRESH_SECONDS for every session together, never because a cache was
    cleared. A Latest(run, refreshing, from_history, error)."""
    from lib.checks.latest import service

    try:
        return service(_stores_key(stores)).latest(
            stores, max_age_s=REFRESH_SECONDS, not_before=_not_before(stores.settings),
            reuse_firebase_s=float(stores.settings.firebase_snapshot_max_age_s))
    except Exception as exc:  # noqa: BLE001
        _fail(exc)


def check_run(stores: Stores) -> Any:
    """The latest CheckRun (latest_run), masked for the reader; when there is none yet (the first
    run failed, or it takes longer than the page waits) the page says so and looks again."""
    latest = latest_run(stores)
    if latest.run is None:
        if latest.error:
            _fail(OpsError(f"The check run failed: {latest.error}"))
        st.info("The first run of the checks is under way; this page shows it as soon as it is done.",
                icon=":material/hourglass_top:")
        time.sleep(2)
        st.rerun()
    now = ping(stores)
    back = [n for n, st_ in latest.run.stores.items() if not st_.get("ok") and now.get(n, {}).get("ok")]
    if back and not latest.refreshing:  # a store the run found down answers again: the run is out of date
        from lib.checks.latest import service

        service(_stores_key(stores)).refresh(stores, float(stores.settings.firebase_snapshot_max_age_s))
    if back:
        st.info(f"{', '.join(STORE_LABELS.get(n, n) for n in back)} answers again; the checks are running again "
                "(what needs it below is from the run before).", icon=":material/hourglass_top:")
    if latest.from_history:
        st.info(f"Showing run #{latest.run.run_id} from the history (samples only) while a new run is under way.",
                icon=":material/hourglass_top:")
    elif latest.error:
        st.warning(f"The last refresh of the checks failed ({plain(redact(latest.error))}); showing the run before it.",
                   icon=":material/warning:")
    return masked(latest.run)


def clear_check_cache() -> None:
    """The data changed (a fix was applied): forget the runs held, so that the next page starts one."""
    from lib.checks.latest import forget_all

    forget_all()


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


# ---------------------------------------------------------------------- monitoring pages
# (Health, Duplicates & orphans, Tokens, Constraints, Weekly review)
# One colour language for every page: the worst finding of a check, an area or a run is error
# (red), warn (orange), info (blue); none is ok (green); a check that could not run is unknown (grey).
REFRESH_SECONDS = 60  # how old the latest run may get before the server starts the next one (lib.checks.latest)
STATUS_COLORS = {"error": "red", "warn": "orange", "info": "blue", "ok": "green", "unknown": "gray"}
STATUS_ICONS = {"error": ":material/error:", "warn": ":material/warning:", "info": ":material/info:",
                "ok": ":material/check_circle:", "unknown": ":material/help:"}
STATUS_WORDS = {"error": "Error", "warn": "Warning", "info": "Info", "ok": "All good", "unknown": "Could not run"}
_CELL_COLORS = {"error": "#F8D7DA", "warn": "#FFE5C2", "info": "#DCEBFA", "ok": "#D5EFDD", "unknown": "#E4E7EA",
                "new": "#F8D7DA", "worse": "#FFE5C2", "better": "#DCEBFA", "resolved": "#D5EFDD"}
CHART_COLORS = {"error": "#C62828", "warn": "#EF6C00", "info": "#1565C0", "ok": "#2E7D32", "unknown": "#78909C"}
# categories that are no status (areas, job kinds): hues kept clear of the status colours
CATEGORY_COLORS = ["#2F6F73", "#7E57C2", "#8D6E63", "#546E7A", "#827717", "#AD8A00", "#00897B"]


def status_badge(status: str, label: str | None = None) -> None:
    st.badge(label or STATUS_WORDS.get(status, status), color=STATUS_COLORS.get(status, "gray"),  # type: ignore[arg-type]
             icon=STATUS_ICONS.get(status))


def styled(df: pd.DataFrame, columns: tuple[str, ...] = ("severity", "status")) -> Any:
    """`df` with its status-like columns coloured in the shared colour language (a pandas Styler)."""
    subset = [c for c in columns if c in df.columns]
    if df.empty or not subset:
        return df
    return df.style.map(lambda v: f"background-color: {_CELL_COLORS[v]}" if v in _CELL_COLORS else "", subset=subset)


def hidden_if_empty(df: pd.DataFrame, *columns: str) -> dict[str, None]:
    """Column settings that hide the `columns` of `df` holding nothing (e.g. no check failed to run)."""
    return {c: None for c in columns if c in df.columns and df[c].isna().all()}


def highlight_rows(df: pd.DataFrame, column: str = "drift") -> Any:
    """`df` with the rows whose `column` is non-empty highlighted (warn colour)."""
    if df.empty:
        return df
    return df.style.apply(lambda row: [f"background-color: {_CELL_COLORS['warn']}" if row[column] else ""] * len(row),
                          axis=1)


def tile(title: str, status: str, value: int, caption: str | None = None, page: str | None = None,
         delta: int | None = None) -> None:
    """A bordered tile: title, a badge in the status colour, the findings (with their change since
    the previous run), a caption, a link to its report page."""
    with st.container(border=True):
        st.markdown(f"**{title}**")  # the pages' own words (titles, counts): never a store's value
        status_badge(status)
        st.metric("Findings", f"{value:,}", delta=delta, delta_color="inverse")
        if caption:
            st.caption(caption)
        if page:
            st.page_link(f"pages/{page}.py", label="Report", icon=":material/arrow_forward:")


def csv_download(label: str, df: pd.DataFrame, file_name: str, key: str, uid: str | None = None) -> None:
    """A CSV download of `df` as the reader may see it (lib.audit.csv_bytes: role checked, PHI masked
    for support); the click is recorded in the audit log (lib.audit.record_export)."""
    from lib import audit

    who = actor()
    try:
        data, was_masked = audit.csv_bytes(who, df, uid=uid, unmasked=st.session_state.get(UNMASK_STATE))
    except OpsError as exc:
        show_error(exc)
        return

    def record() -> None:
        try:
            audit.record_export(get_stores(), who, file_name, len(df), was_masked)
        except Exception as exc:  # noqa: BLE001 - shown, the download itself is already in the browser
            show_error(exc)

    st.download_button(label, data, file_name=file_name, mime="text/csv", key=key,
                       icon=":material/download:", on_click=record)


def text_download(label: str, text: str, file_name: str, key: str, mime: str = "text/markdown") -> None:
    """A download of a text the page already shows as the reader may see it (masked upstream for
    support); the click is recorded in the audit log like every export."""
    from lib import audit, phi

    who = actor()

    def record() -> None:
        try:
            audit.record_export(get_stores(), who, file_name, text.count("\n"), phi.masks(who.role))
        except Exception as exc:  # noqa: BLE001 - shown, the download itself is already in the browser
            show_error(exc)

    st.download_button(label, text.encode(), file_name=file_name, mime=mime, key=key,
                       icon=":material/download:", on_click=record)


def link_column(label: str, pattern: str | None = None) -> Any:
    """A table column of relative links (`fixes?fix=…`, `patient?q=…`); `pattern` shows the capture."""
    return st.column_config.LinkColumn(label, display_text=pattern)


def run_checks_now(stores: Stores, key: str) -> Any:
    """The "Run checks now" button (oncall and admin; support sees it disabled): runs every check
    afresh, or joins the run under way, with its progress in a status box, then forgets the cached
    reads built on the previous run. Returns the new run or None."""
    from lib.checks.latest import RUN_ROLES, service

    who = actor()
    allowed = who.role in RUN_ROLES
    if not st.button("Run checks now", key=key, type="primary", icon=":material/play_arrow:", disabled=not allowed,
                     help=None if allowed else f"Running the checks on request needs the role {' or '.join(RUN_ROLES)}; "
                                               "the dashboard refreshes them by itself."):
        return None
    with st.status("Running the checks…", expanded=True) as status:
        status.write(f"Pinging the stores, then running {check_count()} checks")
        try:
            run = service(_stores_key(stores)).run_now(stores, who, progress=status.write)
        except OpsError as exc:  # the role (a forged click), or the run failed: said, and the page goes on
            status.update(label="The checks did not run", state="error", expanded=True)
            show_error(exc)
            return None
        clear_monitor_cache()
        seconds = (run.finished_at - run.started_at).total_seconds()
        failed = sum(r.count is None for r in run.results)
        status.write(f"{len(run.results)} checks finished in {seconds:.1f} s")
        status.update(label=f"Checks finished in {seconds:.1f} s" + (f", {failed} could not run" if failed else ""),
                      state="error" if failed else "complete", expanded=False)
    return masked(run)


def checked_caption(run: Any) -> None:
    age = (datetime.now(UTC) - run.finished_at).total_seconds()
    st.caption(f"Checked at {run.finished_at:%Y-%m-%d %H:%M:%S} UTC ({age:,.0f} s ago), run "
               f"{'#' + str(run.run_id) if run.run_id else '(not saved)'}; refreshed every {REFRESH_SECONDS} s "
               "for everyone.")


def _quiet(fn: Any, *args: Any) -> Any:
    """fn(*args), or {'error': one sentence} (a store or the ops database down is shown, not raised)."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001
        return {"error": safe_message(exc, _secrets())}


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def _previous_run(key: str, stamp: str, _stores: Stores, _run: Any) -> Any:
    from lib.reports import previous_run

    return _quiet(previous_run, _stores, _run)


def previous_run(stores: Stores, run: Any) -> dict[str, Any] | None:
    """The history's run before `run` ({id, started_at, generated, counts}); None when there is none
    or the ops database cannot be read."""
    prev = _previous_run(_stores_key(stores), f"{run.run_id}:{run.started_at.isoformat()}", stores, run)
    return None if prev is None or "error" in prev else prev


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def _trends(key: str, checks: tuple[str, ...], unit: str, days: int, _stores: Stores) -> Any:
    from lib.reports import trends as history_trends

    return _quiet(lambda: history_trends(_stores, checks, unit=unit, days=days))


def trends(stores: Stores, checks: tuple[str, ...], unit: str = "day", days: int = 42) -> pd.DataFrame | None:
    """lib.reports.trends, cached; None when the history cannot be read."""
    out = _trends(_stores_key(stores), tuple(checks), unit, days, stores)
    return None if isinstance(out, dict) else out


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def _sync_jobs(key: str, days: int, _stores: Stores) -> dict[str, Any]:
    from lib import syncjobs

    if _stores.core is None:
        return {"error": "Core PostgreSQL is not configured."}
    out = _quiet(lambda: {"failures": syncjobs.failures_by_day(_stores.core, days),
                          "errors": syncjobs.top_errors(_stores.core)})
    if "errors" in out:
        out["errors"]["last_error"] = [redact(e, _stores.settings) for e in out["errors"]["last_error"]]
    return out


def sync_jobs(stores: Stores, days: int = 14) -> dict[str, Any]:
    """{failures: DataFrame(day, kind, failed), errors: DataFrame(last_error, jobs, kinds, last_seen)}
    or {error}; cached like the check run."""
    out = _sync_jobs(_stores_key(stores), days, stores)
    return {k: masked(v) if isinstance(v, pd.DataFrame) else v for k, v in out.items()}


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def _token_report(key: str, stamp: str, hours: int, days: int, _stores: Stores, _keys: dict[str, list[str]]) -> Any:
    from lib import tokens

    if _stores.supabase is None:
        return {"error": "Supabase is not configured."}
    return _quiet(lambda: tokens.report(_stores.supabase, _keys, hours=hours, days=days))


def token_report(stores: Stores, run: Any, days: int = 7) -> dict[str, Any]:
    """lib.tokens.report for the token checks of `run`, cached with it."""
    keys = {r.id: r.keys for r in run.results if r.id.startswith("token.") and r.count is not None}
    hours = stores.settings.token_expiring_hours
    out = _token_report(_stores_key(stores), run.started_at.isoformat(), hours, days, stores, keys)
    if "rows" in out:
        out = {**out, "rows": {k: masked(v) for k, v in out["rows"].items()}}
    return out


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def _schema(key: str, name: str, _stores: Stores) -> dict[str, Any]:
    from lib.checks.constraints import describe_schema
    from lib.stores.postgres import PgStore

    store = _stores.get(name)
    if store is None:
        return {"error": f"{STORE_LABELS[name]} is not configured."}
    if not isinstance(store, PgStore):
        return {"error": f"{STORE_LABELS[name]} is reached through its HTTP API, which offers no catalog: set "
                         "SUPABASE_DB_URL to see its constraints and indexes."}
    return _quiet(describe_schema, store)


def schema(stores: Stores, name: str) -> dict[str, Any]:
    """lib.checks.constraints.describe_schema of one store (or {error}), cached like the check run."""
    return _schema(_stores_key(stores), name, stores)


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def _review_runs(key: str, _stores: Stores) -> Any:
    from lib import review

    def load() -> dict[str, Any]:
        pair = review.default_pair(_stores)
        return {"runs": review.pickable_runs(_stores, include=pair), "pair": pair}

    return _quiet(load)


def review_runs(stores: Stores) -> dict[str, Any]:
    """{runs: [RunInfo] the reader may pick, newest first, pair: (before, latest)} or {error}."""
    return _review_runs(_stores_key(stores), stores)


@st.cache_data(ttl=3600, show_spinner=False)
def _review_compare(key: str, before: int, after: int, _stores: Stores) -> Any:
    from lib import review

    return review.compare_runs(_stores, before, after)  # runs never change once saved


def review_compare(stores: Stores, before: int, after: int) -> Any:
    """lib.review.compare_runs, cached (saved runs never change); an error ends the page with one sentence."""
    try:
        changes = _review_compare(_stores_key(stores), before, after, stores)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    return masked(changes)


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def _review_acks(key: str, _stores: Stores) -> Any:
    from lib import review

    return review.acknowledgements(_stores)


def review_acks(stores: Stores) -> Any:
    """Every acknowledgement (lib.review.acknowledgements), cached; [] with the error shown when unreadable."""
    try:
        acks = _review_acks(_stores_key(stores), stores)
    except Exception as exc:  # noqa: BLE001
        show_error(exc)
        return []
    return masked(acks)


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def _weekly_trend(key: str, weeks: int, _stores: Stores) -> Any:
    from lib import review

    return review.weekly_trend(_stores, weeks)


def weekly_trend(stores: Stores, weeks: int = 8) -> pd.DataFrame | None:
    """lib.review.weekly_trend, cached; None with the error shown when the history cannot be read."""
    try:
        return _weekly_trend(_stores_key(stores), weeks, stores)
    except Exception as exc:  # noqa: BLE001
        show_error(exc)
        return None


def clear_monitor_cache() -> None:
    """Forget what the monitoring pages built on the previous check run and the history."""
    for fn in (_previous_run, _trends, _sync_jobs, _token_report, _schema, _review_runs, _weekly_trend):
        fn.clear()


def clear_acks_cache() -> None:
    _review_acks.clear()


# ---------------------------------------------------------------------- patient lookup (the Patient page)
class _Uncached(Exception):
    """Raised out of a cached read to hand back a result without caching it (a store was down:
    the next run asks again, so a store that is back is seen at once, as on every other page)."""

    def __init__(self, value: Any) -> None:
        super().__init__("uncached")
        self.value = value


@st.cache_data(ttl=30, max_entries=200, show_spinner="Looking in every store…")
def _patient_search(key: str, query: str, _stores: Stores) -> Any:
    from lib.patient import search

    found = search(_stores, query)
    if found.down:
        raise _Uncached(found)
    return found


def patient_search(stores: Stores, query: str) -> Any:
    """lib.patient.search: the query resolved to Firebase UIDs in every store at once, cached 30 s.
    A store that is down is in the result's `down`; anything else ends the page with one sentence."""
    try:
        found = _patient_search(_stores_key(stores), query, stores)
    except _Uncached as partial:
        found = partial.value
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    record_lookup(stores, found)
    unmasked = st.session_state.get(UNMASK_STATE)
    if masks_phi() and unmasked is not None and len(found.uids) == 1 and found.uids[0] == unmasked:
        return found
    return masked(found)


@st.cache_data(ttl=30, max_entries=200, show_spinner="Reading the patient from every store…")
def _patient_view(key: str, uid: str, down: tuple[tuple[str, str], ...], _stores: Stores) -> Any:
    from lib.patient import load

    view = load(_stores, [uid], dict(down))[0]
    if view.down:
        raise _Uncached(view)
    return view


def patient_view(stores: Stores, uid: str, down: dict[str, str] | None = None) -> Any:
    """lib.patient.load of one Firebase UID (a PatientView), cached 30 s; `down`: the parts the
    search found down (not asked again)."""
    try:
        view = _patient_view(_stores_key(stores), uid, tuple(sorted((down or {}).items())), stores)
    except _Uncached as partial:
        view = partial.value
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    return masked(view, uid=uid)


def clear_patient_cache() -> None:
    _patient_search.clear()
    _patient_view.clear()


# ---------------------------------------------------------------------- fixes (the Fixes page) and roles
ROLE_STATE = "healbridge.role"
REPORT_PAGES = {"constraints": "constraints", "duplicates": "duplicates", "orphans": "duplicates",
                "tokens": "tokens", "sync": "checks"}


def _keep_role() -> None:
    st.session_state[ROLE_STATE] = st.session_state["_healbridge_role_widget"]


def role_picker() -> Any:
    """The reader as lib.fixes.Actor (gate() in app.py resolved it: the signed-in person's role, or
    in the demo the role picked in the sidebar), said in a caption. The runner itself refuses an
    apply by the wrong role: this only says who is asking."""
    from lib.fixes import APPLY_ROLES

    who = actor()
    st.caption(f"Acting as **{plain(who.who)}** with the role **{plain(who.role)}**"
               + ("" if who.role in APPLY_ROLES else " (plan only)")
               + ("; change it in the sidebar." if get_settings().demo else "."))
    return who


def report_link(check_or_key: str) -> str:
    """The relative URL of the report page of a check id (or of a constraint key: Constraints)."""
    from lib.checks.ids import BY_ID

    info = BY_ID.get(check_or_key)
    return REPORT_PAGES.get(info.area, "checks") if info else "constraints"


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner="Checking which fixes are needed…")
def _fix_status(key: str, _stores: Stores) -> Any:
    from lib import fixes

    return _quiet(fixes.status, _stores)


def fix_status(stores: Stores) -> Any:
    """lib.fixes.status (needed now, blocked by what), cached like the check run; or {error}."""
    return _fix_status(_stores_key(stores), stores)


def fixes_frame(status: list[Any]) -> pd.DataFrame:
    """One row a fix, for the overview table: link, store, needed, its checks' counts, blockers."""
    rows = []
    for s in status:
        blocked = ", ".join(f"{k} = {v}" for k, v in s.blocked.items())
        rows.append({
            "fix": f"fixes?fix={s.fix.id}",
            "title": s.fix.title,
            "store": ", ".join(s.fix.stores),
            "needed": "?" if s.needed is None else ("yes" if s.needed else "no"),
            "counts": ", ".join(f"{k} = {v}" for k, v in s.counts.items()),
            "blocked by": blocked or ("—" if not s.error else redact(s.error)),
            "report": report_link(next(iter(s.blocked))) if s.blocked else None,
            "reviewed": "yes" if s.fix.is_reviewed else "NO",
        })
    return pd.DataFrame(rows, columns=["fix", "title", "store", "needed", "counts", "blocked by", "report", "reviewed"])


@st.cache_data(ttl=10, show_spinner=False)
def _fix_audit(key: str, fix: str | None, limit: int, _stores: Stores) -> Any:
    from lib import fixes

    def frame() -> pd.DataFrame:
        rows = fixes.audit_log(_stores, fix=fix, limit=limit)
        cols = ["id", "at", "who", "role", "fix", "action", "outcome", "rows", "reason", "duration_ms", "checksum"]
        return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)

    return _quiet(frame)


def fix_audit(stores: Stores, fix: str | None = None, limit: int = 100) -> Any:
    """The audit log (newest first) as a DataFrame, or {error}; cached 10 s."""
    out = _fix_audit(_stores_key(stores), fix, limit, stores)
    return masked(out) if isinstance(out, pd.DataFrame) else out


def clear_fix_cache() -> None:
    """After an apply: the fixes' status, the audit log, and every read built on the old data."""
    _fix_status.clear()
    _fix_audit.clear()
    clear_check_cache()
    clear_monitor_cache()


def fix_card(s: Any) -> None:
    """What a fix does, its risk, whether it is needed and what blocks it (linked to the report)."""
    f = s.fix
    st.subheader(f.title)  # the reviewed fix file's own text, not a store's
    st.markdown(f"`{f.id}` on **{', '.join(STORE_LABELS[x] for x in f.stores)}**. {f.what}")
    st.caption(f"Risk: {f.risk}")
    if s.error:
        st.error(plain(redact(s.error)))
    elif s.needed:
        st.warning("Needed now: " + (", ".join(f"{k} = {v}" for k, v in s.counts.items()) or "its post-condition "
                                     "does not hold"), icon=":material/build:")
    else:
        st.success("Nothing to do now: its verification already holds.", icon=":material/check_circle:")
    for k, v in s.blocked.items():
        st.error(f"Blocked by [{plain(k)} = {plain(v)}]({report_link(k)}): fix that first.", icon=":material/block:")
    if not f.is_reviewed:
        st.error("This file is not the reviewed one (checksum): the runner refuses it.", icon=":material/gpp_bad:")
    with st.expander(f"The reviewed SQL ({f.checksum[:19]}…)"):
        st.code(f.file.text, language="sql")


def show_fix_result(r: Any) -> None:
    """A plan's or an apply's result: outcome, rows, counts before and after, each step's rows."""
    label = plain(redact(f"{r.action.capitalize()} of {r.fix}: {r.outcome} ({r.rows} rows, {r.duration_ms:,.0f} ms, "
                         f"audit #{r.audit_id})"))
    if r.refused or r.error:
        st.error(label, icon=":material/block:")
    elif r.applied:
        st.success(label, icon=":material/check_circle:")
    else:
        st.info(label, icon=":material/info:")
    keys = list(dict.fromkeys([*r.before, *r.after, *r.verify]))
    if keys:
        counts = pd.DataFrame([{"check": k, "before": r.before.get(k, (r.verify.get(k) or {}).get("before")),
                                "after": r.after.get(k, (r.verify.get(k) or {}).get("after"))} for k in keys])
        counts["before"] = counts["before"].astype("Int64")
        counts["after"] = counts["after"].astype("Int64")
        st.dataframe(counts, hide_index=True, width="stretch")
    if r.also_affects:
        st.caption("May also move (checks across stores, not counted inside the transaction): "
                   + plain(", ".join(r.also_affects)))
    for v in r.violations:
        st.warning(plain(f"{v.key}: {v.count} rows violate it ({v.definition}), e.g. {', '.join(v.sample[:5])}"))
    for step in r.steps:
        rows = "—" if step.rows is None else f"{step.rows:,} rows"
        st.markdown(f"**{step.title}** ({STORE_LABELS.get(step.store, step.store)}): {rows}")
        if step.sample:
            st.dataframe(pd.DataFrame(step.sample), hide_index=True, width="stretch")


def _close_fix_dialog() -> None:
    st.session_state.pop("fixes.dialog", None)


@st.dialog("Apply a fix", width="large", on_dismiss=_close_fix_dialog)
def apply_dialog(stores: Stores, actor: Any, fix_id: str) -> None:
    """Type the fix id and the planned row count back, give a reason; the runner does the rest
    (role, checksum, lock, precondition, verification, the same row count, audit)."""
    last = st.session_state.get("fixes.result")
    planned = last.rows if last is not None and last.fix == fix_id and last.action == "plan" else None
    st.markdown(f"Applying **{plain(fix_id)}** as **{plain(actor.role)}** changes the store in one transaction." + (
        f" The plan touched **{planned}** rows." if planned is not None else " Plan it first to see the rows."))
    typed_id = st.text_input("Type the fix id", key="fixes.confirm_id")
    typed_rows = st.text_input("Type the row count of the plan", key="fixes.confirm_rows")
    reason = st.text_area("Reason (kept in the audit log)", key="fixes.reason")
    if st.button("Apply now", type="primary", key="fixes.confirm", icon=":material/build:"):
        if typed_id.strip() != fix_id:
            st.error(f"Type {plain(fix_id)} exactly to confirm.")
        elif not typed_rows.strip().isdigit():
            st.error("Type the row count as a whole number.")
        elif planned is not None and int(typed_rows) != planned:
            st.error(f"The plan touched {planned} rows, not {plain(typed_rows)}.")
        elif not reason.strip():
            st.error("Give a reason: it goes to the audit log.")
        else:
            from lib import fixes

            try:
                result = fixes.apply(stores, fix_id, actor, reason, expect_rows=int(typed_rows))
            except Exception as exc:  # noqa: BLE001
                _fail(exc)
            st.session_state["fixes.result"] = masked(result)
            _close_fix_dialog()
            clear_fix_cache()
            st.rerun()


def fix_plan(stores: Stores, actor: Any, fix_id: str) -> Any:
    """Plan a fix now (lib.fixes.plan); an error ends the page with one sentence."""
    from lib import fixes

    try:
        result = fixes.plan(stores, fix_id, actor)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    _fix_audit.clear()
    return masked(result)


# ---------------------------------------------------------------------- access: sign-in, roles, PHI, audit
# Outside the demo, app.py calls gate() before the navigation runs: nobody sees a page until signed
# in (st.login, OpenID Connect) with a role from the configuration (lib.auth); page_header() asks
# again, so no page can forget. In the demo a role picker in the sidebar says who is acting
# (default oncall, lib.auth.DEMO_DEFAULT_ROLE). Support sees PHI masked (lib.phi) by the wrappers
# above and in every CSV (lib.audit.export_csv); lookups, unmasks, exports go to lib.audit.
ACTOR_STATE = "healbridge.actor"
UNMASK_STATE = "healbridge.unmasked"
SIGNIN_STATE = "healbridge.signin_recorded"
LOOKUP_STATE = "healbridge.last_lookup"


def _st_secrets() -> dict[str, Any]:
    try:
        return st.secrets.to_dict()
    except Exception:  # noqa: BLE001 - no secrets file: nothing configured
        return {}


def _signin_page(message: str, *, login: bool, logout: bool) -> None:
    def page() -> None:
        st.title("HealBridge Ops")
        st.info(message, icon=":material/lock:")
        if login and st.button("Sign in", type="primary", icon=":material/login:", key="healbridge.login"):
            st.login()
        if logout and st.button("Sign out", icon=":material/logout:", key="healbridge.logout"):
            _sign_out()

    # the navigation knows the sign-in page only (no page file is reachable), and whatever page was
    # asked for, the sign-in prompt is what is drawn
    st.navigation([st.Page(page, title="Sign in", icon=":material/lock:", url_path="signin", default=True)],
                  position="hidden")
    page()
    st.stop()


def current_actor() -> Any:
    """The reader as lib.fixes.Actor(who, role), or None (outside the demo: not signed in, signed in
    longer ago than SESSION_MAX_AGE_HOURS, or signed in without a role). The role is resolved from
    the current [roles] on every call. A malformed role configuration ends the page with its sentence.
    (Whether the session was signed out is an ops-database lookup: gate() makes it on every run.)"""
    from lib import auth

    settings = get_settings()
    if settings.demo:
        return auth.demo_actor(st.session_state.get(ROLE_STATE))
    claims = st.user.to_dict()
    if auth.session_refusal(claims, settings.session_max_age_hours) is not None:
        return None
    try:
        roles = auth.load_roles(_st_secrets())
    except OpsError as exc:
        _fail(exc)
    return auth.actor_from_claims(claims, roles)


def _demo_role_picker() -> None:
    from lib.auth import DEMO_DEFAULT_ROLE
    from lib.fixes import ROLES

    role = st.session_state.setdefault(ROLE_STATE, DEMO_DEFAULT_ROLE)
    st.sidebar.selectbox(
        "Demo role", ROLES, index=ROLES.index(role) if role in ROLES else ROLES.index(DEMO_DEFAULT_ROLE),
        key="_healbridge_role_widget", on_change=_keep_role,
        help="The demo has no sign-in: pick the role to act in. support sees emails, phones, names and dates "
             "of birth masked and may plan fixes; oncall and admin see them in full and may apply; the Audit "
             "page is for admin.")


def gate() -> Any:
    """Called by app.py before the navigation: the signed-in reader with a role (the Actor), or a
    sign-in page and a stop. The demo: the sidebar role picker, no sign-in."""
    from lib import auth

    settings = get_settings()
    if settings.demo:
        actor = current_actor()  # the role picker is drawn by page_header()
    else:
        if not auth.auth_configured(_st_secrets()):
            _signin_page("Sign-in is not configured: add an [auth] section (OpenID Connect) and a [roles] table to "
                         ".streamlit/secrets.toml, as .streamlit/secrets.toml.example shows. Nothing is shown "
                         "until then.", login=False, logout=False)
        if not st.user.is_logged_in:
            _signin_page("Sign in to see HealBridge Ops.", login=True, logout=False)
        # the cookie lives 30 days and every copy of it signs in: the session must be young enough
        # and not signed out (lib.auth), checked on every run
        claims = st.user.to_dict()
        session = auth.session_id(claims)
        try:
            revoked = session is not None and auth.is_revoked(get_stores(), session)
        except Exception as exc:  # noqa: BLE001 - the revocations cannot be read: no session
            _signin_page(f"Your session cannot be checked, so nothing is shown ({plain(safe_message(exc, _secrets()))}).",
                         login=False, logout=False)
        refusal = auth.session_refusal(claims, settings.session_max_age_hours, revoked=revoked)
        if refusal is not None:
            _signin_page(refusal, login=True, logout=False)
        actor = current_actor()
        if actor is None:
            _signin_page(f"{plain(st.user.get('email') or 'This account')} has no role in HealBridge Ops: ask an admin "
                         "to add you to [roles].", login=False, logout=True)
        st.sidebar.caption(f"Signed in as **{plain(actor.who)}** ({actor.role})")
        st.sidebar.button("Sign out", icon=":material/logout:", key="healbridge.signout", on_click=_sign_out)
        _record_signin(actor)
    st.session_state[ACTOR_STATE] = actor
    return actor


def _sign_out() -> None:
    """The Sign out buttons: the session revoked in the ops database (every saved copy of its cookie
    is refused from then on) and the `signout` audit event, then Streamlit's st.logout."""
    from lib import auth

    try:
        auth.revoke_session(get_stores(), st.user.to_dict(), current_actor())
    except Exception as exc:  # noqa: BLE001 - the browser's cookie is cleared all the same
        import logging

        logging.getLogger(__name__).error("sign-out could not be recorded: %s", safe_message(exc, _secrets()))
    st.logout()


def _record_signin(who: Any) -> None:
    """The first time in a session a signed-in reader is seen: the sign-in event (no audit, no access)."""
    from lib import audit, auth

    if st.session_state.get(SIGNIN_STATE) == who:
        return
    try:
        audit.record(get_stores(), who, "signin",
                     detail={"sub": st.user.get("sub"), "session": auth.session_id(st.user.to_dict())})
    except Exception as exc:  # noqa: BLE001
        st.error(f"The audit log cannot be written, so nothing is shown ({plain(safe_message(exc, _secrets()))}).",
                 icon=":material/lock:")
        st.stop()
    st.session_state[SIGNIN_STATE] = who


def actor() -> Any:
    """The reader of this run (gate() in app.py let them in); outside the demo, no reader ends the
    page here, and a reader seen for the first time in the session is recorded as signed in."""
    who = current_actor()
    if who is None:
        st.error("Sign in to see this page.", icon=":material/lock:")
        st.stop()
    if not get_settings().demo:
        _record_signin(who)
    return who


def masked(obj: Any, uid: str | None = None) -> Any:
    """`obj` (a frame, records, a dataclass) as the reader may see it (lib.phi.for_role)."""
    from lib import phi

    return phi.for_role(obj, actor().role, uid=uid, unmasked=st.session_state.get(UNMASK_STATE))


def masks_phi() -> bool:
    from lib import phi

    return phi.masks(actor().role)


def unmask_widget(stores: Stores, uid: str) -> None:
    """For support: unmask this one patient with a stated reason (lib.audit.unmask records it)."""
    from lib import audit

    who = actor()
    if not masks_phi():
        return
    if st.session_state.get(UNMASK_STATE) == uid:
        st.caption("This patient is unmasked for you (recorded in the audit log).")
        return
    with st.expander("Emails, phones, names and dates of birth are masked for your role. Unmask this patient…",
                     icon=":material/visibility_off:"):
        reason = st.text_input("Reason (kept in the audit log)", key=f"unmask_reason_{uid}")
        if st.button("Unmask this patient", key=f"unmask_{uid}", icon=":material/visibility:"):
            try:
                audit.unmask(stores, who, uid, reason)
            except OpsError as exc:
                show_error(exc)
                return
            except Exception as exc:  # noqa: BLE001
                show_error(exc)
                return
            st.session_state[UNMASK_STATE] = uid
            st.rerun()


def record_lookup(stores: Stores, found: Any) -> None:
    """Audit a patient lookup once per distinct query of the session (pages rerun on every click)."""
    from lib import audit

    mark = (found.query.kind, found.query.value, tuple(found.uids))
    if st.session_state.get(LOOKUP_STATE) == mark:
        return
    try:
        audit.lookup(stores, actor(), found.query.kind, list(found.uids), list(found.down))
    except Exception as exc:  # noqa: BLE001 - no audit, no patient
        _fail(OpsError(f"The audit log cannot be written, so the patient is not shown ({safe_message(exc, _secrets())})."))
    st.session_state[LOOKUP_STATE] = mark


def audit_log(stores: Stores, **filters: Any) -> pd.DataFrame:
    """lib.audit.log for the reader (admin only: anybody else gets the one sentence and the page stops)."""
    from lib import audit

    try:
        return audit.log(stores, actor(), **filters)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
