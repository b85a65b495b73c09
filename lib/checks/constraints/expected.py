"""The expected definitions: `lib/checks/expected_constraints.toml` (data, not code) read into
`Expected`, the constraints that must exist, the definitions that must not, and the indexes that
should. A malformed file is a ConfigError naming the entry and the key at fault.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib.checks.constraints.names import column_list, table_label
from lib.errors import ConfigError

# The data file stays in lib/checks/, beside the other check definitions, one folder above this package.
DEFAULT_EXPECTED_FILE = Path(__file__).resolve().parent.parent / "expected_constraints.toml"

STORES = ("core", "supabase")
KINDS = ("primary_key", "unique", "foreign_key", "check")
ON_DELETE_ACTIONS = ("NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT")
ADVISOR_SCHEMA = "public"  # the schema the advisor lints look at, and always one that matters

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
            return f"PRIMARY KEY ({column_list(self.columns)})"
        if self.kind == "unique":
            return f"UNIQUE ({column_list(self.columns)})"
        if self.kind == "check":
            if self.values is None:
                return f"CHECK on ({column_list(self.columns)})"
            vals = ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(self.values))
            return f"CHECK ({column_list(self.columns)} IN ({vals}))"
        ref = table_label(self.ref_schema or self.schema, self.ref_table or "")
        out = f"FOREIGN KEY ({column_list(self.columns)}) REFERENCES {ref}({column_list(self.ref_columns)})"
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
        return f"UNIQUE ({column_list(self.columns)}) under any name"


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
        return f"index ({column_list(self.columns)})"


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
    """Read an expected-constraints file (default: lib/checks/expected_constraints.toml)."""
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

