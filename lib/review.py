"""The weekly data-quality review, over the check history in the ops database (lib.history).
It stays one module: the run pairs, the comparison, the acknowledgements that mark it, its summary
and the demo's generated history are the one model of the Review page, built on the same Change and
RunInfo records, each section short.

- Two runs compared check by check: ``new`` (none before, some now), ``resolved`` (some before,
  none now), ``worse`` / ``better`` (fewer or more than before), ``same``, ``ok`` (none either
  time), ``unknown`` (the check could not run in one of them). The keys that appeared or went away
  come from the two runs' samples.
- Acknowledgements: a finding (one key) or a whole check that someone has seen, with a comment and
  an expiry date. They are kept in the ops database, never deleted (ending one records who and
  when), and they hide nothing: the comparison marks what they cover and the page lists them apart.
- A summary of a comparison as CSV or Markdown.
- The demo's generated history: four weekly runs before "now" and one a day over the last two
  weeks, derived from the demo manifest with plausible changes, saved with ``generated = true``
  (``write_generated_history``, called by ``lib.demo.run_demo`` after it fills the stores); and
  what pulse.count_anomaly finds against it (``expected_anomalies``, for the demo manifest).
"""

from __future__ import annotations

import csv
import io
import random
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from lib import history
from lib.checks.ids import BY_ID, CHECK_IDS, CHECKS, SEVERITY_RANK
from lib.errors import NotFound, OpsError
from lib.reports import trends

if TYPE_CHECKING:
    from lib.checks.runner import CheckRun
    from lib.stores import Stores

STATUSES = ("new", "worse", "better", "resolved", "same", "ok", "unknown")
STATUS_SEVERITY = {"new": "error", "worse": "warn", "unknown": "unknown", "better": "info", "same": "info",
                   "resolved": "ok", "ok": "ok"}
MAX_ACK_DAYS = 366
MAX_COMMENT = 2000


class ReviewError(OpsError):
    """Bad input to the review (an acknowledgement without comment, an unknown run…)."""


# ------------------------------------------------------------------------------------ ops db
def ensure_schema(stores: Stores) -> None:
    """Create the ops tables if they are absent (idempotent)."""
    stores.ops.create_schema()


# ------------------------------------------------------------------------------------ runs
@dataclass(frozen=True)
class RunInfo:
    id: int
    started_at: datetime
    source: str
    generated: bool

    @property
    def label(self) -> str:
        tag = " (generated)" if self.generated else ""
        return f"#{self.id} · {self.started_at:%Y-%m-%d %H:%M} UTC · {self.source}{tag}"


def _run_info(row: Mapping[str, Any]) -> RunInfo:
    started = row["started_at"]
    if started.tzinfo is not None:
        started = started.astimezone(UTC)
    return RunInfo(id=int(row["id"]), started_at=started, source=str(row["source"]), generated=bool(row["generated"]))


def run_list(stores: Stores, limit: int = 300) -> list[RunInfo]:
    """The latest runs of the history, newest first."""
    return [_run_info(r) for r in history.runs(stores, limit)]


def pickable_runs(stores: Stores, recent: int = 50, days: int = 120, now: datetime | None = None,
                  include: Iterable[RunInfo | None] = ()) -> list[RunInfo]:
    """The runs a reader may pick, newest first: the latest `recent` ones, the last run of each
    day of the last `days` days (the history may hold a run a minute) and `include`."""
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    runs = {r.id: r for r in run_list(stores, recent)}
    runs.update({r.id: r for r in include if r is not None})
    for row in stores.ops.rows("list_runs_daily", {"since": since}):
        runs.setdefault(int(row["id"]), _run_info(row))
    return sorted(runs.values(), key=lambda r: (r.started_at, r.id), reverse=True)


def get_run(stores: Stores, run_id: int) -> RunInfo:
    rows = stores.ops.rows("run_by_id", {"id": int(run_id)})
    if not rows:
        raise NotFound(f"There is no check run #{run_id} in the history.")
    return _run_info(rows[0])


def default_pair(stores: Stores, days: int = 7) -> tuple[RunInfo | None, RunInfo | None]:
    """(the run about `days` earlier, the latest run): the latest run and the newest one that
    started at least `days` before it; when the history is younger, its oldest run. None when
    there is no run (or only one)."""
    runs = run_list(stores, 1)
    if not runs:
        return None, None
    latest = runs[0]
    before_id = history.latest_before(stores, latest.started_at - timedelta(days=days))
    if before_id is None:
        oldest = stores.ops.rows("list_runs_oldest", {"limit": 1})
        before_id = int(oldest[0]["id"]) if oldest else None
    if before_id is None or before_id == latest.id:
        return None, latest
    return get_run(stores, before_id), latest


# ------------------------------------------------------------------------------------ compare
@dataclass(frozen=True)
class Change:
    check: str
    severity: str
    before: int | None
    after: int | None
    status: str
    new_keys: tuple[str, ...] = ()
    resolved_keys: tuple[str, ...] = ()
    after_keys: tuple[str, ...] = ()

    @property
    def delta(self) -> int | None:
        return None if self.before is None or self.after is None else self.after - self.before

    @property
    def title(self) -> str:
        return BY_ID[self.check].title if self.check in BY_ID else self.check

    @property
    def area(self) -> str:
        return BY_ID[self.check].area if self.check in BY_ID else ""


def classify(before: int | None, after: int | None) -> str:
    if before is None or after is None:
        return "unknown"
    if before == 0 and after == 0:
        return "ok"
    if before == 0:
        return "new"
    if after == 0:
        return "resolved"
    if after > before:
        return "worse"
    if after < before:
        return "better"
    return "same"


def compare(before: Iterable[Mapping[str, Any]], after: Iterable[Mapping[str, Any]]) -> list[Change]:
    """Compare two runs' results (rows of lib.history.results: check_id, severity, count, sample).
    Every check id of either run appears once, in the order of the check registry."""
    b = {r["check_id"]: r for r in before}
    a = {r["check_id"]: r for r in after}
    order = [c for c in CHECK_IDS if c in a or c in b] + sorted((set(a) | set(b)) - set(CHECK_IDS))
    out = []
    for cid in order:
        rb, ra = b.get(cid), a.get(cid)
        cb = rb["count"] if rb else None
        ca = ra["count"] if ra else None
        sb = list(rb["sample"] or []) if rb else []
        sa = list(ra["sample"] or []) if ra else []
        severity = (ra or rb or {}).get("severity") or (BY_ID[cid].severity if cid in BY_ID else "info")
        known = cb is not None and ca is not None
        out.append(Change(
            check=cid, severity=severity, before=cb, after=ca, status=classify(cb, ca),
            new_keys=_gone(sa, sb, cb) if known else (),
            resolved_keys=_gone(sb, sa, ca) if known else (),
            after_keys=tuple(sa),
        ))
    return out


def _gone(these: list[str], other: list[str], other_count: int | None) -> tuple[str, ...]:
    """The keys of sample `these` that are certainly absent from the run of sample `other`. A
    sample is the first keys of the sorted key list: when `other` is partial (its run found more
    than it kept), a key sorting after its last one cannot be told and is left out."""
    complete = other_count is not None and other_count <= len(other)
    last = max(other) if other else None
    seen = set(other)
    return tuple(k for k in these if k not in seen and (complete or (last is not None and k < last)))


def compare_runs(stores: Stores, before_id: int, after_id: int) -> list[Change]:
    get_run(stores, before_id)
    get_run(stores, after_id)
    return compare(history.results(stores, before_id), history.results(stores, after_id))


def counts_by_status(changes: Iterable[Change]) -> dict[str, int]:
    out = dict.fromkeys(STATUSES, 0)
    for c in changes:
        out[c.status] += 1
    return out


# ------------------------------------------------------------------------------------ acknowledgements
@dataclass(frozen=True)
class Ack:
    id: int
    check_id: str
    finding_key: str | None
    comment: str
    expires_at: datetime
    created_at: datetime
    created_by: str
    ended_at: datetime | None = None
    ended_by: str | None = None

    def state(self, now: datetime | None = None) -> str:
        """active | expired | ended."""
        now = now or datetime.now(UTC)
        if self.ended_at is not None:
            return "ended"
        return "active" if self.expires_at > now else "expired"

    @property
    def scope(self) -> str:
        return self.finding_key if self.finding_key else "every finding of the check"


def _expiry(expires: date | datetime) -> datetime:
    """A date means "through that day" (UTC): the acknowledgement ends at the next midnight."""
    if isinstance(expires, datetime):
        return expires if expires.tzinfo else expires.replace(tzinfo=UTC)
    return datetime.combine(expires + timedelta(days=1), time(0), UTC)


def acknowledge(
    stores: Stores,
    check_id: str,
    comment: str,
    expires: date | datetime,
    *,
    key: str | None = None,
    by: str = "",
    now: datetime | None = None,
) -> int:
    """Acknowledge `key` of `check_id` (the whole check when None) until `expires`; returns its id.
    Bad input raises ReviewError with one sentence."""
    now = now or datetime.now(UTC)
    if check_id not in BY_ID:
        raise ReviewError(f"Unknown check id {check_id!r}: pick one of the checks of the comparison.")
    comment = (comment or "").strip()
    if not comment:
        raise ReviewError("Write a comment that says why this finding is acknowledged.")
    if len(comment) > MAX_COMMENT:
        raise ReviewError(f"The comment is too long ({len(comment):,} characters; at most {MAX_COMMENT:,}).")
    if expires is None:
        raise ReviewError("Pick the date the acknowledgement expires.")
    until = _expiry(expires)
    if until <= now:
        raise ReviewError("The expiry date must be in the future.")
    if until > now + timedelta(days=MAX_ACK_DAYS):
        raise ReviewError("The expiry date may be at most a year ahead: acknowledgements are meant to be reviewed.")
    key = (key or "").strip() or None
    if key is not None and len(key) > 500:
        raise ReviewError("That finding key is too long to be one of the check's keys.")
    by = (by or "").strip()[:100]
    rows = stores.ops.execute("ack_insert", {"check_id": check_id, "finding_key": key, "comment": comment,
                                             "expires_at": until, "created_by": by})
    return int(rows[0]["id"])


def acknowledgements(stores: Stores, limit: int = 1000) -> list[Ack]:
    """Every acknowledgement (active, expired and ended), newest first."""
    return [
        Ack(id=int(r["id"]), check_id=r["check_id"], finding_key=r["finding_key"], comment=r["comment"],
            expires_at=r["expires_at"], created_at=r["created_at"], created_by=r["created_by"] or "",
            ended_at=r["ended_at"], ended_by=r["ended_by"])
        for r in stores.ops.rows("ack_list", {"limit": limit})
    ]


def end_acknowledgement(stores: Stores, ack_id: int, *, by: str = "") -> bool:
    """End an acknowledgement now (kept, marked ended); False when it was already ended or absent."""
    return bool(stores.ops.execute("ack_end", {"id": int(ack_id), "ended_by": (by or "").strip()[:100]}))


@dataclass
class Coverage:
    """What the active acknowledgements cover of one check in a run."""

    whole: Ack | None = None
    keys: dict[str, Ack] = field(default_factory=dict)

    def describe(self, count: int | None) -> str:
        if self.whole is not None:
            return f"whole check, until {self.whole.expires_at:%Y-%m-%d}"
        if self.keys:
            return f"{len(self.keys)} of {count if count is not None else '?'} findings"
        return ""


def coverage(changes: Iterable[Change], acks: Iterable[Ack], now: datetime | None = None) -> dict[str, Coverage]:
    """{check: Coverage} for the checks with findings in the later run that an active
    acknowledgement covers (a key is covered when it is in that run's sample)."""
    now = now or datetime.now(UTC)
    active = [a for a in acks if a.state(now) == "active"]
    out: dict[str, Coverage] = {}
    for c in changes:
        if not c.after:
            continue
        cov = Coverage()
        for a in active:
            if a.check_id != c.check:
                continue
            if a.finding_key is None:
                cov.whole = cov.whole or a
            elif a.finding_key in c.after_keys:
                cov.keys.setdefault(a.finding_key, a)
        if cov.whole or cov.keys:
            out[c.check] = cov
    return out


# ------------------------------------------------------------------------------------ summary
SUMMARY_COLUMNS = ["check", "title", "severity", "before", "after", "change", "status", "acknowledged",
                   "new_keys", "resolved_keys"]


def comparison_frame(changes: Iterable[Change], cov: Mapping[str, Coverage] | None = None) -> pd.DataFrame:
    """One row per check, the changes first (new, worse, unknown, better, same, resolved, ok), then
    by severity and check id."""
    cov = cov or {}
    rows = [
        {
            "check": c.check, "title": c.title, "severity": c.severity, "before": c.before, "after": c.after,
            "change": c.delta, "status": c.status,
            "acknowledged": cov[c.check].describe(c.after) if c.check in cov else "",
            "new_keys": ", ".join(c.new_keys), "resolved_keys": ", ".join(c.resolved_keys),
        }
        for c in changes
    ]
    df = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    for col in ("before", "after", "change"):
        df[col] = df[col].astype("Int64")
    order = {"new": 0, "worse": 1, "unknown": 2, "better": 3, "same": 4, "resolved": 5, "ok": 6}
    df["_o"] = df["status"].map(order)
    df["_s"] = df["severity"].map(SEVERITY_RANK).fillna(9)
    df = df.sort_values(["_o", "_s", "check"], kind="stable").drop(columns=["_o", "_s"])
    return df.reset_index(drop=True)


def summary_csv(frame: pd.DataFrame) -> str:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue()


def _md(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    return str(value).replace("|", "\\|").replace("\n", " ")


def summary_markdown(
    before: RunInfo, after: RunInfo, changes: list[Change], cov: Mapping[str, Coverage], acks: Iterable[Ack],
    now: datetime | None = None,
) -> str:
    """The review as a Markdown document: the two runs, the counts by status, the changed checks,
    the checks still failing, and every acknowledgement (active and expired apart)."""
    now = now or datetime.now(UTC)
    counts = counts_by_status(changes)
    frame = comparison_frame(changes, cov)
    lines = [
        "# HealBridge weekly data-quality review",
        "",
        f"Compared run {before.label} with run {after.label}.",
        "",
        " · ".join(f"{counts[s]} {s}" for s in STATUSES),
        "",
    ]
    changed = frame[frame["status"].isin(["new", "worse", "better", "resolved", "unknown"])]
    lines += ["## What changed", ""]
    if changed.empty:
        lines += ["Nothing changed between the two runs.", ""]
    else:
        lines += ["| check | severity | before | after | change | status | acknowledged |", "|---|---|---|---|---|---|---|"]
        for r in changed.itertuples():
            lines.append(f"| {_md(r.check)} | {_md(r.severity)} | {_md(r.before)} | {_md(r.after)} | {_md(r.change)} "
                         f"| {_md(r.status)} | {_md(r.acknowledged) if r.acknowledged else '—'} |")
        lines.append("")
    failing = frame[frame["after"].fillna(0) > 0]
    lines += ["## Still failing", ""]
    if failing.empty:
        lines += ["All good: no check has a finding in the later run.", ""]
    else:
        lines += ["| check | severity | count | acknowledged |", "|---|---|---|---|"]
        for r in failing.itertuples():
            lines.append(f"| {_md(r.check)} | {_md(r.severity)} | {_md(r.after)} | {_md(r.acknowledged) or '—'} |")
        lines.append("")
    acks = list(acks)
    for state, heading in (("active", "Acknowledged"), ("expired", "Expired acknowledgements")):
        mine = [a for a in acks if a.state(now) == state]
        if not mine:
            continue
        lines += [f"## {heading}", "", "| check | finding | comment | until | by |", "|---|---|---|---|---|"]
        for a in mine:
            lines.append(f"| {_md(a.check_id)} | {_md(a.scope)} | {_md(a.comment)} | {a.expires_at:%Y-%m-%d} "
                         f"| {_md(a.created_by) if a.created_by else '—'} |")
        lines.append("")
    return "\n".join(lines)


def weekly_trend(stores: Stores, weeks: int = 8, now: datetime | None = None) -> pd.DataFrame:
    """The last run of each of the last `weeks` weeks: week, check, area, severity, count."""
    df = trends(stores, CHECK_IDS, unit="week", days=7 * weeks, now=now)
    df = df.rename(columns={"period": "week"})
    df["area"] = [BY_ID[c].area if c in BY_ID else "" for c in df["check"]]
    df["severity"] = [BY_ID[c].severity if c in BY_ID else "" for c in df["check"]]
    return df[["week", "check", "area", "severity", "count", "run_id", "generated"]]


# ------------------------------------------------------------------------------------ demo history
# How each planted check moved over the generated weeks and days, from its entry's `demo_history`
# (the rest stayed as they are now):
# growing (fewer findings each week before), new (none before today), shrinking (more before),
# resolved (findings until today, none now), noisy (a finding more or less each run), spike (a
# quarter of today's findings on every day before today).
SCENARIOS: dict[str, str] = {c.id: c.demo_history for c in CHECKS if c.demo_history != "steady"}
DAILY_DAYS = 13  # one generated run a day over the days before the anchor (with the weekly ones: 14)


def _count(scenario: str, now: int, days_ago: int, k: int, rng: random.Random) -> int:
    """The count `days_ago` days before the anchor (every 7th day: the weekly runs' counts)."""
    if scenario == "resolved":  # findings every week until this one (a check that has some now stays)
        return now if now else (k, 2 * k, 2 * k, k)[(-(-days_ago // 7) - 1) % 4]
    if now == 0:
        return 0
    if scenario == "growing":
        return max(0, now - -(-now * days_ago // 35))  # at least one fewer every week before
    if scenario == "new":
        return 0
    if scenario == "shrinking":
        return now + -(-now * days_ago // 28)
    if scenario == "noisy":  # noise never empties a check that has findings (that would be a change)
        return max(1, now + rng.randint(-1, 1))
    if scenario == "spike":
        return now // 4
    return now


def _fake_key(template: str, rng: random.Random) -> str:
    """A key of the same shape as `template` (a row gone since: hex for hex, digits for digits)."""
    out = []
    for ch in template:
        if ch in "0123456789abcdef" and any(c in "abcdef" for c in template.replace("-", "")):
            out.append(rng.choice("0123456789abcdef"))
        elif ch.isdigit():
            out.append(rng.choice(string.digits))
        elif ch.isalpha():
            out.append(rng.choice(string.ascii_letters))
        else:
            out.append(ch)
    return "".join(out)


def _anchor(manifest: Mapping[str, Any]) -> datetime:
    anchor = datetime.fromisoformat(str(manifest["anchor"]))
    return anchor.replace(tzinfo=UTC) if anchor.tzinfo is None else anchor


def generated_runs(manifest: Mapping[str, Any], weeks: int = 4, days: int = DAILY_DAYS) -> list[CheckRun]:
    """`weeks` weekly runs before the manifest's anchor and one a day over the `days` days before
    it, oldest first, derived from what the demo planted: each check follows its SCENARIOS entry
    (the keys of a run are a stable subset of the planted keys, plus keys of rows gone since where
    there were more), each from a random stream of its own. A clean demo's history is clean."""
    from lib.checks.runner import CheckResult, CheckRun

    anchor = _anchor(manifest)
    tag = f"history:{manifest.get('seed', 0)}:{manifest.get('patients', 0)}"
    rng = random.Random(tag)  # durations and latencies
    streams = {c.id: random.Random(f"{tag}:{c.id}") for c in CHECKS}  # one check's keys move no other's
    k = max(1, int(manifest.get("patients", 500)) // 500)
    planted = manifest["planted"]
    order: dict[str, list[str]] = {}
    for c in CHECKS:
        keys = list(planted.get(c.id, {}).get("keys", []))
        streams[c.id].shuffle(keys)
        template = keys[0] if keys else "00000000-0000-4000-8000-000000000000"
        extra = [_fake_key(template, streams[c.id]) for _ in range(max(len(keys), 2 * k) + 2)]
        order[c.id] = keys + extra
    runs = []
    for days_ago in sorted({7 * w for w in range(1, weeks + 1)} | set(range(1, days + 1)), reverse=True):
        started = anchor - timedelta(days=days_ago)
        results = []
        for c in CHECKS:
            now_count = int(planted.get(c.id, {}).get("count", 0))
            scenario = "steady" if manifest.get("clean") else SCENARIOS.get(c.id, "steady")
            count = 0 if manifest.get("clean") else _count(scenario, now_count, days_ago, k, streams[c.id])
            keys = sorted(order[c.id][:count])
            results.append(CheckResult(c.id, c.severity, count, keys, round(rng.uniform(2, 60), 1), fix=c.fix))
        stores_state = {n: {"ok": True, "latency_ms": round(rng.uniform(2, 30), 1), "error": None, "configured": True}
                        for n in ("core", "supabase", "firebase")}
        runs.append(CheckRun(started_at=started, finished_at=started + timedelta(seconds=rng.uniform(2, 6)),
                             stores=stores_state, results=results))
    return runs


def write_generated_history(stores: Stores, manifest: Mapping[str, Any], weeks: int = 4) -> list[int]:
    """Save `generated_runs(manifest, weeks)` into the ops history, marked generated, in place of the
    generated runs of the previous data set (only those: real runs, the audit log, the fix audit and
    the acknowledgements survive a refill); returns their ids."""
    ensure_schema(stores)
    stores.ops.execute("delete_generated_runs")
    return [history.save_run(stores, run, source="demo", generated=True) for run in generated_runs(manifest, weeks)]


def expected_anomalies(manifest: Mapping[str, Any]) -> list[str]:
    """What pulse.count_anomaly finds in a run on the anchor's day (UTC) that counts what the demo
    planted, against the generated history (`generated_runs`) and the default settings: the last
    generated run of each day of the window is that day's count (lib.checks.pulse)."""
    from lib.checks import pulse
    from lib.config import Settings

    settings = Settings.model_construct()  # the defaults, as the demo's other plants
    days = set(pulse.window_days(_anchor(manifest), settings.pulse_anomaly_window_days))
    last: dict[datetime, CheckRun] = {}
    for run in generated_runs(manifest):
        day = run.started_at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        if day in days and (day not in last or run.started_at >= last[day].started_at):
            last[day] = run
    daily: dict[str, list[int]] = {}
    for day in sorted(last):
        for r in last[day].results:
            if r.count is not None:
                daily.setdefault(r.id, []).append(r.count)
    counts = {c.id: int(manifest["planted"][c.id]["count"]) for c in CHECKS if c.kind != "history"}
    return pulse.judge(counts, daily, settings)
