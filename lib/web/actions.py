"""What the pages do, rather than read: the check run (the server's latest run, Run checks now)
and the fixes (plan, apply). These draw their own progress and, where the page cannot go on
without them, end it with one sentence.

The check run is not a cached read: the server holds the latest run (lib.checks.latest),
refreshed in the background once per REFRESH_SECONDS for every session together, never because a
cache was cleared. What is built on it (lib.web.reads, group "monitor") is forgotten when a new
run is asked for; after an apply every read built on the data (group "fix") is.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from lib.config import Settings
from lib.errors import OpsError
from lib.stores import Stores
from lib.web.access import actor, masked, masks_phi
from lib.web.cache import REFRESH_SECONDS, clear, derived
from lib.web.frame import STORE_LABELS, fail, plain, redact, show_error, stores_key
from lib.web.reads import ping


# ---------------------------------------------------------------------- the check run
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
        return service(stores_key(stores)).latest(
            stores, max_age_s=REFRESH_SECONDS, not_before=_not_before(stores.settings),
            reuse_firebase_s=float(stores.settings.firebase_snapshot_max_age_s))
    except Exception as exc:  # noqa: BLE001
        fail(exc)


def check_run(stores: Stores) -> Any:
    """The latest CheckRun (latest_run), masked for the reader; when there is none yet (the first
    run failed, or it takes longer than the page waits) the page says so and looks again."""
    latest = latest_run(stores)
    if latest.run is None:
        if latest.error:
            fail(OpsError(f"The check run failed: {latest.error}"))
        st.info("The first run of the checks is under way; this page shows it as soon as it is done.",
                icon=":material/hourglass_top:")
        time.sleep(2)
        st.rerun()
    now = ping(stores).value or {}
    back = [n for n, st_ in latest.run.stores.items() if not st_.get("ok") and now.get(n, {}).get("ok")]
    if back and not latest.refreshing:  # a store the run found down answers again: the run is out of date
        from lib.checks.latest import service

        service(stores_key(stores)).refresh(stores, float(stores.settings.firebase_snapshot_max_age_s))
    if back:
        st.info(f"{', '.join(STORE_LABELS.get(n, n) for n in back)} answers again; the checks are running again "
                "(what needs it below is from the run before).", icon=":material/hourglass_top:")
    if latest.from_history:
        st.info(f"Showing run #{latest.run.run_id} from the history (samples only) while a new run is under way.",
                icon=":material/hourglass_top:")
    elif latest.error:
        st.warning(f"The last refresh of the checks failed ({plain(redact(latest.error))}); showing the run before it.",
                   icon=":material/warning:")
    run = latest.run
    if not masks_phi():
        return run
    return derived(run, "masked", lambda: masked(run))  # one masked copy per run for every session


def check_count() -> int:
    from lib.checks.ids import CHECKS

    return len(CHECKS)


def run_checks_now(stores: Stores, key: str) -> Any:
    """The "Run checks now" button (oncall and admin; support sees it disabled): runs every check
    afresh, or joins the run under way, with its progress in a status box, then forgets the cached
    reads built on the previous run. Returns the new run or None."""
    from lib.checks.latest import service
    from lib.roles import RUN_ROLES

    who = actor()
    allowed = who.role in RUN_ROLES
    if not st.button("Run checks now", key=key, type="primary", icon=":material/play_arrow:", disabled=not allowed,
                     help=None if allowed else f"Running the checks on request needs the role {' or '.join(RUN_ROLES)}; "
                                               "the dashboard refreshes them by itself."):
        return None
    with st.status("Running the checks…", expanded=True) as status:
        status.write(f"Pinging the stores, then running {check_count()} checks")
        try:
            run = service(stores_key(stores)).run_now(stores, who, progress=status.write)
        except OpsError as exc:  # the role (a forged click), or the run failed: said, and the page goes on
            status.update(label="The checks did not run", state="error", expanded=True)
            show_error(exc)
            return None
        clear("monitor")
        seconds = (run.finished_at - run.started_at).total_seconds()
        failed = sum(r.count is None for r in run.results)
        status.write(f"{len(run.results)} checks finished in {seconds:.1f} s")
        status.update(label=f"Checks finished in {seconds:.1f} s" + (f", {failed} could not run" if failed else ""),
                      state="error" if failed else "complete", expanded=False)
    return masked(run)


def run_label(run: Any) -> str:
    """How a caption names a run: "#<id>", or "(not saved)" when the history did not keep it."""
    return f"#{run.run_id}" if run.run_id else "(not saved)"


def checked_caption(run: Any) -> None:
    age = (datetime.now(UTC) - run.finished_at).total_seconds()
    st.caption(f"Checked at {run.finished_at:%Y-%m-%d %H:%M:%S} UTC ({age:,.0f} s ago), run "
               f"{run_label(run)}; refreshed every {REFRESH_SECONDS} s "
               "for everyone.")

# ---------------------------------------------------------------------- fixes
def fix_plan(stores: Stores, actor: Any, fix_id: str) -> Any:
    """Plan a fix now (lib.fixes.plan); an error ends the page with one sentence."""
    from lib import fixes

    try:
        result = fixes.plan(stores, fix_id, actor)
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    clear("audit")
    return masked(result)



def fix_apply(stores: Stores, actor: Any, fix_id: str, reason: str, expect_rows: int) -> Any:
    """Apply a fix (lib.fixes.apply: role, checksum, lock, precondition, verification, the same row
    count, audit), then forget every read built on the old data and the check runs held; an error
    ends the page with one sentence."""
    from lib import fixes
    from lib.checks.latest import forget_all

    try:
        result = fixes.apply(stores, fix_id, actor, reason, expect_rows=expect_rows)
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    forget_all()
    clear("fix")
    return masked(result)


# ---------------------------------------------------------------------- alerts (lib.alerts: the role checked there, audited)
ALERTS_FLASH = "healbridge.alerts.flash"  # what the last alert action did, shown once after the rerun


def _flash(kind: str, text: str) -> None:
    st.session_state[ALERTS_FLASH] = (kind, text)
    clear("alerts")
    st.rerun()


def send_test_alert(stores: Stores, actor: Any, channel_index: int) -> None:
    """Send a test alert to one channel now (lib.alerts.send_test: oncall and admin, audited); the
    outcome is shown after the rerun, a refusal (the role) or bad input at once, as one sentence."""
    from lib import alerts

    try:
        got = alerts.send_test(stores, actor, channel_index)
    except Exception as exc:  # noqa: BLE001 - the role (a forged click), no such channel, the ops database down
        show_error(exc)
        return
    if got["ok"]:
        _flash("success", f"Test alert delivered to {got['channel']}.")
    else:
        _flash("error", f"The test alert to {got['channel']} was not delivered ({redact(got['error'])}); "
               "the watcher tries it again with backoff.")


def start_maintenance(stores: Stores, actor: Any, reason: str, ends_at: datetime) -> None:
    """Open a maintenance window now until `ends_at` (lib.alerts.start_maintenance: oncall and
    admin, audited); a refusal or bad input is one sentence."""
    from lib import alerts

    try:
        wid = alerts.start_maintenance(stores, actor, reason, ends_at)
    except Exception as exc:  # noqa: BLE001
        show_error(exc)
        return
    _flash("success", f"Maintenance window #{wid} started: no alert is sent until {ends_at:%Y-%m-%d %H:%M} UTC.")


def end_maintenance(stores: Stores, actor: Any, window_id: int) -> None:
    """End a maintenance window now (lib.alerts.end_maintenance: oncall and admin, audited)."""
    from lib import alerts

    try:
        ended = alerts.end_maintenance(stores, actor, window_id)
    except Exception as exc:  # noqa: BLE001
        show_error(exc)
        return
    _flash("success" if ended else "info", f"Maintenance window #{window_id} "
           + ("ended: alerts are sent again." if ended else "had already ended."))
