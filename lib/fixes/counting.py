"""Counting inside the fix's transaction: `_Probe` counts checks (their SQL files, or the catalog
analysis of lib.checks.constraints) and runs post and `each` queries on the fix's own connection,
so "after" sees the uncommitted change."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Connection, text

from lib.checks.registry import REGISTRY
from lib.fixes.files import Fix, Term
from lib.fixes.results import Violation
from lib.sqlfiles import load
from lib.stores import Stores
from lib.stores.postgres import PgStore


class _TxStore:
    """A PgStore look-alike for read_catalog: its read() yields the fix's own connection."""

    def __init__(self, name: str, conn: Connection) -> None:
        self.name = name
        self._conn = conn

    @contextmanager
    def read(self, timeout_ms: int | None = None) -> Iterator[Connection]:
        yield self._conn


POST_EXISTS = "SELECT EXISTS (SELECT 1 FROM ({sql}) AS post)"


class _Probe:
    """Counts checks on one store through one connection (the fix's transaction, or a read-only
    one for the status); the catalog analysis is read once until `forget()`. `known` (the status
    only, never a fix's transaction) holds SQL checks' complete keys from a check run: those are
    taken from it instead of being counted again."""

    def __init__(self, store: str, conn: Connection, stores: Stores,
                 known: Mapping[str, list[str]] | None = None) -> None:
        self.store, self.conn, self.stores = store, conn, stores
        self._keys: dict[str, list[str]] = {}
        self._known = dict(known or {})
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
        if check_id not in self._keys and check_id in self._known:
            self._keys[check_id] = sorted(self._known[check_id])
        if check_id not in self._keys:
            assert c.sql is not None
            params = c.params(self.stores.settings) if c.params else {}
            self._keys[check_id] = sorted(str(r[0]) for r in self.conn.execute(text(load(c.sql).text), params))
        return self._keys[check_id]

    def known_violations(self, row: Mapping[str, Any]) -> list[str] | None:
        """The sorted keys of the rows violating the NOT VALID foreign key `row` (a listing row of
        validate_constraints) when the held run has a check of this store declared to name exactly
        those rows (CheckInfo.fk_rows, the same shape and key column); None otherwise."""
        if row.get("kind") != "foreign_key" or row.get("schema_name") != "public" or row.get("ref_schema") != "public":
            return None
        for cid in self._known:
            c = REGISTRY.get(cid)
            fk = c.info.fk_rows if c is not None else None
            if (fk is None or c is None or c.store != self.store or fk.table != row.get("table_name")
                    or fk.ref_table != row.get("ref_table") or fk.key != row.get("key_column")
                    or tuple(row.get("columns") or ()) != fk.columns
                    or tuple(row.get("ref_columns") or ()) != fk.ref_columns
                    or not (fk.skips_nulls or row.get("columns_not_null"))):
                continue
            return self.keys(cid)
        return None

    def rows(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in self.conn.execute(text(sql), dict(params))]

    def exists(self, sql: str, params: Mapping[str, Any]) -> bool:
        """Whether the query returns a row: the database stops at the first (a post query of the
        status, which only asks "does the post-condition fail?")."""
        wrapped = POST_EXISTS.format(sql=sql.strip().rstrip(";"))  # a reviewed fix file's own query
        return bool(self.conn.execute(text(wrapped), dict(params)).scalar())


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


def _violations(fix: Fix, probe: _Probe, params: dict[str, Any],
                cap: int | None = None) -> tuple[list[dict[str, Any]], list[Violation]]:
    """For an `each` fix: the objects it lists, and those with rows standing in the way (how many,
    and the first VIOLATION_SAMPLE keys in code-point order, counted and picked by the database:
    a constraint can have a million violating rows). With `cap`, the database stops at the first
    cap + 1 violating rows: a count of cap + 1 means "more than cap" (the sample is then the
    first keys of those rows)."""
    listed = _listed(fix, probe, params)
    found: list[Violation] = []
    for row in listed:
        same = probe.known_violations(row)
        if same is not None:  # a held run's check names exactly these rows: its keys, no query
            if same:
                found.append(Violation(row["key"], str(row.get("definition") or ""), len(same), same[:VIOLATION_SAMPLE]))
            continue
        sql = row["violations_sql"] if cap is None else VIOLATIONS_CAP.format(sql=row["violations_sql"], n=int(cap) + 1)
        got = _raw(probe.conn, VIOLATIONS_WRAP.format(sql=sql, n=VIOLATION_SAMPLE)).fetchall()
        if got:
            found.append(Violation(row["key"], str(row.get("definition") or ""), int(got[0][0]),
                                   [str(r[1]) for r in got]))
    return listed, found


VIOLATION_SAMPLE = 20
# The generated violation query (one `key` column, no parameters) as a subquery: the total beside
# each of the first keys. COLLATE "C" orders as Python orders str.
VIOLATIONS_WRAP = ('SELECT count(*) OVER () AS total, v.key FROM ({sql}) AS v '
                   'ORDER BY v.key::text COLLATE "C" LIMIT {n}')
VIOLATIONS_CAP = "SELECT c.key FROM ({sql}) AS c LIMIT {n}"  # the first n violating rows, whichever come first


def _raw(conn: Connection, sql: str) -> Any:
    """Run a statement the reviewed file's own query generated, on the transaction's connection,
    without client-side parameter parsing (it has no parameters)."""
    driver: Any = conn.connection.driver_connection
    cur = driver.cursor()
    cur.execute(sql.encode())
    return cur
