"""`python -m lib bench`: build (or reuse) a bench data set, measure it, write the figures.

    python -m lib bench [--size quick|100k|1m|3m] [--seed 1] [--data-dir DIR]
                        [--only checks,reconcile,lookup,pages,watch,incremental] [--lookups N] [--keep]

Writes benchmarks/results/<size>.json (a run with --only keeps the other sections of that file
when it is of the same data set) and regenerates the generated section of BENCHMARKS.md from
every result file. The bench stores are stopped at the end unless --keep. Exit 0 when every
measurement ran and matched (check counts = the build's expected counts; reladiff and the
reconciliation found the same mismatches), 1 otherwise, 2 on a bad argument or setting.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SIZES = ("quick", "100k", "1m", "3m")
PARTS = ("checks", "reconcile", "lookup", "pages", "watch", "incremental")


def _only(value: str) -> tuple[str, ...]:
    parts = tuple(dict.fromkeys(p.strip() for p in value.split(",") if p.strip()))
    unknown = [p for p in parts if p not in PARTS]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"--only takes a comma-separated list of {', '.join(PARTS)}")
    return parts


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if not 1 <= n <= 100_000:
        raise argparse.ArgumentTypeError("--lookups takes a whole number from 1 to 100,000")
    return n


def add_parser(sub: Any) -> None:
    """The `bench` sub-command of `python -m lib`."""
    b = sub.add_parser("bench", help="build a large data set and measure checks, reconciliation, lookups, pages, the watcher",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("--size", choices=SIZES, default="quick",
                   help="quick = 10,000 patients, 100k, 1m, 3m (default quick)")
    b.add_argument("--seed", type=int, default=1, help="data set seed (default 1)")
    b.add_argument("--data-dir", type=Path,
                   help="where the bench stores live (default: bench-<size> in the data folder)")
    b.add_argument("--only", type=_only, default=PARTS, metavar="LIST",
                   help=f"measure only these, comma-separated: {','.join(PARTS)}")
    b.add_argument("--lookups", type=_positive, default=200, metavar="N",
                   help="random patients per identifier kind in the lookup benchmark (default 200)")
    b.add_argument("--keep", action="store_true", help="leave the bench stores running at the end")


def _command(args: argparse.Namespace) -> str:
    cmd = f"python -m lib bench --size {args.size} --seed {args.seed}"
    if tuple(args.only) != PARTS:
        cmd += f" --only {','.join(args.only)}"
    if args.lookups != 200 and "lookup" in args.only:
        cmd += f" --lookups {args.lookups}"
    return cmd


def cmd_bench(args: argparse.Namespace) -> int:
    from lib.bench import incremental, measure, report, watch
    from lib.config import load_settings
    from lib.errors import OpsError, safe_message

    try:
        data = importlib.import_module("lib.bench.data")
    except ImportError as exc:
        raise OpsError("The bench data set builder (lib.bench.data) is missing from this checkout.") from exc

    def progress(msg: str) -> None:
        print(f"… {msg}", file=sys.stderr, flush=True)

    settings = load_settings()
    data_dir = (args.data_dir or settings.healbridge_data_dir / f"bench-{args.size}").resolve()
    t0 = time.perf_counter()
    progress(f"building (or reusing) the {args.size} data set in {data_dir}")
    info = data.build(args.size, seed=args.seed, data_dir=data_dir, progress=progress)
    build_wall = round(time.perf_counter() - t0, 1)
    result: dict[str, Any] = {}
    previous = report.read_result(args.size)
    if tuple(args.only) != PARTS and previous and previous.get("seed") == args.seed \
            and previous.get("patients") == getattr(info, "patients", None):
        result = previous  # keep the sections this run does not measure
    result.update({
        "size": args.size,
        "patients": getattr(info, "patients", None),
        "seed": args.seed,
        "command": _command(args),
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": measure.machine(info),
        "build": {**measure.describe_info(info), "wall_s": build_wall},
    })
    problems: list[str] = []
    steps = {
        "checks": lambda: measure.measure_checks(info, progress=progress),
        "reconcile": lambda: measure.measure_reconcile(info, progress=progress),
        "lookup": lambda: measure.measure_lookups_child(info, n=args.lookups, seed=args.seed, progress=progress),
        "pages": lambda: measure.measure_pages(info, patient_query=measure.sample_uid(info, args.seed),
                                               progress=progress),
        "watch": lambda: watch.measure_watch(info, progress=progress),
        "incremental": lambda: incremental.measure_incremental(info, progress=progress),
    }
    try:
        for part in args.only:
            load = round(os.getloadavg()[0], 2)  # the machine is shared: how busy it was, for the record
            progress(f"measuring: {part} (load average {load})")
            try:
                result[part] = steps[part]()
            except Exception as exc:  # noqa: BLE001 - one measurement failing must not lose the others
                result[part] = {"error": safe_message(exc), "ok": False}
            result[part]["load_before"] = load
            result[part]["load_after"] = round(os.getloadavg()[0], 2)
            if not result[part].get("ok", True):
                problems.append(_problem(part, result[part]))
        result["problems"] = problems
        result["ok"] = not problems
        path = report.write_result(result)
        report.regenerate()
        progress(f"wrote {path.relative_to(report.PROJECT_ROOT)} and BENCHMARKS.md")
    finally:
        if not args.keep:
            progress("stopping the bench stores")
            data.stop(data_dir)
    _print_summary(result)
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    return 0 if not problems else 1


def _problem(part: str, res: dict[str, Any]) -> str:
    if res.get("error"):
        return f"{part} could not be measured ({res['error']})"
    if part == "checks":
        bad = res.get("count_mismatches") or {}
        first = next(iter(sorted(bad.items())), None)
        got = first[1].get("got") if first else None
        got = got[0] if isinstance(got, list) and got else got
        detail = f", e.g. {first[0]}: expected {first[1].get('expected')}, got {got}" if first else ""
        return f"{len(bad)} check count(s) differ from the expected counts{detail}"
    if part == "reconcile":
        return ("reladiff and the reconciliation found different mismatching UIDs "
                f"({res.get('mismatching_uids')})")
    if part == "watch":
        bad = [f"{k}: {v['error']}" for k, v in res.items() if isinstance(v, dict) and v.get("error")]
        return "the watcher benchmark " + ("failed (" + "; ".join(bad) + ")" if bad else
                                           "saw a measured interval without a delivered alert")
    if part == "incremental":
        return (f"the incremental run's counts or keys differ from the full run's for {len(res.get('differ') or {})} "
                "check(s)" if res.get("differ") else "the incremental run had a check that could not run")
    if part == "pages":
        bad = [p for p, r in (res.get("pages") or {}).items() if "error" in r]
        return f"page(s) failed under AppTest: {', '.join(bad)}"
    return f"{part} failed"


def _print_summary(result: dict[str, Any]) -> None:
    from lib.bench.report import TARGET_LABELS, figure, summary

    print(f"{result['size']}: {result.get('patients') or 0:,} patients, seed {result['seed']}")
    for key, (value, met) in summary(result).items():
        label, wanted, unit = TARGET_LABELS[key]
        state = "not measured" if value is None else f"{figure(value, unit)} ({'met' if met else 'MISSED'}, want {wanted})"
        print(f"  {label}: {state}")
