"""What the pages share: the one place in lib that imports Streamlit. Pages `from lib import web`
and use `web.<name>`; each name lives in one module of this package:

- `frame`: the configuration, the stores (opened once per configuration; the demo started and
  waited for), errors as one sentence without secrets (`redact`, `show_error`), `plain`, `navigate`.
- `access`: the sign-in gate, the acting person (`actor`, `role_picker`), PHI masking, the unmask widget.
- `cache`: the one error convention of the reads (`Read`: `.value` or `.error`, shown by
  `.or_stop()` / `.or_show()`) and the cache registry (`cached(ttl=…, groups=…)`, `clear(group)`).
- `reads`: every read of the pages (pings, row counts, the history, sync jobs, tokens, schema,
  weekly review, patient lookup, fixes' status and audit, the access log), each returning a Read.
- `alert_reads`: the reads of the Alerts page and the maintenance banner (the watcher's
  heartbeat, the alert log, open checks, maintenance windows, channels), the same way.
- `actions`: the check run (the server's latest run, Run checks now), the fixes' plan and apply,
  the alerts' test message and maintenance windows.
- `widgets`: the page header (with the maintenance banner) and the down notice, the watcher's status, the colour language (badges, tiles, styled
  tables), downloads, link columns, the fix card, result and dialog, the runbook of a check.
"""

from lib.web.access import actor, gate, masked, masks_phi, may_apply, role_picker, unmask_widget
from lib.web.actions import (
    check_count,
    check_run,
    checked_caption,
    end_maintenance,
    fix_plan,
    latest_run,
    run_checks_now,
    run_label,
    send_test_alert,
    start_maintenance,
)
from lib.web.alert_reads import (
    alert_attempts,
    alert_channels,
    alert_log,
    maintenance_now,
    maintenance_windows,
    open_checks,
    watch_heartbeat,
)
from lib.web.cache import PING_TTL_S, REFRESH_SECONDS, Read, cached, clear, derived
from lib.web.frame import (
    STORE_LABELS,
    get_settings,
    get_stores,
    navigate,
    plain,
    redact,
    settings_key,
    show_error,
)
from lib.web.reads import (
    audit_log,
    count_legend,
    count_note,
    fix_audit,
    fix_status,
    lookup_indexes,
    patient_search,
    patient_view,
    ping,
    previous_run,
    review_acks,
    review_compare,
    review_runs,
    row_counts,
    schema,
    sync_jobs,
    token_report,
    token_rows_later,
    trends,
    weekly_trend,
)
from lib.web.widgets import (
    CATEGORY_COLORS,
    CHART_COLORS,
    STATUS_COLORS,
    STATUS_ICONS,
    STATUS_WORDS,
    alerts_flash,
    apply_dialog,
    check_results_frame,
    csv_download,
    down_notice,
    figure,
    fix_card,
    fixes_frame,
    hidden_if_empty,
    highlight_rows,
    link_column,
    maintenance_banner,
    page_header,
    report_link,
    runbook_entries,
    runbook_entry,
    runbook_picker,
    show_fix_result,
    status_badge,
    styled,
    text_download,
    tile,
    watcher_status,
)

__all__ = [
    "alert_attempts", "alert_channels", "alert_log", "alerts_flash", "end_maintenance", "maintenance_banner",
    "maintenance_now", "maintenance_windows", "open_checks", "send_test_alert", "start_maintenance",
    "watch_heartbeat", "watcher_status",
    "CATEGORY_COLORS", "CHART_COLORS", "PING_TTL_S", "REFRESH_SECONDS", "STATUS_COLORS", "STATUS_ICONS",
    "STATUS_WORDS", "STORE_LABELS", "Read", "actor", "apply_dialog", "audit_log", "cached",
    "check_count", "check_results_frame", "check_run", "checked_caption", "clear", "csv_download", "derived", "down_notice",
    "fix_audit", "fix_card", "fix_plan", "fix_status", "fixes_frame", "gate", "get_settings", "get_stores",
    "hidden_if_empty", "highlight_rows", "latest_run", "link_column", "lookup_indexes", "masked", "masks_phi", "may_apply", "navigate",
    "page_header", "patient_search", "patient_view", "ping", "plain", "previous_run", "redact", "report_link",
    "review_acks", "review_compare", "review_runs", "role_picker", "row_counts", "count_legend", "count_note", "run_checks_now", "run_label", "runbook_entries", "runbook_entry", "runbook_picker",
    "schema",
    "settings_key", "show_error", "show_fix_result", "status_badge", "styled", "figure", "sync_jobs", "text_download",
    "tile", "token_report", "token_rows_later", "trends", "unmask_widget", "weekly_trend",
]
