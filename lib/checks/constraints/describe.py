"""The Constraints page's view of one store: every live constraint, index and table of the schemas
that matter, annotated with the expected entries it satisfies and the drift it counts toward, as
plain JSON-able values."""

from __future__ import annotations

from typing import Any

from lib.checks.constraints.catalog import read_catalog
from lib.checks.constraints.compare import analyse
from lib.checks.constraints.expected import Expected, load_expected
from lib.stores.postgres import PgStore


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

