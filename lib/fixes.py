"""The vetted fixes: the one runner behind the Fixes page and `python -m lib fix`.

A fix is a reviewed SQL file in `sql/fixes/` (checks.md, "The vetted fixes"). Its header says what
it is (`id`, `title`, `what`, `store`, `resolves`, `blocked_by`, `verify`, `affects`, `risk`,
`params`, `option`); its body is a list of sections, each one statement, introduced by a marker line:

- `-- step: <title>`  a statement the fix runs, in order. The rows an INSERT / UPDATE / DELETE (or a
  `WITH … DELETE … INSERT`) touches count toward the fix's rows; its RETURNING rows are shown.
- `-- post: <title>`  a query whose rows are what the fix leaves wrong: it must return no row once the
  fix ran (its own post-condition, beside the `verify` checks).
- `-- each: <title>`  (validate_constraints) a query listing objects to handle one at a time, each
  with `violations_sql` (the rows that stand in the way) and `validate_sql` (the statement to run).

`verify` lists the check counts that must be 0 afterwards: `check.id` or `check.id[key glob]` (only
the keys matching the glob count, e.g. `constraint.missing[supabase.rag_chunks.*]`). `blocked_by`
lists the checks that must count 0 before the fix may run. Both are computed INSIDE the fix's own
transaction on its own store (the check's SQL file, or the catalog analysis of lib.checks.constraints
on the transaction's connection), so "after" sees the uncommitted change. Cross-store checks cannot
see it; a fix names those it may move under `affects` and they are shown, not counted.

The rules of checks.md, all enforced here, whoever calls:

- plan runs the statements in a transaction that is always rolled back; apply runs the same ones in
  one transaction with `lock_timeout` and `statement_timeout` set (SET LOCAL);
- both take `pg_try_advisory_xact_lock` for the fix first: a second one at the same time is refused
  "locked";
- the precondition (`blocked_by` counts 0; for `each`, no violating row) is checked inside that
  transaction: otherwise refused "blocked: <check id> = <count>" (for `each`, the constraint's key);
- verification afterwards, inside the transaction: every `verify` term and `post` query is 0, and
  the rows equal the count the person confirmed (when given); any failure rolls everything back;
- idempotence: when every `verify` term and `post` query is already 0, nothing runs: the outcome is
  "nothing to do", `applied` false, rows 0 (exit 0 on the command line);
- only the roles oncall and admin may apply (refused "role"); anybody may plan;
- the file that runs is the file whose sha256 is in `sql/fixes/REVIEWED`, read once: any other
  content is refused "checksum";
- every attempt, refusals included, is written to the ops database's `fix_audit` and to the access
  audit log (lib.audit) before anything runs (outcome "started"), in one transaction that also takes
  the attempt's session advisory lock on that connection; its end is another row of each (both are
  append-only). An attempt started with no end whose lock nobody holds (its process died) is marked
  "abandoned" by the next attempt or listing. The audit id (the start row's) is the run id that
  archive tables record;
- a reason is at most 2,000 characters (as the access audit log keeps): a longer one is refused
  with that sentence (its first 2,000 characters are recorded); an unknown fix id is echoed cut to
  80 characters;
- a multi-store fix (validate_constraints) runs one transaction per store and commits them one
  after the other once every store verified.
"""

from __future__ import annotations

import fnmatch
import json
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import psycopg
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from lib import audit
from lib.checks.ids import BY_ID
from lib.checks.registry import REGISTRY
from lib.errors import ConfigError, NotFound, OpsError, StoreUnavailable, safe_message
from lib.roles import APPLY_ROLES, Actor
from lib.sqlfiles import SQL_DIR, SqlFile, load, parse_header
from lib.stores import Stores
from lib.stores.ops import run as ops_run
from lib.stores.postgres import PgStore, describe_db_error

FIXES_DIR = SQL_DIR / "fixes"
REVIEWED_NAME = "REVIEWED"
LOCK_NAMESPACE = 7_406_006  # first key of pg_try_advisory_xact_lock(namespace, hashtext(fix id))
ATTEMPT_NAMESPACE = 7_406_007  # first key of the ops database's pg_advisory_lock(namespace, attempt id)
MAX_REASON = 2_000  # as the access audit log keeps (lib.audit.MAX_REASON)
SHOWN_ID = 80  # how much of an unknown fix id or option name a message echoes
DEFAULT_LOCK_TIMEOUT_MS = 5_000
SAMPLE_ROWS = 50
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
    "retry_failed_sync_jobs",
)

_MARKER = re.compile(r"^--\s*(step|post|each):\s*(.*)$")
_TERM = re.compile(r"^([a-z_]+\.[a-z_]+)(?:\[([^\]\s]+)\])?$")
_FIX_ID = re.compile(r"^[a-z][a-z0-9_]{2,62}$")
_OPTION = re.compile(r"^([a-z_]+)\s*=\s*(.+)$")
_DML = ("insert", "update", "delete", "with", "merge")
_HEADER_LISTS = ("resolves", "blocked_by", "affects")


# ---------------------------------------------------------------------------------- the files
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


# ---------------------------------------------------------------------------------- results
@dataclass
class StepResult:
    store: str
    title: str
    rows: int | None  # None: a statement that changes no rows (DDL, DO, a listing)
    sample: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Violation:
    """A NOT VALID constraint (validate_constraints) and the rows that violate it."""

    key: str
    definition: str
    count: int
    sample: list[str]


@dataclass
class FixResult:
    fix: str
    title: str
    stores: tuple[str, ...]
    action: str  # plan | apply
    actor: Actor
    reason: str | None = None
    checksum: str | None = None
    applied: bool = False
    rows: int = 0
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    verify: dict[str, dict[str, int | None]] = field(default_factory=dict)
    refused: str | None = None
    error: str | None = None
    outcome: str = "started"
    steps: list[StepResult] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    also_affects: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    audit_id: int | None = None
    audit_error: str | None = None
    duration_ms: float = 0.0
    reason_length: int = 0  # the reason's length as given (`reason` keeps at most MAX_REASON of it)

    @property
    def nothing_to_do(self) -> bool:
        return self.outcome == "nothing to do"

    def exit_code(self) -> int:
        """The command line's: 0 planned / applied / nothing to do, 3 refused, 1 failed."""
        if self.refused:
            return 3
        return 1 if self.error else 0

    def to_json(self) -> dict[str, Any]:
        """cli.md's shape (fix, store, action, applied, rows, before, after, refused, checksum)
        and more: outcome, error, verify, steps, violations, audit_id, who, role, reason."""
        return {
            "fix": self.fix,
            "store": ", ".join(self.stores),
            "action": self.action,
            "applied": self.applied,
            "rows": self.rows,
            "before": self.before,
            "after": self.after,
            "refused": self.refused,
            "checksum": self.checksum,
            "outcome": self.outcome,
            "error": self.error,
            "verify": self.verify,
            "steps": [{"store": s.store, "step": s.title, "rows": s.rows, "sample": s.sample} for s in self.steps],
            "violations": [{"constraint": v.key, "definition": v.definition, "count": v.count, "sample": v.sample}
                           for v in self.violations],
            "also_affects": self.also_affects,
            "params": self.params,
            "audit_id": self.audit_id,
            **({"audit_error": self.audit_error} if self.audit_error else {}),
            "who": self.actor.who,
            "role": self.actor.role,
            "reason": self.reason,
            "duration_ms": self.duration_ms,
        }


class _Stop(Exception):
    """Ends an attempt early: refused (a reason of checks.md's list) or failed (an error)."""

    def __init__(self, refused: str | None = None, error: str | None = None) -> None:
        super().__init__(refused or error or "")
        self.refused, self.error = refused, error


# ---------------------------------------------------------------------------------- counting
class _TxStore:
    """A PgStore look-alike for read_catalog: its read() yields the fix's own connection."""

    def __init__(self, name: str, conn: Connection) -> None:
        self.name = name
        self._conn = conn

    @contextmanager
    def read(self, timeout_ms: int | None = None) -> Iterator[Connection]:
        yield self._conn


class _Probe:
    """Counts checks on one store through one connection (the fix's transaction, or a read-only
    one for the status); the catalog analysis is read once until `forget()`."""

    def __init__(self, store: str, conn: Connection, stores: Stores) -> None:
        self.store, self.conn, self.stores = store, conn, stores
        self._keys: dict[str, list[str]] = {}
        self._constraints: dict[str, list[str]] | None = None

    def forget(self) -> None:
        self._keys.clear()
        self._constraints = None

    def keys(self, check_id: str) -> list[str] | None:
        """The check's keys on this store; None when it is not a check this store can count."""
        c = REGISTRY[check_id]
        if c.kind == "constraints":
            if self._constraints is None:
                from lib.checks.constraints import analyse, load_expected, read_catalog

                expected = load_expected()
                tx = cast(PgStore, _TxStore(self.store, self.conn))
                self._constraints = analyse(read_catalog(tx, expected.schemas(self.store)), expected).findings
            return self._constraints.get(check_id, [])
        if c.kind != "sql" or c.store != self.store:
            return None
        if check_id not in self._keys:
            assert c.sql is not None
            params = c.params(self.stores.settings) if c.params else {}
            self._keys[check_id] = sorted(str(r[0]) for r in self.conn.execute(text(load(c.sql).text), params))
        return self._keys[check_id]

    def rows(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in self.conn.execute(text(sql), dict(params))]


def _count(probes: list[_Probe], term: Term) -> int:
    total = 0
    for p in probes:
        keys = p.keys(term.check)
        if keys is not None:
            total += term.count(keys)
    return total


def _counts(probes: list[_Probe], check_ids: list[str]) -> dict[str, int]:
    return {cid: _count(probes, Term(cid)) for cid in check_ids}


def _post_keys(fix: Fix, probes: list[_Probe], params: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s in fix.posts:
        for p in probes:
            keys = [str(next(iter(r.values()))) for r in p.rows(s.sql, params[p.store])]
            out.setdefault(f"post: {s.title}", []).extend(keys)
    return out


def _listed(fix: Fix, probe: _Probe, params: dict[str, Any]) -> list[dict[str, Any]]:
    """For an `each` fix: the objects its listing query finds on this store, keyed as the checks key them."""
    from lib.checks.constraints import table_label

    out: list[dict[str, Any]] = []
    for s in fix.sections:
        if s.kind == "each":
            for row in probe.rows(s.sql, params):
                row["key"] = f"{probe.store}.{table_label(row['schema_name'], row['table_name'])}.{row['name']}"
                out.append(row)
    return out


def _violations(fix: Fix, probe: _Probe, params: dict[str, Any]) -> tuple[list[dict[str, Any]], list[Violation]]:
    """For an `each` fix: the objects it lists, and those with rows standing in the way."""
    listed = _listed(fix, probe, params)
    found: list[Violation] = []
    for row in listed:
        keys = sorted(str(r[0]) for r in _raw(probe.conn, row["violations_sql"]).fetchall())
        if keys:
            found.append(Violation(row["key"], str(row.get("definition") or ""), len(keys), keys[:20]))
    return listed, found


def _raw(conn: Connection, sql: str) -> Any:
    """Run a statement the reviewed file's own query generated, on the transaction's connection,
    without client-side parameter parsing (it has no parameters)."""
    driver: Any = conn.connection.driver_connection
    cur = driver.cursor()
    cur.execute(sql.encode())
    return cur


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, dict | list):
        return json.loads(json.dumps(value, default=str))
    return str(value)


# ---------------------------------------------------------------------------------- audit
def _ops_error(exc: BaseException) -> bool:
    return isinstance(exc, SQLAlchemyError | DBAPIError | psycopg.Error)


def _mark_abandoned(conn: Connection, noticed_by: str) -> list[int]:
    """In the caller's transaction: an end row "abandoned" (and its access audit event) for every
    started attempt with no end whose session lock nobody holds. Returns their ids."""
    rows = [dict(r._mapping) for r in ops_run(conn, "fix_audit_abandon",
                                              {"namespace": ATTEMPT_NAMESPACE, "noticed_by": noticed_by[:200]})]
    for row in rows:
        audit.record_on(conn, Actor(row["who"], row["role"]), f"fix.{row['action']}"
                        if row["action"] in ("plan", "apply") else "fix.apply", target=row["fix"],
                        reason=row["reason"], detail={"fix_audit_id": row["attempt"], "outcome": "abandoned",
                                                      "noticed_by": noticed_by[:200], "checksum": row["checksum"]})
    return [int(r["attempt"]) for r in rows]


def _audit_start(stores: Stores, r: FixResult) -> Connection:
    """Append the attempt's start to fix_audit and to the access audit log, and take its session
    lock, in one transaction on a connection of its own; returns that connection, which holds the
    lock until `_audit_end`. Attempts found abandoned on the way are marked first."""
    conn = stores.ops.connect()
    try:
        with conn.begin():
            _mark_abandoned(conn, r.actor.who)
        with conn.begin():
            r.audit_id = int(ops_run(conn, "fix_audit_start", {
                "who": r.actor.who[:200], "role": r.actor.role[:50], "fix": r.fix[:100], "checksum": r.checksum,
                "action": r.action, "stores": ", ".join(r.stores), "reason": r.reason,
                "detail": json.dumps({"params": r.params, **({"reason_length": r.reason_length}
                                                              if r.reason_length > MAX_REASON else {})}, default=str),
            }).scalar_one())
            ops_run(conn, "fix_audit_lock", {"namespace": ATTEMPT_NAMESPACE, "id": r.audit_id})
            audit.record_on(conn, r.actor, f"fix.{r.action}", target=r.fix, reason=r.reason, detail={
                "fix_audit_id": r.audit_id, "outcome": "started", "checksum": r.checksum,
                "stores": ", ".join(r.stores)})
    except BaseException:
        conn.invalidate()  # a session lock survives a rollback: closing the connection ends it
        conn.close()
        raise
    return conn


def _audit_end(stores: Stores, conn: Connection, r: FixResult) -> None:
    """Append the attempt's end (fix_audit, then the access audit log), then release its lock. A
    record that cannot be written is said in `r.audit_error`; the attempt's own result stands."""
    secrets = stores.settings.secret_values()
    detail = {k: v for k, v in r.to_json().items()
              if k in ("before", "after", "verify", "refused", "error", "violations", "params", "applied")}
    detail["steps"] = [{"store": s.store, "step": s.title, "rows": s.rows} for s in r.steps]
    finish = {"id": r.audit_id, "outcome": r.outcome[:1000], "rows": r.rows, "duration_ms": r.duration_ms,
              "checksum": r.checksum, "detail": json.dumps(detail, default=str)}
    event = {"fix_audit_id": r.audit_id, "outcome": r.outcome, "rows": r.rows, "applied": r.applied,
             "checksum": r.checksum}
    errors: list[str] = []

    def write(fn: Any) -> Any:
        # on the attempt's connection; if the ops database dropped it, once more on a new one
        nonlocal conn
        try:
            with conn.begin():
                return fn(conn)
        except Exception as exc:
            if not _ops_error(exc):
                raise
            conn.invalidate()
            conn.close()
            conn = stores.ops.connect()
            with conn.begin():
                return fn(conn)

    try:
        try:
            ended = write(lambda c: ops_run(c, "fix_audit_finish", finish).scalar_one_or_none())
            if ended is None:
                errors.append(f"the audit record {r.audit_id} was already marked abandoned (its process had lost "
                              "the ops database); its outcome is in the access audit log")
        except Exception as exc:  # noqa: BLE001 - the attempt stands; say the record is incomplete
            errors.append(f"the audit record {r.audit_id} could not be completed: {safe_message(exc, secrets)}")
        try:  # the access audit log (lib.audit, append-only) has the attempt's end as well
            write(lambda c: audit.record_on(c, r.actor, f"fix.{r.action}", target=r.fix, reason=r.reason,
                                            detail=event))
        except Exception as exc:  # noqa: BLE001 - the fix_audit record stands; say this one is missing
            errors.append(f"the access audit event could not be written: {safe_message(exc, secrets)}")
    finally:
        try:
            if not conn.closed:
                ops_run(conn, "fix_audit_unlock", {"namespace": ATTEMPT_NAMESPACE,
                                                                      "id": r.audit_id})
                conn.commit()
                conn.close()
        except Exception:  # noqa: BLE001 - closing the connection releases the lock as well
            conn.invalidate()
            conn.close()
    if errors:
        r.audit_error = "; ".join(errors)


def audit_log(stores: Stores, *, fix: str | None = None, limit: int = 200,
              noticed_by: str = "the fix audit listing") -> list[dict[str, Any]]:
    """The fix attempts, newest first (of one fix, or of all), each in its latest state; attempts
    whose process died are marked abandoned first."""
    with stores.ops.transaction() as conn:
        _mark_abandoned(conn, noticed_by)
        return [dict(r._mapping) for r in ops_run(conn, "fix_audit_list", {"fix": fix, "limit": limit})]


# ---------------------------------------------------------------------------------- the runner
def plan(stores: Stores, fix_id: str, actor: Actor, *, params: Mapping[str, Any] | None = None,
         directory: Path | str | None = None, lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
         statement_timeout_ms: int | None = None) -> FixResult:
    """Dry run: the statements in a transaction that is rolled back; the rows they touch and the
    counts before and after. Anybody may plan."""
    return _attempt(stores, fix_id, actor, "plan", None, None, params, directory, lock_timeout_ms,
                    statement_timeout_ms)


def apply(stores: Stores, fix_id: str, actor: Actor, reason: str, *, expect_rows: int | None = None,
          params: Mapping[str, Any] | None = None, directory: Path | str | None = None,
          lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS, statement_timeout_ms: int | None = None) -> FixResult:
    """Apply per checks.md's rules; `expect_rows` is the row count the person typed back (the apply
    fails and rolls back when the fix would now touch another number of rows)."""
    return _attempt(stores, fix_id, actor, "apply", reason, expect_rows, params, directory, lock_timeout_ms,
                    statement_timeout_ms)


def _attempt(stores: Stores, fix_id: str, actor: Actor, action: str, reason: str | None, expect_rows: int | None,
             params: Mapping[str, Any] | None, directory: Path | str | None, lock_timeout_ms: int,
             statement_timeout_ms: int | None) -> FixResult:
    t0 = time.perf_counter()
    fix: Fix | None = None
    load_error: OpsError | None = None
    try:
        fix = load_fix(fix_id, directory)
    except OpsError as exc:
        load_error = exc
    given = (reason or "").strip()
    r = FixResult(fix=str(fix_id) if fix else shown(fix_id, 100), title=fix.title if fix else "",
                  stores=fix.stores if fix else (), action=action, actor=actor, reason=given[:MAX_REASON] or None,
                  checksum=fix.checksum if fix else None, params=dict(params or {}),
                  also_affects=fix.also_affects() if fix else [], reason_length=len(given))
    secrets = stores.settings.secret_values()
    try:
        held = _audit_start(stores, r)
    except Exception as exc:  # no audit, no fix
        raise OpsError(f"The audit log cannot be written, so nothing was run ({safe_message(exc, secrets)}).") from exc
    try:
        if load_error is not None:
            raise _Stop(error=str(load_error))
        assert fix is not None
        _run(stores, fix, r, expect_rows, lock_timeout_ms,
             statement_timeout_ms or stores.settings.statement_timeout_ms)
    except _Stop as stop:
        r.refused, r.error = stop.refused, stop.error
        r.applied = False
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the transaction rolled back
        r.error = safe_message(exc, secrets)
        r.applied = False
    except BaseException:  # interrupted: no end is written; closing the connection frees the lock (abandoned)
        held.invalidate()
        held.close()
        raise
    if r.refused:
        r.outcome = f"refused: {r.refused}"
    elif r.error:
        r.outcome = f"failed: {r.error}"
    r.duration_ms = round((time.perf_counter() - t0) * 1000, 1)
    _audit_end(stores, held, r)
    if load_error is not None and isinstance(load_error, NotFound):
        raise load_error
    return r


def _check_params(fix: Fix, given: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {name: None for name in fix.options}
    for name, value in given.items():
        if name not in fix.options:
            known = ", ".join(fix.options) or "none"
            raise _Stop(error=f"{fix.id} takes no option {shown(name)!r} (its options: {known}).")
        if value in (None, ""):
            continue
        if str(value) not in fix.options[name]:
            raise _Stop(error=f"{name} must be one of {', '.join(fix.options[name])}.")
        out[name] = str(value)
    return out


def _pg(stores: Stores, name: str) -> PgStore:
    store = stores.get(name)
    if store is None:
        raise _Stop(error=f"{name}: not configured, so its fixes cannot run.")
    if not isinstance(store, PgStore):
        raise _Stop(error=f"{name}: reached through its HTTP API, which runs no SQL; fixes need SUPABASE_DB_URL.")
    return store


def _run(stores: Stores, fix: Fix, r: FixResult, expect_rows: int | None, lock_ms: int, stmt_ms: int) -> None:
    if r.action == "apply" and r.actor.role not in APPLY_ROLES:
        raise _Stop(refused="role")
    if not fix.is_reviewed:
        raise _Stop(refused="checksum")
    if r.action == "apply" and not r.reason:
        raise _Stop(error="A reason is required to apply a fix.")
    if r.reason_length > MAX_REASON:
        raise _Stop(error=f"A reason must be at most {MAX_REASON:,} characters (this one has {r.reason_length:,}): "
                          "shorten it.")
    options = _check_params(fix, r.params)
    targets = [(_pg(stores, name), name) for name in fix.stores]

    from lib.checks.constraints import load_expected

    expected = load_expected()
    try:
        with ExitStack() as stack:
            conns: list[tuple[str, Connection]] = []
            for store, name in targets:
                conn = stack.enter_context(store.engine.connect())
                conn.begin()
                conns.append((name, conn))
            try:
                _in_transaction(stores, fix, r, conns, expected, options, expect_rows, lock_ms, stmt_ms)
            finally:
                for _, conn in conns:
                    if conn.in_transaction():
                        conn.rollback()
    except (SQLAlchemyError, DBAPIError, psycopg.Error) as exc:
        store_name = r.stores[0] if len(r.stores) == 1 else ", ".join(r.stores)
        raise _Stop(error=describe_db_error(store_name, exc)) from exc
    except StoreUnavailable as exc:
        raise _Stop(error=str(exc)) from exc


def _in_transaction(stores: Stores, fix: Fix, r: FixResult, conns: list[tuple[str, Connection]], expected: Any,
                    options: dict[str, Any], expect_rows: int | None, lock_ms: int, stmt_ms: int) -> None:
    probes = [_Probe(name, conn, stores) for name, conn in conns]
    params = {name: {"run_id": r.audit_id, "schemas": expected.schemas(name), **options} for name, _ in conns}
    for _name, conn in conns:
        conn.execute(text(load("fixrunner/timeouts").text),
                     {"lock_timeout_ms": str(int(lock_ms)), "statement_timeout_ms": str(int(stmt_ms))})
        if not conn.execute(text(load("fixrunner/try_lock").text), {"namespace": LOCK_NAMESPACE, "fix": fix.id}).scalar():
            raise _Stop(refused="locked")

    checks = fix.in_tx_checks()
    r.before = _counts(probes, checks)
    for cid in fix.blocked_by:
        if r.before[cid] > 0:
            raise _Stop(refused=f"blocked: {cid} = {r.before[cid]}")
    verify_before = {t.label: _count(probes, t) for t in fix.verify}
    verify_before.update({k: len(v) for k, v in _post_keys(fix, probes, params).items()})
    listed: list[dict[str, Any]] = []
    if any(s.kind == "each" for s in fix.sections):
        for p in probes:
            got, bad = _violations(fix, p, params[p.store])
            listed += got
            r.violations += bad
        if r.violations:
            first = r.violations[0]
            raise _Stop(refused=f"blocked: {first.key} = {first.count}")
        verify_before["each: objects to handle"] = len(listed)

    if not any(verify_before.values()):
        r.outcome = "nothing to do"
        r.after = dict(r.before)
        r.verify = {k: {"before": v, "after": v} for k, v in verify_before.items()}
        return

    for p in probes:
        conn = p.conn
        for s in fix.runs:
            if s.kind == "each":
                mine = [row for row in listed if row["key"].startswith(f"{p.store}.")]
                for row in mine:
                    _raw(conn, row["validate_sql"])
                r.steps.append(StepResult(p.store, s.title, len(mine), [{"validated": row["key"]} for row in mine]))
                r.rows += len(mine)
                continue
            res = conn.execute(text(s.sql), params[p.store])
            sample = [{k: _jsonable(v) for k, v in row._mapping.items()} for row in res.fetchmany(SAMPLE_ROWS)] \
                if res.returns_rows else []
            rows = res.rowcount if s.counts_rows and res.rowcount is not None and res.rowcount >= 0 else None
            res.close()
            r.steps.append(StepResult(p.store, s.title, rows, sample))
            r.rows += rows or 0
        p.forget()

    r.after = _counts(probes, checks)
    verify_after = {t.label: _count(probes, t) for t in fix.verify}
    verify_after.update({k: len(v) for k, v in _post_keys(fix, probes, params).items()})
    if "each: objects to handle" in verify_before:
        verify_after["each: objects to handle"] = sum(len(_listed(fix, p, params[p.store])) for p in probes)
    r.verify = {k: {"before": verify_before.get(k), "after": verify_after.get(k)} for k in verify_before}
    failing = [f"{k} = {v}" for k, v in verify_after.items() if v]
    if failing:
        raise _Stop(error=f"verification failed, everything rolled back: {', '.join(failing)}")
    if expect_rows is not None and r.rows != expect_rows:
        raise _Stop(error=f"the fix now touches {r.rows} rows, not the {expect_rows} confirmed; everything rolled "
                          "back: plan again")
    if r.action == "plan":
        r.outcome = "planned"
        return
    committed: list[str] = []
    for name, conn in conns:
        try:
            conn.commit()
        except (SQLAlchemyError, DBAPIError) as exc:
            done = f" ({', '.join(committed)} committed)" if committed else ""
            raise _Stop(error=describe_db_error(name, exc) + done) from exc
        committed.append(name)
    r.applied = True
    r.outcome = "applied"


# ---------------------------------------------------------------------------------- status
@dataclass
class FixStatus:
    fix: Fix
    needed: bool | None  # None when its store could not be read
    counts: dict[str, int]  # the resolves checks' counts on its store(s)
    blocked: dict[str, int]  # what blocks it now: check id (or constraint key) → count
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "fix": self.fix.id,
            "title": self.fix.title,
            "store": ", ".join(self.fix.stores),
            "needed": self.needed,
            "counts": self.counts,
            "blocked_by": self.blocked,
            "reviewed": self.fix.is_reviewed,
            "checksum": self.fix.checksum,
            "risk": self.fix.risk,
            **({"error": self.error} if self.error else {}),
        }


def status(stores: Stores, directory: Path | str | None = None) -> list[FixStatus]:
    """Every fix: whether it is needed now and what blocks it, computed as plan and apply do (the
    same counts and post queries) but in one read-only transaction per store."""
    fixes = list_fixes(directory)
    from lib.checks.constraints import load_expected

    expected = load_expected()
    secrets = stores.settings.secret_values()
    out: dict[str, FixStatus] = {}
    for name in FIX_STORES:
        mine = [f for f in fixes if name in f.stores]
        if not mine:
            continue
        try:
            store = _pg(stores, name)
            with store.read() as conn:
                probe = _Probe(name, conn, stores)
                params = {"run_id": None, "schemas": expected.schemas(name)}
                for f in mine:
                    st = out.setdefault(f.id, FixStatus(f, False, {}, {}))
                    opts = {o: None for o in f.options}
                    for cid in f.resolves:
                        keys = probe.keys(cid)
                        if keys is not None:
                            st.counts[cid] = st.counts.get(cid, 0) + len(keys)
                    for cid in f.blocked_by:
                        n = len(probe.keys(cid) or [])
                        if n:
                            st.blocked[cid] = st.blocked.get(cid, 0) + n
                    need = sum(t.count(probe.keys(t.check) or []) for t in f.verify)
                    need += sum(len(probe.rows(s.sql, {**params, **opts})) for s in f.posts)
                    if any(s.kind == "each" for s in f.sections):
                        listed, bad = _violations(f, probe, {**params, **opts})
                        need += len(listed)
                        st.blocked.update({v.key: v.count for v in bad})
                    st.needed = bool(st.needed) or need > 0
        except _Stop as stop:
            for f in mine:
                out[f.id] = FixStatus(f, None, {}, {}, error=stop.error)
        except OpsError as exc:
            for f in mine:
                out[f.id] = FixStatus(f, None, {}, {}, error=str(exc))
        except Exception as exc:  # noqa: BLE001
            for f in mine:
                out[f.id] = FixStatus(f, None, {}, {}, error=safe_message(exc, secrets))
    return [out[f.id] for f in fixes if f.id in out]
