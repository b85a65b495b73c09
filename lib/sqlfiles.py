"""SQL lives in `sql/`, one statement or script per file, with a header comment.

The header is the leading block of `-- key: value` lines (a line `--   more` continues the key
before it). Fix files carry their metadata there; every file says what it does, which store it
runs on and its parameters.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_KEY = re.compile(r"^--\s*([A-Za-z_][\w\-]*):\s?(.*)$")


@dataclass(frozen=True)
class SqlFile:
    name: str
    path: Path
    text: str
    header: dict[str, str] = field(default_factory=dict)

    @property
    def checksum(self) -> str:
        return "sha256:" + hashlib.sha256(self.text.encode()).hexdigest()


def parse_header(text: str) -> dict[str, str]:
    header: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        m = _KEY.match(line)
        if m:
            last = m.group(1).lower()
            header[last] = m.group(2).strip()
        elif last is not None:
            more = line[2:].strip()
            if more:
                header[last] = f"{header[last]} {more}".strip()
    return header


@cache
def load(name: str) -> SqlFile:
    """Load `sql/<name>.sql` (name may contain a folder, e.g. 'checks/dup_open_conversations')."""
    path = (SQL_DIR / f"{name}.sql").resolve()
    if SQL_DIR not in path.parents:
        raise ValueError(f"not a project SQL file: {name}")
    text = path.read_text(encoding="utf-8")
    return SqlFile(name=name, path=path, text=text, header=parse_header(text))


def names(folder: str) -> list[str]:
    return sorted(f"{folder}/{p.stem}" for p in (SQL_DIR / folder).glob("*.sql"))


def adhoc(text: str) -> SqlFile:
    """A statement that is not a project file (tests only: the project's own SQL lives in sql/)."""
    return SqlFile(name="adhoc", path=SQL_DIR, text=text)
