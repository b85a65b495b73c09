"""`python -m lib`: everything the pages show, for scripts, cron jobs, alerting and the tests.

Every command takes `--json` (one JSON document on standard output, nothing else there) and
otherwise prints a readable table. Errors go to standard error as one sentence, never a
traceback. Exit statuses are those of docs/cli.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Any, NoReturn

from lib.bench import cli as bench_cli
from lib.config import load_settings
from lib.errors import OpsError, safe_message
from lib.roles import Actor, cli_actor


def _one_line(text: str) -> str:
    """`text` as one printable line: what a person typed may hold new lines or control characters."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {_one_line(message)} (see --help)\n")


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
    c.add_argument("--store", action="append", choices=["core", "supabase", "firebase"],
                   help="keep the checks that read only the named stores (repeatable: core and supabase "
                        "adds the core-Supabase checks)")
    c.add_argument("--incremental", action="store_true",
                   help="read only what changed since the last incremental run (its first run, and one a day, "
                        "reads everything)")
    c.add_argument("--json", action="store_true")

    w = sub.add_parser("watch", help="run the checks on their schedule, save every run, alert on state changes")
    w.add_argument("--once", action="store_true", help="run one interval, then exit (cron); exit status as check")
    w.add_argument("--interval", type=float, metavar="S", help="seconds between whole runs (default WATCH_INTERVAL_S)")
    w.add_argument("--json", action="store_true")

    pt = sub.add_parser("patient", help="find a patient in every store (UID, email, phone, id or name)")
    pt.add_argument("query", nargs="+", help="Firebase UID, email, phone, core user / patient id, or name fragment")
    pt.add_argument("--json", action="store_true")
    _fix_parser(sub)
    bench_cli.add_parser(sub)
    return p


def _for(actor: Actor, obj: Any) -> Any:
    """`obj` as the actor's role may see it (PHI masked for support)."""
    from lib import phi

    return phi.for_role(obj, actor.role)


def _print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=1, default=str) + "\n")


def inc_parts() -> tuple[str, ...]:
    from lib.checks.incremental import INCREMENTAL_PARTS

    return INCREMENTAL_PARTS


def _table(rows: list[list[Any]], header: list[str]) -> str:
    cells = [header] + [["—" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ---------------------------------------------------------------------- commands
def cmd_demo(args: argparse.Namespace) -> int:
    from lib.demo import run_demo
    from lib.services import EmbeddedServices

    settings = load_settings()
    if args.stop:
        EmbeddedServices(settings).stop()
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
    planted = sum(v["count"] for v in man["planted"].values())
    what = (f"{man['patients']:,} patients, seed {man['seed']}, {planted} planted findings"
            f"{' (clean)' if man['clean'] else ''}")
    rebuild = f"python -m lib demo --patients {args.patients} --seed {args.seed}{' --clean' if args.clean else ''} --reset"
    note = None
    if man.get("kept"):
        note = (f"Kept the demo already filled: {what}; --patients, --seed and --clean apply to a new fill only: "
                f"`{rebuild}` rebuilds it (the audit log and the fix audit are kept).")
    elif man.get("refilled_as_before") and (args.patients, args.seed, args.clean) != (
            man["patients"], man["seed"], man["clean"]):
        note = (f"An emulator had stopped, so every store was filled again as before: {what}; `{rebuild}` "
                "rebuilds it with yours.")
    if args.json:
        _print_json({k: v for k, v in man.items() if k != "planted"} | {
            "planted": {c: {"count": v["count"]} for c, v in man["planted"].items()}} | ({"note": note} if note else {}))
    else:
        if note:
            print(note)
        print(f"Demo running: {what}. Data folder: {settings.healbridge_data_dir}")
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
    from lib import history
    from lib.checks.runner import exit_status, run_checks, to_json
    from lib.stores import open_stores

    actor = cli_actor()
    stores = open_stores()
    try:
        run = history.record_run(stores, run_checks(stores, only=args.only, stores_filter=args.store,
                                                    incremental=args.incremental), source="cli")
    finally:
        stores.dispose()
    doc = _for(actor, to_json(run))
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
        if "reads" in doc:
            print("\nincremental run; rows read: " + ", ".join(f"{k} {v:,}" for k, v in doc["reads"]["rows_read"].items())
                  + "; " + ", ".join(f"{p} {r['mode']} (full read {r['last_full_at'][:19]}Z)"
                                     for p, r in doc["reads"]["parts"].items() if p in inc_parts()))
    code = exit_status(run)
    failed = [r for r in run.results if r.count is None]
    if code == 2 and failed:  # the why, as one sentence on standard error (the details are on standard output)
        print(f"error: {len(failed)} check(s) could not run ({failed[0].id}: {' '.join((failed[0].error or 'no count').split())}).",
              file=sys.stderr)
    return code


def cmd_watch(args: argparse.Namespace) -> int:
    from lib.watch import config as watch_config
    from lib.watch import service

    if args.interval is not None and not 1 <= args.interval <= 86_400:
        raise OpsError("--interval must be between 1 and 86,400 seconds.")
    settings = load_settings()
    cfg = watch_config.load(settings, args.interval)
    if not args.once:
        return service.main(args.interval)
    from lib.stores import open_stores
    from lib.watch import run_once

    stores = open_stores(settings)
    lease = service.Lease(stores)
    try:
        if not lease.wait(min(cfg.interval_s, 60.0)):
            raise OpsError("Another watcher holds the lease on the ops database; this interval is its work.")
        doc, code = run_once(stores, config=cfg)
    finally:
        lease.release()
        stores.dispose()
    if args.json:
        _print_json(doc)
    else:
        print(f"run #{doc['run_id']} at {doc['generated_at']}: {len(doc['changes'])} change(s)")
        for c in doc["changes"]:
            print(f"  {c['check']}: {c['change']} {c['before']} → {c['after']}"
                  f"{' (' + c['silenced'] + ')' if c.get('silenced') else ''}")
        for d in doc["deliveries"]:
            print(f"  {d['channel']}: {'delivered' if d['ok'] else 'FAILED: ' + str(d['error'])}")
    return code


def cmd_patient(args: argparse.Namespace) -> int:
    from lib import audit
    from lib.errors import NotFound, StoreUnavailable
    from lib.patient import PART_LABELS, PARTS, lookup
    from lib.stores import open_stores

    actor = cli_actor()
    stores = open_stores()
    try:
        result = lookup(stores, " ".join(args.query))
        try:  # every lookup is audited, as on the Patient page (who, which kind of identifier, the UIDs)
            audit.lookup(stores, actor, result.search.query.kind, [m.uid for m in result.matches],
                         list(result.search.down))
        except Exception as exc:  # no audit, no patient (as the Patient page)
            raise StoreUnavailable("The audit log cannot be written, so the patient is not shown "
                                   f"({_audit_failure(exc, stores.settings.secret_values())}).") from exc
    finally:
        stores.dispose()
    s = result.search
    if s.all_down and not result.found:
        raise StoreUnavailable(s.message or "no store answered.")
    if args.json:
        doc = result.to_json()
        for m in doc.get("matches", []):  # each store's record is masked by its own field names
            stores_ = m.pop("stores", {})
            m.update(_for(actor, m))
            m["stores"] = {part: _for(actor, rec) for part, rec in stores_.items()}
        _print_json(_for(actor, {k: v for k, v in doc.items() if k != "matches"}) | {"matches": doc.get("matches", [])})
        return 0 if result.found else 4
    if not result.found:
        raise NotFound(f"{s.message}.")
    if stores.demo:
        print("DEMO: generated data in the dashboard's own stores.\n")
    more = " (more match: type more of the name)" if s.truncated else ""
    print(f"{len(result.matches)} patient(s) found in {s.ms:,.0f} ms{more}.")
    for m in result.matches:
        print(f"\nPatient {m.uid}" + (f" ({m.name})" if m.name else ""))
        rows = []
        for part in PARTS:
            rec = m.stores.get(part) or {}
            shown = _for(actor, {"email": rec.get("email"), "phone": rec.get("phone"),
                                 "name": rec.get("full_name") or rec.get("display_name") or rec.get("name")})
            rows.append([PART_LABELS[part], m.state(part) if part not in m.down else f"DOWN: {m.down[part]}",
                         shown["email"], shown["phone"], shown["name"]])
        print(_table(rows, ["store", "state", "email", "phone", "name"]))
        for d in _for(actor, m.drift):
            (a, b), (va, vb) = d["stores"], d["values"]
            print(f"  differs: {d['field']}: {a}={va!s} vs {b}={vb!s}")
        if m.findings:
            print()
            print(_table([[f.check, f.severity, len(f.keys), ", ".join(_for(actor, f.keys[:2]))[:70], f.fix]
                          for f in m.findings], ["finding", "severity", "count", "keys", "fix"]))
        counts = {k: len(getattr(m, k)) for k in ("documents", "medications", "prescriptions", "connections",
                                                   "appointments", "session_notes", "sync_jobs")}
        print("  " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items()))
    return 0


def _audit_failure(exc: BaseException, secrets: list[str]) -> str:
    """Why the audit log could not be written, as a clause: the ops database's error without its URL."""
    from sqlalchemy.exc import SQLAlchemyError

    from lib.stores.postgres import describe_db_error

    text = describe_db_error("ops", exc) if isinstance(exc, SQLAlchemyError) else safe_message(exc, secrets)
    for s in secrets:
        if s:
            text = text.replace(s, "•••")
    return text.rstrip(".")


def _fix_parser(sub: Any) -> None:
    f = sub.add_parser("fix", help="the vetted fixes: list, plan (dry run), apply",
                       description="Who = the OS user; role = HEALBRIDGE_ROLE (support, oncall or admin; "
                                   "default oncall). Exit: 0 done or nothing to do, 3 refused, 1 failed "
                                   "(rolled back).")
    fsub = f.add_subparsers(dest="fix_command", required=True, parser_class=_Parser)
    fl = fsub.add_parser("list", help="every fix: store, whether it is needed now, what blocks it")
    fl.add_argument("--json", action="store_true")
    for name, text_ in (("plan", "dry run: rows it would touch, counts before/after, then rollback"),
                        ("apply", "apply it (role oncall or admin, a reason, --yes)")):
        fp = fsub.add_parser(name, help=text_)
        fp.add_argument("id", help="the fix id (see fix list)")
        fp.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a fix option, e.g. kind=document for retry_failed_sync_jobs")
        fp.add_argument("--json", action="store_true")
        if name == "apply":
            fp.add_argument("--reason", required=True, help="why (recorded in the audit log; at most 2,000 characters)")
            fp.add_argument("--yes", action="store_true", help="confirm: apply without asking")
            fp.add_argument("--rows", type=int, metavar="N",
                            help="the row count the plan showed; the apply rolls back if it differs")


def cmd_fix(args: argparse.Namespace) -> int:
    from lib import fixes
    from lib.stores import open_stores

    actor = cli_actor()
    params: dict[str, str] = {}
    for raw in getattr(args, "param", []):
        name, sep, value = raw.partition("=")
        if not sep or not name.strip():
            raise OpsError(f"--param takes NAME=VALUE, not {fixes.shown(raw)!r}.")
        params[name.strip()] = value.strip()
    if args.fix_command == "apply" and not args.yes:
        raise OpsError("Applying changes a store: run `fix plan` first, then add --yes to confirm.")
    stores = open_stores()
    try:
        if args.fix_command == "list":
            found = fixes.status(stores)
            if args.json:
                _print_json({"fixes": [s.to_json() for s in found]})
            else:
                print(_table([[s.fix.id, ", ".join(s.fix.stores),
                               "?" if s.needed is None else ("yes" if s.needed else "no"),
                               ", ".join(f"{k} = {v}" for k, v in s.blocked.items()) or s.error or "",
                               "" if s.fix.is_reviewed else "NOT REVIEWED"] for s in found],
                             ["fix", "store", "needed", "blocked by", "review"]))
            return 0
        if args.fix_command == "plan":
            result = fixes.plan(stores, args.id, actor, params=params)
        else:
            result = fixes.apply(stores, args.id, actor, args.reason, expect_rows=args.rows, params=params)
    finally:
        stores.dispose()
    if args.json:
        _print_json(_for(actor, result.to_json()))
    else:
        print(f"{result.action} {result.fix} on {', '.join(result.stores)}: {result.outcome}"
              f" ({result.rows} rows, {result.duration_ms:,.0f} ms, audit #{result.audit_id})")
        for st in result.steps:
            print(f"  {st.store}: {st.title}: {'—' if st.rows is None else st.rows}")
        for v in result.violations:
            print(f"  {v.key}: {v.count} rows violate it, e.g. {', '.join(v.sample[:3])}")
        keys = list(dict.fromkeys([*result.before, *result.after]))
        if keys:
            print(_table([[k, result.before.get(k), result.after.get(k)] for k in keys], ["check", "before", "after"]))
        if result.also_affects:
            print(f"  may also move (other stores, not counted here): {', '.join(result.also_affects)}")
    if result.audit_error:
        print(f"warning: {result.audit_error}", file=sys.stderr)
    if result.error:
        print(f"error: {result.error}", file=sys.stderr)
    return result.exit_code()


COMMANDS = {"demo": cmd_demo, "status": cmd_status, "check": cmd_check, "watch": cmd_watch, "patient": cmd_patient, "fix": cmd_fix, "bench": bench_cli.cmd_bench}


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
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
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
