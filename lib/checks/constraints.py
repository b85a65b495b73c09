"""Constraint drift and schema advisor for the core and Supabase databases.

The constraints the backend expects are data, not code: `expected_constraints.toml` next to this
module lists them (and the definitions the system must not have) as system.md states them. This
module reads the live catalog of one store (`sql/catalog/*.sql`), compares it with that file and
answers the seven check ids of checks.md's "Constraints" table:

- constraint.missing      an expected constraint that no live one satisfies (key: expected name)
- constraint.unexpected   a forbidden definition that is present, as a constraint or a unique index
- constraint.mismatch     a live constraint under the expected name, or of the same kind on the
                          same columns (FK, PK, CHECK), that is defined otherwise (key: live name)
- constraint.not_valid    a live foreign key or check with convalidated = false
- advisor.unindexed_foreign_key  a foreign key (schema public) whose columns lead no index
- advisor.no_primary_key  a table of schema public without a primary key
- advisor.duplicate_index an index (schema public) with the same definition as another one

Matching rules (also summarised at the top of the TOML file):

- An expected constraint is satisfied by a live one of the same definition, whatever its name.
  PRIMARY KEY: the same column set. UNIQUE: a valid, non-partial unique index on the same column
  set, whether it backs a constraint or not (Prisma's @@unique makes a bare unique index).
  FOREIGN KEY: the same (column, referenced column) pairs, the same referenced table and, only when
  the file states one, the same ON DELETE action. CHECK: a CHECK on the same column set whose
  quoted literals are exactly the file's `values` (so `role IN ('A','B')` and
  `role = ANY (ARRAY['A'::text, 'B'::text])` are the same); without `values` any CHECK on those
  columns satisfies it. Validity does not enter matching: a NOT VALID one is constraint.not_valid.
- A forbidden UNIQUE is present when a non-partial unique index (a constraint's or a bare one) has
  exactly its column set. A partial unique index (WHERE ...) is allowed.
- Keys are `store.table.name`, with `schema.table` where the schema is not public;
  advisor.no_primary_key's key is `store.table`.
- advisor.duplicate_index groups the indexes of one table with the same key columns and
  expressions, INCLUDE columns, predicate, operator classes, collations, sort options, access
  method and uniqueness. The first of a group is kept (an index that backs a constraint before a
  bare one, then by name); every other one is reported, one key per redundant index.
- The advisor lints skip tables that an extension owns.

Everything runs in one read-only transaction of the store.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from lib.errors import ConfigError
from lib.sqlfiles import load
from lib.stores.postgres import PgStore

DEFAULT_EXPECTED_FILE = Path(__file__).resolve().parent / "expected_constraints.toml"

CHECK_IDS: tuple[str, ...] = (
    "constraint.missing",
    "constraint.unexpected",
    "constraint.mismatch",
    "constraint.not_valid",
    "advisor.unindexed_foreign_key",
    "advisor.no_primary_key",
    "advisor.duplicate_index",
)

STORES = ("core", "supabase")
KINDS = ("primary_key", "unique", "foreign_key", "check")
CONTYPE_KIND = {"p": "primary_key", "u": "unique", "f": "foreign_key", "c": "check", "x": "exclusion"}
ON_DELETE_ACTIONS = ("NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT")
ADVISOR_SCHEMA = "public"

_CONSTRAINT_KEYS = {
    "store",
    "schema",
    "table",
    "kind",
    "columns",
    "name",
    "ref_schema",
    "ref_table",
    "ref_columns",
    "on_delete",
    "values",
    "note",
}
_FORBIDDEN_KEYS = {"store", "schema", "table", "kind", "columns", "names", "note"}
_INDEX_KEYS = {"store", "schema", "table", "columns", "note"}
_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_PLAIN_IDENT = re.compile(r"^[a-z_][a-z0-9_$]*$")


# ------------------------------------------------------------------------------------ helpers
def table_label(schema: str, table: str) -> str:
    """`table` in schema public, else `schema.table` (the table part of every key)."""
    return table if schema == "public" else f"{schema}.{table}"


def quote_ident(name: str) -> str:
    """An identifier as SQL needs it written (camelCase gets double quotes)."""
    return name if _PLAIN_IDENT.match(name) else '"' + name.replace('"', '""') + '"'


def _cols(columns: Iterable[str]) -> str:
    return ", ".join(quote_ident(c) for c in columns)


def check_literals(definition: str) -> frozenset[str]:
    """The quoted string literals of a CHECK definition, e.g. {'PATIENT', 'DOCTOR', 'ADMIN'}."""
    return frozenset(m.group(1).replace("''", "'") for m in _LITERAL.finditer(definition))


# ------------------------------------------------------------------------------ expected (TOML)
@dataclass(frozen=True)
class ExpectedConstraint:
    store: str
    schema: str
    table: str
    kind: str
    columns: tuple[str, ...]
    name: str
    ref_schema: str | None = None
    ref_table: str | None = None
    ref_columns: tuple[str, ...] = ()
    on_delete: str | None = None
    values: frozenset[str] | None = None
    note: str = ""

    @property
    def label(self) -> str:
        return table_label(self.schema, self.table)

    @property
    def key(self) -> str:
        return f"{self.store}.{self.label}.{self.name}"

    def describe(self) -> str:
        """The expected definition in SQL words, e.g. `FOREIGN KEY (a) REFERENCES t(id) ON DELETE CASCADE`."""
        if self.kind == "primary_key":
            return f"PRIMARY KEY ({_cols(self.columns)})"
        if self.kind == "unique":
            return f"UNIQUE ({_cols(self.columns)})"
        if self.kind == "check":
            if self.values is None:
                return f"CHECK on ({_cols(self.columns)})"
            vals = ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(self.values))
            return f"CHECK ({_cols(self.columns)} IN ({vals}))"
        ref = table_label(self.ref_schema or self.schema, self.ref_table or "")
        out = f"FOREIGN KEY ({_cols(self.columns)}) REFERENCES {ref}({_cols(self.ref_columns)})"
        return out + (f" ON DELETE {self.on_delete}" if self.on_delete else "")


@dataclass(frozen=True)
class ForbiddenDefinition:
    store: str
    schema: str
    table: str
    kind: str
    columns: tuple[str, ...]
    names: tuple[str, ...] = ()
    note: str = ""

    @property
    def label(self) -> str:
        return table_label(self.schema, self.table)

    def describe(self) -> str:
        return f"UNIQUE ({_cols(self.columns)}) under any name"


@dataclass(frozen=True)
class ExpectedIndex:
    store: str
    schema: str
    table: str
    columns: tuple[str, ...]
    note: str = ""

    @property
    def label(self) -> str:
        return table_label(self.schema, self.table)

    def describe(self) -> str:
        return f"index ({_cols(self.columns)})"


@dataclass(frozen=True)
class Expected:
    """The content of an expected-constraints file; `path` says which file said it."""

    path: Path
    constraints: tuple[ExpectedConstraint, ...] = ()
    forbidden: tuple[ForbiddenDefinition, ...] = ()
    indexes: tuple[ExpectedIndex, ...] = ()

    def for_store(self, store: str) -> Expected:
        return Expected(
            path=self.path,
            constraints=tuple(c for c in self.constraints if c.store == store),
            forbidden=tuple(f for f in self.forbidden if f.store == store),
            indexes=tuple(i for i in self.indexes if i.store == store),
        )

    def schemas(self, store: str) -> list[str]:
        """The schemas that matter in `store`: public and every schema the file names for it."""
        mine = self.for_store(store)
        found = {ADVISOR_SCHEMA}
        found.update(c.schema for c in mine.constraints)
        found.update(c.ref_schema for c in mine.constraints if c.ref_schema)
        found.update(f.schema for f in mine.forbidden)
        found.update(i.schema for i in mine.indexes)
        return sorted(found)


def _entry_error(path: Path, section: str, i: int, message: str) -> ConfigError:
    return ConfigError(f"{path.name}: [[{section}]] entry {i + 1}: {message}")


def _str(
    entry: Mapping[str, Any], key: str, err: Any, *, required: bool = True, default: str | None = None
) -> str | None:
    value = entry.get(key, default)
    if value is None:
        if required:
            raise err(f"`{key}` is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        raise err(f"`{key}` must be a non-empty string")
    return value.strip()


def _str_list(entry: Mapping[str, Any], key: str, err: Any, *, required: bool = True) -> tuple[str, ...]:
    value = entry.get(key)
    if value is None:
        if required:
            raise err(f"`{key}` is missing")
        return ()
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise err(f"`{key}` must be a non-empty list of strings")
    return tuple(value)


def _common(entry: Any, allowed: set[str], err: Any) -> tuple[str, str, str]:
    if not isinstance(entry, dict):
        raise err("must be a table")
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise err(f"unknown key(s) {', '.join(unknown)}")
    store = _str(entry, "store", err)
    if store not in STORES:
        raise err(f"`store` must be one of {', '.join(STORES)}")
    schema = _str(entry, "schema", err, default="public")
    table = _str(entry, "table", err)
    assert store is not None and schema is not None and table is not None
    return store, schema, table


def _parse_constraint(path: Path, i: int, entry: Any) -> ExpectedConstraint:
    def err(message: str) -> ConfigError:
        return _entry_error(path, "constraint", i, message)

    store, schema, table = _common(entry, _CONSTRAINT_KEYS, err)
    kind = _str(entry, "kind", err)
    if kind not in KINDS:
        raise err(f"`kind` must be one of {', '.join(KINDS)}")
    name = _str(entry, "name", err)
    assert name is not None
    columns = _str_list(entry, "columns", err)
    note = _str(entry, "note", err, required=False) or ""
    ref_schema = ref_table = on_delete = None
    ref_columns: tuple[str, ...] = ()
    values: frozenset[str] | None = None
    if kind == "foreign_key":
        ref_table = _str(entry, "ref_table", err)
        ref_schema = _str(entry, "ref_schema", err, default=schema)
        ref_columns = _str_list(entry, "ref_columns", err)
        if len(ref_columns) != len(columns):
            raise err("`columns` and `ref_columns` must be of the same length")
        raw = _str(entry, "on_delete", err, required=False)
        if raw is not None:
            on_delete = " ".join(raw.upper().split())
            if on_delete not in ON_DELETE_ACTIONS:
                raise err(f"`on_delete` must be one of {', '.join(ON_DELETE_ACTIONS)}")
    else:
        for key in ("ref_schema", "ref_table", "ref_columns", "on_delete"):
            if key in entry:
                raise err(f"`{key}` belongs to foreign keys only")
    if kind == "check":
        if "values" in entry:
            values = frozenset(_str_list(entry, "values", err))
    elif "values" in entry:
        raise err("`values` belongs to checks only")
    return ExpectedConstraint(
        store=store,
        schema=schema,
        table=table,
        kind=kind,
        columns=columns,
        name=name,
        ref_schema=ref_schema,
        ref_table=ref_table,
        ref_columns=ref_columns,
        on_delete=on_delete,
        values=values,
        note=note,
    )


def _parse_forbidden(path: Path, i: int, entry: Any) -> ForbiddenDefinition:
    def err(message: str) -> ConfigError:
        return _entry_error(path, "forbidden", i, message)

    store, schema, table = _common(entry, _FORBIDDEN_KEYS, err)
    kind = _str(entry, "kind", err, default="unique")
    if kind != "unique":
        raise err("`kind` must be unique (the only forbidden kind supported)")
    return ForbiddenDefinition(
        store=store,
        schema=schema,
        table=table,
        kind=kind,
        columns=_str_list(entry, "columns", err),
        names=_str_list(entry, "names", err, required=False),
        note=_str(entry, "note", err, required=False) or "",
    )


def _parse_index(path: Path, i: int, entry: Any) -> ExpectedIndex:
    def err(message: str) -> ConfigError:
        return _entry_error(path, "index", i, message)

    store, schema, table = _common(entry, _INDEX_KEYS, err)
    return ExpectedIndex(
        store=store,
        schema=schema,
        table=table,
        columns=_str_list(entry, "columns", err),
        note=_str(entry, "note", err, required=False) or "",
    )


def load_expected(path: Path | None = None) -> Expected:
    """Read an expected-constraints file (default: expected_constraints.toml next to this module)."""
    path = Path(path) if path is not None else DEFAULT_EXPECTED_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"The expected-constraints file {path} does not exist.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name} is not valid TOML: {exc}") from exc
    unknown = sorted(set(raw) - {"constraint", "forbidden", "index"})
    if unknown:
        raise ConfigError(f"{path.name}: unknown section(s) {', '.join(unknown)} (constraint, forbidden, index)")
    sections: dict[str, list[Any]] = {}
    for section in ("constraint", "forbidden", "index"):
        value = raw.get(section, [])
        if not isinstance(value, list):
            raise ConfigError(f"{path.name}: `{section}` must be an array of tables ([[{section}]])")
        sections[section] = value
    constraints = tuple(_parse_constraint(path, i, e) for i, e in enumerate(sections["constraint"]))
    seen: set[str] = set()
    for c in constraints:
        if c.key in seen:
            raise ConfigError(f"{path.name}: the constraint {c.key} is listed twice")
        seen.add(c.key)
    return Expected(
        path=path,
        constraints=constraints,
        forbidden=tuple(_parse_forbidden(path, i, e) for i, e in enumerate(sections["forbidden"])),
        indexes=tuple(_parse_index(path, i, e) for i, e in enumerate(sections["index"])),
    )


# ----------------------------------------------------------------------------- live catalog
@dataclass(frozen=True)
class LiveConstraint:
    schema: str
    table: str
    name: str
    kind: str  # primary_key | unique | foreign_key | check | exclusion
    definition: str
    validated: bool
    columns: tuple[str, ...]
    ref_schema: str | None = None
    ref_table: str | None = None
    ref_columns: tuple[str, ...] = ()
    on_delete: str | None = None
    index_name: str | None = None

    @property
    def label(self) -> str:
        return table_label(self.schema, self.table)


@dataclass(frozen=True)
class LiveIndex:
    schema: str
    table: str
    name: str
    definition: str
    unique: bool
    primary: bool
    valid: bool
    partial: bool
    predicate: str | None
    columns: tuple[str | None, ...]  # key columns in order; None where the key is an expression
    method: str
    signature: tuple[Any, ...]  # what two indexes must share to be duplicates
    constraint_name: str | None = None

    @property
    def label(self) -> str:
        return table_label(self.schema, self.table)

    @property
    def plain_columns(self) -> tuple[str, ...] | None:
        """The key columns when every key is a plain column, else None."""
        if any(c is None for c in self.columns):
            return None
        return tuple(c for c in self.columns if c is not None)

    @property
    def enforces_unique(self) -> bool:
        """A full (non-partial) unique index on plain columns."""
        return self.unique and not self.partial and self.plain_columns is not None


@dataclass(frozen=True)
class LiveTable:
    schema: str
    table: str
    has_primary_key: bool
    extension_owned: bool

    @property
    def label(self) -> str:
        return table_label(self.schema, self.table)


@dataclass(frozen=True)
class Catalog:
    store: str
    schemas: tuple[str, ...]
    constraints: tuple[LiveConstraint, ...]
    indexes: tuple[LiveIndex, ...]
    tables: tuple[LiveTable, ...]


def read_catalog(store: PgStore, schemas: Iterable[str]) -> Catalog:
    """The constraints, indexes and tables of `schemas`, read in one read-only transaction."""
    params = {"schemas": sorted(set(schemas))}
    with store.read() as conn:
        con_rows = [dict(r._mapping) for r in conn.execute(text(load("catalog/constraints").text), params)]
        idx_rows = [dict(r._mapping) for r in conn.execute(text(load("catalog/indexes").text), params)]
        tab_rows = [dict(r._mapping) for r in conn.execute(text(load("catalog/tables").text), params)]
    constraints = tuple(
        LiveConstraint(
            schema=r["schema_name"],
            table=r["table_name"],
            name=r["name"],
            kind=CONTYPE_KIND.get(r["contype"], r["contype"]),
            definition=r["definition"] or "",
            validated=bool(r["validated"]),
            columns=tuple(r["columns"] or ()),
            ref_schema=r["ref_schema"],
            ref_table=r["ref_table"],
            ref_columns=tuple(r["ref_columns"] or ()),
            on_delete=r["on_delete"] if r["contype"] == "f" else None,
            index_name=r["index_name"],
        )
        for r in con_rows
    )
    indexes = tuple(
        LiveIndex(
            schema=r["schema_name"],
            table=r["table_name"],
            name=r["name"],
            definition=r["definition"] or "",
            unique=bool(r["is_unique"]),
            primary=bool(r["is_primary"]),
            valid=bool(r["is_valid"]),
            partial=bool(r["partial"]),
            predicate=r["predicate"],
            columns=tuple(r["columns"] or ()),
            method=r["method"],
            signature=(
                r["indkey"],
                r["key_count"],
                r["indclass"],
                r["indcollation"],
                r["indoption"],
                r["expressions"],
                r["predicate"],
                r["method"],
                bool(r["is_unique"]),
            ),
            constraint_name=r["constraint_name"],
        )
        for r in idx_rows
    )
    tables = tuple(
        LiveTable(
            schema=r["schema_name"],
            table=r["table_name"],
            has_primary_key=bool(r["has_primary_key"]),
            extension_owned=bool(r["extension_owned"]),
        )
        for r in tab_rows
    )
    return Catalog(
        store=store.name, schemas=tuple(params["schemas"]), constraints=constraints, indexes=indexes, tables=tables
    )


# --------------------------------------------------------------------------------- analysis
@dataclass
class Note:
    check: str | None  # the check id it counts toward; None for a plain remark
    text: str


@dataclass
class Analysis:
    store: str
    findings: dict[str, list[str]]
    # drift annotations per live object: ("constraint" | "index" | "table", schema, table, name)
    notes: dict[tuple[str, str, str, str], list[Note]] = field(default_factory=lambda: defaultdict(list))
    satisfied: dict[tuple[str, str, str, str], list[ExpectedConstraint]] = field(
        default_factory=lambda: defaultdict(list)
    )
    missing: list[ExpectedConstraint] = field(default_factory=list)
    expected_indexes: list[tuple[ExpectedIndex, str | None]] = field(default_factory=list)


def _fk_pairs(columns: Iterable[str], ref_columns: Iterable[str]) -> list[tuple[str, str]]:
    return sorted(zip(columns, ref_columns, strict=False))


def _satisfies(e: ExpectedConstraint, c: LiveConstraint) -> bool:
    if (c.schema, c.table) != (e.schema, e.table) or c.kind != e.kind:
        return False
    if e.kind == "primary_key":
        return set(c.columns) == set(e.columns)
    if e.kind == "foreign_key":
        return (
            (c.ref_schema, c.ref_table) == (e.ref_schema, e.ref_table)
            and _fk_pairs(c.columns, c.ref_columns) == _fk_pairs(e.columns, e.ref_columns)
            and (e.on_delete is None or c.on_delete == e.on_delete)
        )
    if e.kind == "check":
        return set(c.columns) == set(e.columns) and (e.values is None or check_literals(c.definition) == e.values)
    return False  # unique: matched on indexes


def _index_satisfies_unique(e: ExpectedConstraint, i: LiveIndex) -> bool:
    return (
        (i.schema, i.table) == (e.schema, e.table)
        and i.enforces_unique
        and i.valid
        and set(i.plain_columns or ()) == set(e.columns)
    )


def _leads(index: LiveIndex, columns: Iterable[str]) -> bool:
    """Whether the index's leading key columns are exactly `columns` (in any order)."""
    wanted = set(columns)
    lead = index.columns[: len(wanted)]
    return len(lead) == len(wanted) and None not in lead and set(lead) == wanted


def _index_key(store: str, i: LiveIndex) -> str:
    return f"{store}.{i.label}.{i.constraint_name or i.name}"


def analyse(catalog: Catalog, expected: Expected) -> Analysis:
    """Compare a catalog with the expected definitions of its store (pure; no database)."""
    store = catalog.store
    exp = expected.for_store(store)
    found: dict[str, set[str]] = {cid: set() for cid in CHECK_IDS}
    out = Analysis(store=store, findings={})
    src = expected.path.name

    def con_key(c: LiveConstraint) -> str:
        return f"{store}.{c.label}.{c.name}"

    def note_con(c: LiveConstraint, check: str | None, msg: str) -> None:
        out.notes[("constraint", c.schema, c.table, c.name)].append(Note(check, msg))

    def note_idx(i: LiveIndex, check: str | None, msg: str) -> None:
        out.notes[("index", i.schema, i.table, i.name)].append(Note(check, msg))

    by_table_con: dict[tuple[str, str], list[LiveConstraint]] = defaultdict(list)
    for c in catalog.constraints:
        by_table_con[(c.schema, c.table)].append(c)
    by_table_idx: dict[tuple[str, str], list[LiveIndex]] = defaultdict(list)
    for i in catalog.indexes:
        by_table_idx[(i.schema, i.table)].append(i)

    # -- expected constraints: satisfied, mismatch or missing
    satisfying: set[tuple[str, str, str]] = set()  # live constraints/indexes that satisfy some entry
    unsatisfied: list[ExpectedConstraint] = []
    for e in exp.constraints:
        cons = [c for c in by_table_con[(e.schema, e.table)] if _satisfies(e, c)]
        idxs = [i for i in by_table_idx[(e.schema, e.table)] if e.kind == "unique" and _index_satisfies_unique(e, i)]
        for c in cons:
            satisfying.add((c.schema, c.table, c.name))
            out.satisfied[("constraint", c.schema, c.table, c.name)].append(e)
        for i in idxs:
            satisfying.add((i.schema, i.table, i.constraint_name or i.name))
            kind = "constraint" if i.constraint_name else "index"
            out.satisfied[(kind, i.schema, i.table, i.constraint_name or i.name)].append(e)
        if not cons and not idxs:
            unsatisfied.append(e)

    for e in unsatisfied:
        cons = by_table_con[(e.schema, e.table)]
        idxs = by_table_idx[(e.schema, e.table)]
        expected_text = f"expected {e.describe()} ({src}: {e.key})"
        named = [c for c in cons if c.name == e.name]
        named_idx = [i for i in idxs if i.name == e.name and not i.constraint_name] if e.kind == "unique" else []
        if named or named_idx:
            for c in named:
                found["constraint.mismatch"].add(con_key(c))
                note_con(c, "constraint.mismatch", f"defined otherwise: {expected_text}")
            for i in named_idx:
                found["constraint.mismatch"].add(_index_key(store, i))
                note_idx(i, "constraint.mismatch", f"defined otherwise: {expected_text}")
            continue
        similar: list[LiveConstraint] = []
        similar_idx: list[LiveIndex] = []
        if e.kind == "foreign_key":
            similar = [c for c in cons if c.kind == "foreign_key" and set(c.columns) == set(e.columns)]
        elif e.kind == "primary_key":
            similar = [c for c in cons if c.kind == "primary_key"]
        elif e.kind == "check":
            similar = [c for c in cons if c.kind == "check" and set(c.columns) == set(e.columns)]
        else:  # unique: a partial or invalid unique index on the same columns
            similar_idx = [
                i for i in idxs if i.unique and i.plain_columns is not None and set(i.plain_columns) == set(e.columns)
            ]
        similar = [c for c in similar if (c.schema, c.table, c.name) not in satisfying]
        similar_idx = [i for i in similar_idx if (i.schema, i.table, i.constraint_name or i.name) not in satisfying]
        if similar or similar_idx:
            for c in similar:
                found["constraint.mismatch"].add(con_key(c))
                note_con(c, "constraint.mismatch", f"stands where {expected_text} should")
            for i in similar_idx:
                found["constraint.mismatch"].add(_index_key(store, i))
                note_idx(i, "constraint.mismatch", f"stands where {expected_text} should")
            continue
        found["constraint.missing"].add(e.key)
        out.missing.append(e)

    # -- forbidden definitions, whether constraint or unique index
    for f in exp.forbidden:
        for i in by_table_idx[(f.schema, f.table)]:
            if i.enforces_unique and set(i.plain_columns or ()) == set(f.columns):
                found["constraint.unexpected"].add(_index_key(store, i))
                msg = f"forbidden: {f.describe()} ({src})" + (f"; {f.note}" if f.note else "")
                if i.constraint_name:
                    out.notes[("constraint", i.schema, i.table, i.constraint_name)].append(
                        Note("constraint.unexpected", msg)
                    )
                else:
                    note_idx(i, "constraint.unexpected", msg)

    # -- NOT VALID foreign keys and checks
    for c in catalog.constraints:
        if c.kind in ("foreign_key", "check") and not c.validated:
            found["constraint.not_valid"].add(con_key(c))
            note_con(c, "constraint.not_valid", "NOT VALID: existing rows were never checked")

    # -- advisor lints: tables of schema public that no extension owns
    linted = {(t.schema, t.table) for t in catalog.tables if t.schema == ADVISOR_SCHEMA and not t.extension_owned}
    for t in catalog.tables:
        if (t.schema, t.table) in linted and not t.has_primary_key:
            found["advisor.no_primary_key"].add(f"{store}.{t.label}")
            out.notes[("table", t.schema, t.table, "")].append(Note("advisor.no_primary_key", "no primary key"))
    for c in catalog.constraints:
        if c.kind != "foreign_key" or (c.schema, c.table) not in linted:
            continue
        if not any(i.valid and not i.partial and _leads(i, c.columns) for i in by_table_idx[(c.schema, c.table)]):
            found["advisor.unindexed_foreign_key"].add(con_key(c))
            note_con(c, "advisor.unindexed_foreign_key", f"no index leads with ({_cols(c.columns)})")
    groups: dict[tuple[Any, ...], list[LiveIndex]] = defaultdict(list)
    for i in catalog.indexes:
        if (i.schema, i.table) in linted:
            groups[(i.schema, i.table, *i.signature)].append(i)
    for group in groups.values():
        if len(group) < 2:
            continue
        keep, *rest = sorted(group, key=lambda i: (i.constraint_name is None, i.name))
        for i in rest:
            found["advisor.duplicate_index"].add(f"{store}.{i.label}.{i.name}")
            note_idx(i, "advisor.duplicate_index", f"same definition as {keep.name}")

    # -- expected indexes (shown, not counted)
    for ei in exp.indexes:
        match = next(
            (
                i
                for i in by_table_idx[(ei.schema, ei.table)]
                if i.valid and not i.partial and tuple(i.columns[: len(ei.columns)]) == ei.columns
            ),
            None,
        )
        out.expected_indexes.append((ei, match.name if match else None))

    out.findings = {cid: sorted(found[cid]) for cid in CHECK_IDS}
    return out


# ------------------------------------------------------------------------------------ API
def constraint_findings(store: PgStore, expected: Expected) -> dict[str, list[str]]:
    """The sorted keys each of the seven constraint/advisor checks finds in one store."""
    catalog = read_catalog(store, expected.schemas(store.name))
    return analyse(catalog, expected).findings


def describe_schema(store: PgStore, expected: Expected | None = None) -> dict[str, Any]:
    """The live constraints and indexes of the schemas that matter, annotated with their drift.

    Plain JSON-able values, for the Constraints page: every live constraint and index with the
    expected entries it satisfies and the findings it counts toward, the expected constraints no
    live one satisfies, the expected indexes, and the findings themselves.
    """
    expected = expected if expected is not None else load_expected()
    catalog = read_catalog(store, expected.schemas(store.name))
    a = analyse(catalog, expected)

    def notes(key: tuple[str, str, str, str]) -> list[dict[str, str | None]]:
        return [{"check": n.check, "text": n.text} for n in a.notes.get(key, [])]

    def satisfied(key: tuple[str, str, str, str]) -> list[str]:
        return [f"{e.describe()} ({e.key})" for e in a.satisfied.get(key, [])]

    constraints = [
        {
            "schema": c.schema,
            "table": c.label,
            "name": c.name,
            "kind": c.kind,
            "definition": c.definition,
            "validated": c.validated,
            "key": f"{store.name}.{c.label}.{c.name}",
            "expected": satisfied(("constraint", c.schema, c.table, c.name)),
            "drift": notes(("constraint", c.schema, c.table, c.name)),
        }
        for c in catalog.constraints
    ]
    indexes = [
        {
            "schema": i.schema,
            "table": i.label,
            "name": i.name,
            "definition": i.definition,
            "unique": i.unique,
            "partial": i.partial,
            "primary": i.primary,
            "valid": i.valid,
            "constraint": i.constraint_name,
            "key": f"{store.name}.{i.label}.{i.name}",
            "expected": satisfied(("index", i.schema, i.table, i.name)),
            "drift": notes(("index", i.schema, i.table, i.name)),
        }
        for i in catalog.indexes
    ]
    tables = [
        {
            "schema": t.schema,
            "table": t.label,
            "has_primary_key": t.has_primary_key,
            "extension_owned": t.extension_owned,
            "drift": notes(("table", t.schema, t.table, "")),
        }
        for t in catalog.tables
    ]
    return {
        "store": store.name,
        "expected_file": str(expected.path),
        "schemas": list(catalog.schemas),
        "constraints": constraints,
        "indexes": indexes,
        "tables": tables,
        "missing": [
            {
                "key": e.key,
                "table": e.label,
                "name": e.name,
                "kind": e.kind,
                "expected": e.describe(),
                "note": e.note,
                "source": str(expected.path),
            }
            for e in a.missing
        ],
        "forbidden": [
            {
                "table": f.label,
                "definition": f.describe(),
                "known_names": list(f.names),
                "note": f.note,
                "source": str(expected.path),
            }
            for f in expected.for_store(store.name).forbidden
        ],
        "expected_indexes": [
            {
                "table": ei.label,
                "columns": list(ei.columns),
                "definition": ei.describe(),
                "present": name is not None,
                "index": name,
                "source": str(expected.path),
            }
            for ei, name in a.expected_indexes
        ],
        "findings": a.findings,
    }
