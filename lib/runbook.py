"""The runbook of the checks, docs/checks.md, read as {check id: its section}.

Each check has a section whose heading is exactly its id (`## dup.open_conversations`): what it
counts, how it happens, how to verify it by hand, the fix that resolves it. The dashboard shows a
check's section next to the check (it cannot serve the repository's files by URL), with the file
and the anchor of the heading as a forge renders it.

Plain Python; the parse is cached per file and its modification time, so an edited runbook shows
on the next page run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNBOOK = ROOT / "docs" / "checks.md"

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")


@dataclass(frozen=True)
class Entry:
    """One check's runbook section: `text` is its Markdown without the heading line."""

    check: str
    text: str
    path: str  # the file, relative to the repository when it is inside it
    anchor: str  # the heading's anchor: `path#anchor` opens it on a forge

    @property
    def link(self) -> str:
        return f"{self.path}#{self.anchor}"


def anchor(heading: str) -> str:
    """The anchor a forge (GitHub's rule) gives a heading: lower case, punctuation other than `-`
    and `_` dropped, spaces as `-` (`dup.open_conversations` → `dupopen_conversations`)."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def parse(markdown: str) -> dict[str, str]:
    """{heading: section} for every level-2 heading of `markdown` (the section runs to the next
    heading of level 1 or 2; headings inside fenced code blocks are text)."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    fence: str | None = None
    for line in markdown.splitlines():
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
        elif opened:
            fence = opened.group(1)
        else:
            heading = _HEADING.match(line)
            if heading and len(heading.group(1)) <= 2:
                current = sections.setdefault(heading.group(2).strip("` "), []) if len(heading.group(1)) == 2 else None
                continue
        if current is not None:
            current.append(line)
    return {k: "\n".join(v).strip() for k, v in sections.items()}


@lru_cache(maxsize=8)
def _sections(path: Path, mtime_ns: int) -> dict[str, str]:
    return parse(path.read_text(encoding="utf-8"))


def sections(path: Path = RUNBOOK) -> dict[str, str]:
    """{check id: section} of the runbook at `path`; {} when the file is absent."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return {}
    return _sections(path, mtime)


def _shown_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def entry(check: str, path: Path = RUNBOOK) -> Entry | None:
    """The runbook section of `check`, or None when the runbook has none (or is absent)."""
    text = sections(path).get(check)
    if text is None:
        return None
    return Entry(check, text, _shown_path(path), anchor(check))


def where(path: Path = RUNBOOK) -> str:
    """The runbook's file as the pages name it (relative to the repository)."""
    return _shown_path(path)
