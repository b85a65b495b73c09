"""Comparing a live catalog with the expected definitions of its store: the findings of the seven
constraint/advisor check ids (keys per check) and the drift notes the Constraints page shows.

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
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lib.checks.constraints.catalog import Catalog, LiveConstraint, LiveIndex, read_catalog
from lib.checks.constraints.expected import ADVISOR_SCHEMA, Expected, ExpectedConstraint, ExpectedIndex
from lib.checks.constraints.names import column_list
from lib.stores.postgres import PgStore

CHECK_IDS: tuple[str, ...] = (
    "constraint.missing",
    "constraint.unexpected",
    "constraint.mismatch",
    "constraint.not_valid",
    "advisor.unindexed_foreign_key",
    "advisor.no_primary_key",
    "advisor.duplicate_index",
)

_LITERAL = re.compile(r"'((?:[^']|'')*)'")


def check_literals(definition: str) -> frozenset[str]:
    """The quoted string literals of a CHECK definition, e.g. {'PATIENT', 'DOCTOR', 'ADMIN'}."""
    return frozenset(m.group(1).replace("''", "'") for m in _LITERAL.finditer(definition))


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
            note_con(c, "advisor.unindexed_foreign_key", f"no index leads with ({column_list(c.columns)})")
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

