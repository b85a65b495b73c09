"""Every SQL file of sql/, checked as aiosql checks its named statements: the header (lib.sqlfiles)
says what the file does, the store it runs on and its parameters; the parameters it declares are
exactly the binds of its body, the store it declares is the one it is loaded for, and some code
path of lib/ loads it (a `load("folder/name")` string, a check entry, the fix runner's folder or a
computed name such as `f"bench/fill_{store}_{table}"`). No database needed: this reads files."""

from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

import pytest

from lib.checks.registry import REGISTRY
from lib.sqlfiles import SQL_DIR, load

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(p.relative_to(SQL_DIR).with_suffix("").as_posix() for p in SQL_DIR.rglob("*.sql"))
STORES = ("core", "supabase", "ops", "engine")  # engine: the check run's DuckDB (lib.checks.engine)
# folders whose files run on one store, named by the folder
STORE_FOLDERS = {"core": "core", "supabase": "supabase", "ops": "ops", "engine": "engine"}
# folders whose files run on each PostgreSQL store the caller passes (catalog reads, the fix
# runner's own statements, the adapters' table probe)
BOTH = {"catalog", "fixrunner", "stores"}
# the adapters: a file they load runs on their store
ADAPTERS = {"lib/stores/core.py": "core", "lib/stores/supabase.py": "supabase"}

_BIND = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")  # :name, not ::cast, not a:b inside words
_PYFORMAT = re.compile(r"%\(([A-Za-z_]\w*)\)s")
_DUCKDB = re.compile(r"(?<![\w$])\$([A-Za-z_]\w*)(?![\w$])")  # DuckDB's $name (sql/engine/), not $1, not $tag$
_STRING = re.compile(r"'(?:[^']|'')*'")
_DOLLAR = re.compile(r"\$(\w*)\$.*?\$\1\$", re.S)
_COMMENT = re.compile(r"--[^\n]*")


def _declared(header: dict[str, str]) -> set[str]:
    value = header.get("params", "")
    return set(_BIND.findall(value)) | set(_PYFORMAT.findall(value)) | set(_DUCKDB.findall(value))


def _body(text: str) -> str:
    lines = text.splitlines()
    n = next((i for i, line in enumerate(lines) if not line.startswith("--")), len(lines))
    body = "\n".join(lines[n:])
    body = _DOLLAR.sub(" ", body)
    body = _STRING.sub(" ", body)
    return _COMMENT.sub(" ", body)


def _binds(text: str) -> set[str]:
    body = _body(text)
    return set(_BIND.findall(body)) | set(_PYFORMAT.findall(body)) | set(_DUCKDB.findall(body))


def _declared_stores(header: dict[str, str]) -> set[str]:
    value = header.get("store", "").split("(", 1)[0]
    return {w for w in re.split(r"[\s,]+|\band\b", value) if w in STORES}


def _sources() -> dict[str, list[str]]:
    """lib/'s SQL names, by module: every string constant that is `folder/name` of a folder of sql/,
    and every f-string that could be (as a glob: `f"bench/fill_{s}_{t}"` is `bench/fill_*_*`)."""
    folders = {p.name for p in SQL_DIR.iterdir() if p.is_dir()}
    name = re.compile(r"([a-z]+)/[a-z0-9_*]+")
    out: dict[str, list[str]] = {}
    for path in sorted((ROOT / "lib").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parts = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
        found: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                value = "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "*"
                                for v in node.values)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in parts:
                value = node.value
            else:
                continue
            m = name.fullmatch(value)
            if m and m.group(1) in folders:
                found.append(value)
        found.extend(_ops_names(tree))
        out[rel] = found
    return out


OPS_METHODS = {"rows", "scalar", "execute"}  # lib.stores.ops.OpsStore: a statement of sql/ops by its bare name
OPS_FUNCTIONS = {"run", "ops_run"}  # lib.stores.ops.run(conn, name, …), as imported by its callers


def _ops_names(tree: ast.AST) -> list[str]:
    """The sql/ops statements the ops adapter is asked for by name: `stores.ops.rows("list_runs")`,
    `run(conn, "audit_insert")` (lib.stores.ops.run)."""
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f, arg = node.func, None
        if isinstance(f, ast.Attribute) and f.attr in OPS_METHODS and isinstance(f.value, ast.Attribute) \
                and f.value.attr == "ops" and node.args:
            arg = node.args[0]
        elif isinstance(f, ast.Name) and f.id in OPS_FUNCTIONS and len(node.args) >= 2:
            arg = node.args[1]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            out.append(f"ops/{arg.value}")
    return out


SOURCES = _sources()
CHECK_SQL = {c.sql: c for c in REGISTRY.values() if c.sql}


def _loaders(name: str) -> list[str]:
    """Where lib/ names the file `name` (module paths), or the mechanism that lists it."""
    where = [mod for mod, strings in SOURCES.items()
             if any(s == name or ("*" in s and fnmatch.fnmatchcase(name, s)) for s in strings)]
    if name in CHECK_SQL:
        where.append(f"lib/checks/ids.py ({CHECK_SQL[name].id})")
    if name == "ops/schema":
        where.append("lib/stores/ops.py (the schema, created once per process)")
    if name.startswith("fixes/"):
        where.append("lib/fixes/ (list_fixes: every file of sql/fixes)")
    return where


@pytest.mark.parametrize("name", FILES)
def test_the_header_says_what_where_and_with_which_parameters(name: str) -> None:
    f = load(name)
    missing = [k for k in ("what", "store", "params") if not f.header.get(k)]
    assert not missing, f"sql/{name}.sql: the header has no {', '.join(f'`{k}:`' for k in missing)} line"


@pytest.mark.parametrize("name", FILES)
def test_declared_parameters_are_the_binds(name: str) -> None:
    f = load(name)
    declared, used = _declared(f.header), _binds(f.text)
    assert declared == used, (f"sql/{name}.sql: `params:` declares {sorted(declared) or 'none'} but the body "
                              f"binds {sorted(used) or 'none'}")


@pytest.mark.parametrize("name", FILES)
def test_the_declared_store_is_where_it_runs(name: str) -> None:
    f = load(name)
    declared = _declared_stores(f.header)
    folder, _, stem = name.partition("/")
    assert declared, f"sql/{name}.sql: `store:` names none of {', '.join(STORES)}"
    if folder in STORE_FOLDERS:
        expected = {STORE_FOLDERS[folder]}
    elif name in CHECK_SQL:
        expected = {str(CHECK_SQL[name].store)}
    elif folder in BOTH:
        expected = {"core", "supabase"}
    elif folder == "fixes":
        expected = declared & {"core", "supabase"}  # lib.fixes checks the rest (FIX_STORES)
    else:  # snapshot, demo, bench: the store its name says, else one or both PostgreSQL stores
        named = {s for s in ("core", "supabase") if s in stem.split("_")}
        expected = named or (declared & {"core", "supabase"})
    assert declared == expected, f"sql/{name}.sql: `store:` says {sorted(declared)}, it runs on {sorted(expected)}"
    for module, store in ADAPTERS.items():
        if name in SOURCES[module]:
            assert declared == {store}, f"sql/{name}.sql: `store:` says {sorted(declared)}, {module} runs it on {store}"


@pytest.mark.parametrize("name", FILES)
def test_every_file_is_loaded_by_some_code_path(name: str) -> None:
    assert _loaders(name), (f"sql/{name}.sql: nothing in lib/ loads it (no load({name!r}), no check entry, no "
                            "folder listing): remove it, or load it where it is used")


def test_every_name_lib_loads_is_a_file() -> None:
    """The other way round: a `load("folder/name")` string of lib/ names an existing file, and a
    computed name matches at least one."""
    missing = sorted({s for strings in SOURCES.values() for s in strings
                      if not any(fnmatch.fnmatchcase(f, s) for f in FILES)})
    assert missing == [], f"lib/ names SQL files that do not exist: {missing}"


def test_the_parser_sees_binds_and_casts_apart() -> None:
    assert _binds("-- what: x\nSELECT :a::text, b::int, ':c', %(d)s -- :e\n") == {"a", "d"}
    assert _binds("-- what: x\nSELECT $1, $limit, '$f' FROM t LIMIT $n\n") == {"limit", "n"}
    assert _declared({"params": ":a (text), :b (int); key: the id"}) == {"a", "b"}
    assert _declared({"params": "none"}) == set()
