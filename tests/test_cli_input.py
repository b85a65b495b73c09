"""The command line (lib.cli.main in-process) given any argv (hypothesis, at least 1,000 generated): the
exit status is a documented one, standard error is one line without a traceback, and `--json`
prints one JSON document. Nothing that changes a store runs."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as hs

from lib import cli
from lib.checks.ids import CHECK_IDS
from tests.strategies import SUPPRESS, WEIRD, _query
from tests.support import EXIT_CODES, _run_cli

FIX_IDS = ["deactivate_expired_tokens", "retry_failed_sync_jobs", "no_such_fix"]


def _maybe(draw: Any, tokens: list[str]) -> list[str]:
    return tokens if draw(hs.booleans()) else []


@hs.composite
def _argv(draw: Any) -> list[str]:
    cmd = draw(hs.sampled_from(["status", "check", "check", "patient", "patient", "patient", "fix", "fix", "demo",
                                "junk", "junk", "none"]))
    junk_token = hs.one_of(WEIRD, hs.sampled_from(["--json", "--only", "--store", "-x", "--", "-", "=", "--json=1",
                                                    "--help=no"]))
    junk = [draw(junk_token) for _ in range(draw(hs.sampled_from([0, 0, 0, 0, 1, 2])))]
    if cmd == "none":
        return [*junk]
    if cmd == "junk":
        return [draw(WEIRD), *junk]
    out: list[str] = [cmd]
    if cmd == "status":
        out += _maybe(draw, ["--json"])
    elif cmd == "check":
        # always narrowed: a real check id sometimes, mostly a made-up one (the full run is covered elsewhere)
        ids = draw(hs.lists(hs.one_of(hs.sampled_from(CHECK_IDS), WEIRD, WEIRD), min_size=1, max_size=2))
        for i in ids:
            out += ["--only", i]
        out += _maybe(draw, ["--store", draw(hs.one_of(hs.sampled_from(["core", "supabase", "firebase"]), WEIRD))])
        out += _maybe(draw, ["--json"])
    elif cmd == "patient":
        out += draw(hs.lists(_query(), min_size=0, max_size=3))
        out += _maybe(draw, ["--json"])
    elif cmd == "fix":
        sub = draw(hs.sampled_from(["plan", "plan", "apply", "apply", "list", "junk"]))
        out.append(draw(WEIRD) if sub == "junk" else sub)
        if sub in ("plan", "apply"):
            out.append(draw(hs.one_of(hs.sampled_from(FIX_IDS), WEIRD)))
            out += _maybe(draw, ["--param", draw(WEIRD)])
        if sub == "apply":  # never --yes: an apply without it is refused before anything is opened
            out += _maybe(draw, ["--reason", draw(WEIRD)])
            out += _maybe(draw, ["--rows", draw(hs.one_of(hs.integers(-5, 10**6).map(str), WEIRD))])
        out += _maybe(draw, ["--json"])
    elif cmd == "demo":  # only refusals: a patient count out of range (never --stop, --reset, --manifest)
        bad = draw(hs.one_of(hs.integers(-10**6, 99), hs.integers(5_000_001, 10**12)).map(str))
        out += ["--patients", draw(hs.one_of(hs.just(bad), WEIRD))]
        out += _maybe(draw, ["--seed", draw(hs.one_of(hs.integers().map(str), WEIRD))])
        out += _maybe(draw, ["--clean"]) + _maybe(draw, ["--json"])
    return out + junk


def _parsed(argv: list[str]) -> Any:
    """What argparse makes of argv (None when it refuses it or prints help), output swallowed."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            return cli._parser().parse_args(argv)
        except SystemExit:
            return None


@pytest.fixture(scope="module")
def cli_demo(demo: Any) -> Iterator[Any]:
    demo.ensure()
    yield demo
    demo.dirty = True  # the generated runs went to the history, plans to the audit log


@settings(max_examples=1000, deadline=None, suppress_health_check=SUPPRESS)
@given(argv=_argv())
def test_command_line_any_argv_is_one_clear_line(cli_demo: Any, argv: list[str]) -> None:
    args = _parsed(argv)
    if args is not None:  # whatever could change a store never runs here
        assume(not (args.command == "demo" and (args.stop or args.reset or args.manifest
                                                or 100 <= args.patients <= 5_000_000)))
        assume(not (args.command == "fix" and getattr(args, "fix_command", None) == "apply" and args.yes))
    code, out, err = _run_cli(argv)
    event(f"{args.command if args is not None else 'refused by the parser'}: exit {code}")
    assert code in EXIT_CODES, (argv, code, err)
    assert "Traceback" not in err and "Traceback" not in out, argv
    assert err.count("\n") <= 1, (argv, err)  # one line (or nothing)
    as_json = args is not None and getattr(args, "json", False)
    if code == 2 or (code in (3, 4) and not as_json):
        assert err.strip(), (argv, code)  # a refusal says why, on standard error
    if as_json and (code in (0, 1) or out.strip()):
        doc = json.loads(out)  # one JSON document, nothing else on standard output
        if code == 4:
            assert doc["matches"] == [] and doc["message"], (argv, doc)
    elif as_json and code in (3, 4):
        assert err.startswith("error: "), (argv, err)  # a refusal before any JSON: the sentence alone
