"""The fix files: a reviewed SQL file of `sql/fixes/` read into a `Fix` (its header and its sections),
the `REVIEWED` checksums, listing and loading, and the check↔fix link of the constraint findings.
The format and the rules are in the package's docstring (lib.fixes)."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib.checks.ids import BY_ID
from lib.checks.registry import REGISTRY
from lib.errors import ConfigError, NotFound
from lib.sqlfiles import SQL_DIR, SqlFile, parse_header

FIXES_DIR = SQL_DIR / "fixes"
REVIEWED_NAME = "REVIEWED"
SHOWN_ID = 80  # how much of an unknown fix id or option name a message echoes
FIX_STORES = ("core", "supabase")

# The sensible order on the demo (system.md, "The demo's broken state"); listing follows it.
SEQUENCE = (
    "close_duplicate_conversations",
    "open_conversation_index",
    "remap_appointment_patient_ids",
    "archive_orphan_rows",
    "appointments_patient_fk",
    "patient_foreign_keys",
    "validate_constraints",
    "dedupe_medications",
    "remove_orphan_rag_chunks",
    "rag_chunks_fk",
    "deactivate_expired_tokens",
    "rotate_duplicate_tokens",
    "token_constraints",
    "deactivate_duplicate_connections",
    "active_connection_index",
    "revoke_disabled_patients_connections",
    "ban_disabled_patients_in_supabase",
    "retry_failed_sync_jobs",
)
# Parameters the runner reads from another store, fresh for every plan, apply and status (never a
# cached listing): a fix whose `params:` header names one gets it bound (lib.fixes.runner).
FIREBASE_PARAMS = {"disabled_uids": "the uids of the disabled Firebase Auth users"}

_MARKER = re.compile(r"^--\s*(step|post|each):\s*(.*)$")
_TERM = re.compile(r"^([a-z_]+\.[a-z_]+)(?:\[([^\]\s]+)\])?$")
_FIX_ID = re.compile(r"^[a-z][a-z0-9_]{2,62}$")
_OPTION = re.compile(r"^([a-z_]+)\s*=\s*(.+)$")
_DML = ("insert", "update", "delete", "with", "merge")
_HEADER_LISTS = ("resolves", "blocked_by", "affects")


@dataclass(frozen=True)
class Term:
    """A check count a fix names: the whole check, or only its keys matching `pattern`."""

    check: str
    pattern: str | None = None

    @property
    def label(self) -> str:
        return f"{self.check}[{self.pattern}]" if self.pattern else self.check

    def count(self, keys: list[str]) -> int:
        if self.pattern is None:
            return len(keys)
        return sum(1 for k in keys if fnmatch.fnmatchcase(k, self.pattern))


@dataclass(frozen=True)
class Section:
    kind: str  # step | post | each
    title: str
    sql: str

    @property
    def counts_rows(self) -> bool:
        """Whether the statement changes rows (its row count is the fix's)."""
        words = re.sub(r"--[^\n]*", " ", self.sql).split()
        return bool(words) and words[0].lower() in _DML


@dataclass(frozen=True)
class Fix:
    id: str
    title: str
    what: str
    stores: tuple[str, ...]
    resolves: tuple[str, ...]
    blocked_by: tuple[str, ...]
    verify: tuple[Term, ...]
    affects: tuple[str, ...]
    risk: str
    options: dict[str, tuple[str, ...]]
    sections: tuple[Section, ...]
    file: SqlFile
    reviewed: str | None  # the reviewed checksum, None when the fix is not in the reviewed list

    @property
    def checksum(self) -> str:
        return self.file.checksum

    @property
    def is_reviewed(self) -> bool:
        return self.reviewed is not None and self.reviewed == self.checksum

    @property
    def firebase_params(self) -> tuple[str, ...]:
        """The FIREBASE_PARAMS its `params:` header declares (the runner reads them from Firebase)."""
        declared = set(re.findall(r"(?<![:\w]):([A-Za-z_]\w*)", self.file.header.get("params", "")))
        return tuple(p for p in FIREBASE_PARAMS if p in declared)

    @property
    def posts(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.kind == "post")

    @property
    def runs(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.kind in ("step", "each"))

    def in_tx_checks(self) -> list[str]:
        """The checks of resolves/affects/blocked_by/verify a transaction of this fix can count."""
        out: list[str] = []
        for cid in (*self.resolves, *self.affects, *self.blocked_by, *(t.check for t in self.verify)):
            if cid not in out and _countable(cid, self.stores):
                out.append(cid)
        return out

    def also_affects(self) -> list[str]:
        """The checks it may move that its transaction cannot count (cross-store)."""
        return [c for c in (*self.resolves, *self.affects) if not _countable(c, self.stores)]


def _countable(check_id: str, stores: tuple[str, ...]) -> bool:
    c = REGISTRY[check_id]
    return c.kind == "constraints" or (c.kind == "sql" and c.store in stores)


def shown(value: Any, limit: int = SHOWN_ID) -> str:
    """What a message echoes of something a person typed: at most `limit` characters, then "…"."""
    v = str(value)
    return v if len(v) <= limit else v[:limit] + "…"


def fixes_dir(directory: Path | str | None = None) -> Path:
    return Path(directory) if directory is not None else FIXES_DIR


def read_reviewed(directory: Path | str | None = None) -> dict[str, str]:
    """`REVIEWED`: one line per fix, `<fix id> sha256:<hex>`; `#` starts a comment."""
    path = fixes_dir(directory) / REVIEWED_NAME
    out: dict[str, str] = {}
    if not path.is_file():
        return out
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or not re.fullmatch(r"sha256:[0-9a-f]{64}", parts[1]):
            raise ConfigError(f"{path.name} line {n} is not `<fix id> sha256:<64 hex digits>`.")
        out[parts[0]] = parts[1]
    return out


def _split_list(value: str | None) -> list[str]:
    if not value:
        return []
    value = re.sub(r"\([^)]*\)", " ", value)
    return [v for v in re.split(r"[,\s]+", value) if v and v.lower() != "none"]


def parse_fix(file: SqlFile, reviewed: str | None) -> Fix:
    """A fix file's header and sections; a malformed one is a ConfigError naming the file."""
    where = f"sql/fixes/{file.path.name}"

    def bad(msg: str) -> ConfigError:
        return ConfigError(f"{where}: {msg}.")

    h = file.header
    for key in ("id", "title", "what", "store", "resolves", "blocked_by", "verify", "risk", "params"):
        if key not in h:
            raise bad(f"the header has no `{key}:` line")
    fix_id = h["id"]
    if not _FIX_ID.match(fix_id) or fix_id != file.path.stem:
        raise bad(f"the id {fix_id!r} must be the file's name in lower case")
    stores = tuple(_split_list(h["store"]))
    if not stores or any(s not in FIX_STORES for s in stores):
        raise bad("`store:` must name core and/or supabase")
    lists: dict[str, tuple[str, ...]] = {}
    for key in _HEADER_LISTS:
        ids = _split_list(h.get(key))
        unknown = [c for c in ids if c not in BY_ID]
        if unknown:
            raise bad(f"`{key}:` names an unknown check {unknown[0]!r}")
        lists[key] = tuple(ids)
    terms: list[Term] = []
    for raw in _split_list(h["verify"]):
        m = _TERM.match(raw)
        if not m or m.group(1) not in BY_ID:
            raise bad(f"`verify:` term {raw!r} is not a check id, optionally with [key glob]")
        terms.append(Term(m.group(1), m.group(2)))
    for cid in (*lists["blocked_by"], *(t.check for t in terms)):
        if not _countable(cid, stores):
            raise bad(f"{cid} cannot be counted inside the fix's transaction (not a check of its store)")
    options: dict[str, tuple[str, ...]] = {}
    for raw in [h["option"]] if h.get("option") else []:
        m = _OPTION.match(raw)
        if not m:
            raise bad("`option:` must be `name = value | value …`")
        options[m.group(1)] = tuple(v.strip() for v in m.group(2).split("|") if v.strip())

    sections: list[Section] = []
    kind: str | None = None
    title = ""
    buf: list[str] = []
    body = file.text.splitlines()[_header_len(file.text):]

    def flush() -> None:
        sql = "\n".join(buf).strip().rstrip(";").strip()
        if kind is None:
            if re.sub(r"--[^\n]*", "", sql).strip():
                raise bad("SQL before the first `-- step:` line")
            return
        if not re.sub(r"--[^\n]*", "", sql).strip():
            raise bad(f"the section {title!r} has no statement")
        sections.append(Section(kind, title, sql))

    for line in body:
        m = _MARKER.match(line)
        if m:
            flush()
            kind, title, buf = m.group(1), m.group(2).strip(), []
        else:
            buf.append(line)
    flush()
    if not any(s.kind in ("step", "each") for s in sections):
        raise bad("no `-- step:` section")
    if not terms and not any(s.kind in ("post", "each") for s in sections):
        raise bad("nothing verifies it: give `verify:` checks or a `-- post:` query")
    return Fix(
        id=fix_id,
        title=h["title"],
        what=h["what"],
        stores=stores,
        resolves=lists["resolves"],
        blocked_by=lists["blocked_by"],
        verify=tuple(terms),
        affects=lists["affects"],
        risk=h["risk"],
        options=options,
        sections=tuple(sections),
        file=file,
        reviewed=reviewed,
    )


def _header_len(text_: str) -> int:
    n = 0
    for line in text_.splitlines():
        if not line.startswith("--"):
            break
        n += 1
    return n


def _read(path: Path) -> SqlFile:
    # Read once, uncached: the text checked against REVIEWED is the text that runs.
    content = path.read_text(encoding="utf-8")
    return SqlFile(name=f"fixes/{path.stem}", path=path, text=content, header=parse_header(content))


def load_fix(fix_id: str, directory: Path | str | None = None) -> Fix:
    folder = fixes_dir(directory)
    if not _FIX_ID.match(fix_id or "") or not (folder / f"{fix_id}.sql").is_file():
        raise NotFound(f"There is no fix {shown(fix_id)!r}; `python -m lib fix list` shows them all.")
    return parse_fix(_read(folder / f"{fix_id}.sql"), read_reviewed(folder).get(fix_id))


def list_fixes(directory: Path | str | None = None) -> list[Fix]:
    """Every fix file of the folder, in the sensible order (then by name)."""
    folder = fixes_dir(directory)
    reviewed = read_reviewed(folder)
    fixes = [parse_fix(_read(p), reviewed.get(p.stem)) for p in sorted(folder.glob("*.sql"))]
    rank = {f: i for i, f in enumerate(SEQUENCE)}
    return sorted(fixes, key=lambda f: (rank.get(f.id, len(rank)), f.id))


def constraint_fixes(directory: Path | str | None = None) -> dict[tuple[str, str], str]:
    """The fix that resolves the constraint findings of a (store, table): the fix whose `verify:`
    header names a `constraint.*[store.table.…]` term. The fix headers are the one place this link
    is written; the check entries (lib.checks.ids `fix=`) name the fix of a whole check."""
    folder = fixes_dir(directory)
    if folder == FIXES_DIR and _CONSTRAINT_FIXES:
        return dict(_CONSTRAINT_FIXES)
    out: dict[tuple[str, str], str] = {}
    for f in list_fixes(folder):
        for t in f.verify:
            if t.check.startswith("constraint.") and t.pattern and t.pattern.count(".") >= 1:
                store, table = t.pattern.split(".")[:2]
                other = out.setdefault((store, table), f.id)
                if other != f.id:
                    raise ConfigError(f"sql/fixes: both {other} and {f.id} verify the constraints of {store}.{table}.")
    if folder == FIXES_DIR:
        _CONSTRAINT_FIXES.update(out)
    return out


_CONSTRAINT_FIXES: dict[tuple[str, str], str] = {}


def checksum_problems(directory: Path | str | None = None) -> list[str]:
    """One sentence per fix file whose content is not the reviewed one (and per stale entry)."""
    folder = fixes_dir(directory)
    reviewed = read_reviewed(folder)
    out = []
    for p in sorted(folder.glob("*.sql")):
        now = _read(p).checksum
        if p.stem not in reviewed:
            out.append(f"sql/fixes/{p.name} is not in sql/fixes/{REVIEWED_NAME}: have it reviewed, then add "
                       f"the line `{p.stem} {now}`.")
        elif reviewed[p.stem] != now:
            out.append(f"sql/fixes/{p.name} changed since it was reviewed: have the change re-reviewed, then set "
                       f"its line in sql/fixes/{REVIEWED_NAME} to `{p.stem} {now}`.")
    for fix_id in sorted(set(reviewed) - {p.stem for p in folder.glob("*.sql")}):
        out.append(f"sql/fixes/{REVIEWED_NAME} lists {fix_id}, which has no file: remove the line.")
    return out
