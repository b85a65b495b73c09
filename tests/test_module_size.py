"""No module in lib/ over MAX_LINES lines without a reason written at its top: the first paragraph
of its docstring says why it "stays one module" (that phrase, so the reason is easy to find)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "lib"
MAX_LINES = 500
PHRASE = "stays one module"


def first_paragraph(source: str) -> str:
    """The module docstring's first paragraph (up to the first blank line), whitespace collapsed."""
    doc = ast.get_docstring(ast.parse(source)) or ""
    return " ".join(re.split(r"\n\s*\n", doc.strip(), maxsplit=1)[0].split())


def states_a_reason(source: str) -> bool:
    return PHRASE in first_paragraph(source)


def test_the_reason_must_be_in_the_first_paragraph() -> None:
    assert states_a_reason('"""Title. It stays\n one module: why."""\nx = 1\n')
    assert not states_a_reason('"""Title.\n\nIt stays one module: too late."""\n')
    assert not states_a_reason("x = 1  # stays one module\n")


def test_every_long_module_of_lib_says_why_it_stays_one_module() -> None:
    long = {p: len(p.read_text(encoding="utf-8").splitlines()) for p in sorted(LIB.rglob("*.py"))}
    long = {p: n for p, n in long.items() if n > MAX_LINES}
    unexplained = [f"{p.relative_to(ROOT)} ({n} lines)" for p, n in long.items()
                   if not states_a_reason(p.read_text(encoding="utf-8"))]
    assert not unexplained, (f"over {MAX_LINES} lines with no reason at the top (the first paragraph of the "
                             f"docstring saying why it {PHRASE!r}): " + ", ".join(unexplained))
