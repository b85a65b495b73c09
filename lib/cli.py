"""`python -m lib`: everything the pages show, for scripts, cron jobs, alerting and the tests.

Every command takes `--json` (one JSON document on standard output, nothing else there) and
otherwise prints a readable table. Errors go to standard error as one sentence, never a
traceback. Exit statuses are those of ../shared/spec/cli.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Any, NoReturn

from lib.config import load_settings
from lib.errors import OpsError, safe_message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m lib", description="HealBridge Ops from the command line.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    d = sub.add_parser("demo", help="start the demo stores and fill them with generated data")
    d.add_argument("--patients", type=int, default=2000, help="how many patients (default 2000)")
    d.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    d.add_argument("--reset", action="store_true", help="regenerate the data even if the stores are filled")
    d.add_argument("--clean", action="store_true", help="plant no defects")
    d.add_argument("--manifest", type=Path, help="also write the manifest of planted defects to this file")
    d.add_argument("--stop", action="store_true", help="stop the demo stores")
    d.add_argument("--json", action="store_true")

    s = sub.add_parser("status", help="each store: configured, reachable, latency, version")
    s.add_argument("--json", action="store_true")

    c = sub.add_parser("check", help="run the checks")
    c.add_argument("--only", action="append", metavar="ID", help="run only this check (repeatable)")
    c.add_argument("--store", action="append", choices=["core", "supabase", "firebase"], help="only checks of this store")
    c.add_argument("--json", action="store_true")
    return p


def _print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=1, default=str) + "\n")


def _table(rows: list[list[Any]], header: list[str]) -> str:
    cells = [header] + [["—" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ---------------------------------------------------------------------- commands
def cmd_demo(args: argparse.Namespace) -> int:
    from lib.demo import run_demo
    from lib.demo.services import DemoServices

    settings = load_settings()
    if args.stop:
        DemoServices(settings).stop()
        if args.json:
            _print_json({"stopped": True})
        else:
            print("Demo stores stopped.")
        return 0
    if args.patients < 100 or args.patients > 5_000_000:
        raise OpsError("--patients must be between 100 and 5,000,000.")

    def progress(msg: str) -> None:
        if not args.json:
            print(f"… {msg}", file=sys.stderr, flush=True)

    man = run_demo(
        settings, patients=args.patients, seed=args.seed, reset=args.reset, clean=args.clean,
        manifest=args.manifest, progress=progress,
    )
    if args.json:
        _print_json({k: v for k, v in man.items() if k != "planted"} | {
            "planted": {c: {"count": v["count"]} for c, v in man["planted"].items()}})
    else:
        planted = sum(v["count"] for v in man["planted"].values())
        print(f"Demo running: {man['patients']:,} patients, seed {man['seed']}, {planted} planted findings"
              f"{' (clean)' if man['clean'] else ''}. Data folder: {settings.healbridge_data_dir}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from lib.stores import open_stores

    stores = open_stores()
    try:
        result = stores.ping()
    finally:
        stores.dispose()
    if args.json:
        _print_json({"demo": stores.demo, "stores": result})
    else:
        if stores.demo:
            print("DEMO: generated data in the dashboard's own stores.\n")
        rows = [[n, "yes" if r["configured"] else "no", "yes" if r["ok"] else "NO", r["latency_ms"], r["version"],
                 r.get("error") or ""] for n, r in result.items()]
        print(_table(rows, ["store", "configured", "reachable", "latency ms", "version", "error"]))
    return 0 if all(r["ok"] for r in result.values()) else 2


def cmd_check(args: argparse.Namespace) -> int:
    from lib.checks.runner import exit_status, run_checks, to_json
    from lib.stores import open_stores

    stores = open_stores()
    try:
        run = run_checks(stores, only=args.only, stores_filter=args.store)
    finally:
        stores.dispose()
    doc = to_json(run)
    if args.json:
        _print_json(doc)
    else:
        if stores.demo:
            print("DEMO: generated data in the dashboard's own stores.\n")
        print(_table([[n, "ok" if s["ok"] else "DOWN", s.get("latency_ms"), s.get("error") or ""]
                      for n, s in doc["stores"].items()], ["store", "state", "latency ms", "error"]))
        print()
        rows = [[f["check"], f["severity"], f["count"] if f["count"] is not None else "—",
                 f.get("error") or ", ".join(f["sample"][:3])[:80]] for f in doc["findings"]]
        print(_table(rows, ["check", "severity", "count", "sample / error"]))
    return exit_status(run)


COMMANDS = {"demo": cmd_demo, "status": cmd_status, "check": cmd_check}


def main(argv: list[str] | None = None) -> int:
    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse already printed one line
        return int(exc.code or 0)
    try:
        return COMMANDS[args.command](args)
    except OpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - never a traceback for a person
        try:
            secrets = load_settings().secret_values()
        except OpsError:
            secrets = []
        print(f"error: unexpected failure ({safe_message(exc, secrets)}).", file=sys.stderr)
        return 2
