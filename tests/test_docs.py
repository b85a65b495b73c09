"""The docs that ship with the project (docs/checks.md, docs/cli.md, docs/system.md) cover what the
code has: a runbook section for every check id and none for an id the code does not have, every
command of the parser, every setting; and nothing a user reads points outside the repository."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from lib import cli
from lib.checks.ids import CHECK_IDS
from lib.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
ID_HEADING = re.compile(r"^## (\S+)\s*$", re.MULTILINE)
LOOKS_LIKE_ID = re.compile(r"^[a-z]+\.[a-z0-9_]+$")


def _read(name: str) -> str:
    path = DOCS / name
    assert path.is_file(), f"docs/{name} is missing"
    return path.read_text(encoding="utf-8")


def _subcommands(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    """Every command of the parser, nested ones as "fix plan"."""
    out: list[str] = []
    for action in parser._actions:  # argparse keeps its sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix}{name}"
                out.append(full)
                out.extend(_subcommands(sub, f"{full} "))
    return out


def test_checks_md_has_one_section_per_check_id() -> None:
    headings = ID_HEADING.findall(_read("checks.md"))
    ids = [h for h in headings if LOOKS_LIKE_ID.match(h)]
    missing = [c for c in CHECK_IDS if c not in ids]
    unknown = [h for h in ids if h not in CHECK_IDS]
    twice = sorted({h for h in ids if ids.count(h) > 1})
    assert not missing, f"docs/checks.md has no `## <id>` section for {missing}"
    assert not unknown, f"docs/checks.md has sections for ids the code does not have: {unknown}"
    assert not twice, f"docs/checks.md has these sections twice: {twice}"


def test_checks_md_sections_say_how_to_verify_and_fix() -> None:
    text = _read("checks.md")
    parts = re.split(r"^## ", text, flags=re.MULTILINE)
    sections = {p.split("\n", 1)[0].strip(): p for p in parts[1:]}
    for cid in CHECK_IDS:
        body = sections[cid]
        for label in ("**Counts**", "**How it happens**", "**Verify by hand**", "**Fix**"):
            assert label in body, f"docs/checks.md, {cid}: no {label}"


def test_cli_md_mentions_every_command() -> None:
    text = _read("cli.md")
    commands = _subcommands(cli._parser())
    assert {"demo", "status", "check", "patient", "fix", "bench"} <= set(commands)
    missing = [c for c in commands if f"`{c}" not in text and f"## {c}" not in text]
    assert not missing, f"docs/cli.md does not mention {missing}"


def test_system_md_mentions_every_setting() -> None:
    text = _read("system.md")
    missing = [name.upper() for name in Settings.model_fields if name.upper() not in text]
    assert not missing, f"docs/system.md does not name the settings {missing}"


def test_nothing_a_user_reads_points_outside_the_repo() -> None:
    paths = [ROOT / "README.md"] + [p for d in ("lib", "views", "docs") for p in sorted((ROOT / d).rglob("*"))
                                    if p.is_file() and "__pycache__" not in p.parts]
    hits = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # screenshots and other binary files
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if "shared/spec" in line or "seed 00" in line.lower():
                hits.append(f"{path.relative_to(ROOT)}:{n}")
    assert not hits, f"pointers outside the repository or to seed numbers: {hits[:20]}"
