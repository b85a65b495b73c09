"""The live catalog of one PostgreSQL store: its constraints, indexes and tables in the schemas
that matter, read with `sql/catalog/*.sql` in one read-only transaction into plain dataclasses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from lib.checks.constraints.names import table_label
from lib.sqlfiles import load
from lib.stores.postgres import PgStore

CONTYPE_KIND = {"p": "primary_key", "u": "unique", "f": "foreign_key", "c": "check", "x": "exclusion"}


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

