"""The incremental run's kept copy (lib.checks.incremental): what the last run read of each
identity part, one Arrow file per part under HEALBRIDGE_DATA_DIR/incremental/<stores>/ (mode 0600,
beside the embedded databases that hold the same data), with its watermark and last full read in
meta.json; one run at a time per copy (a file lock), the newest copy also held in memory. Also the
catalog checks' cadence: their results of the last full read, reused for INCREMENTAL_FULL_EVERY_S."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc

from lib.stores import Stores

VERSION = 1


@dataclass
class Kept:
    table: pa.Table
    watermark: str | None  # the store's clock at the start of the last read (None: Auth)
    last_full_at: str


# ---------------------------------------------------------------------- the kept copy on disk
_mem: dict[str, dict[str, Kept]] = {}
_mem_lock = threading.Lock()


def state_dir(stores: Stores) -> Path:
    s = stores.settings
    ident = [str(stores.demo), str(s.healbridge_data_dir), str(s.supabase_url), str(s.firebase_project_id),
             str(s.firebase_auth_emulator_host), str(s.firestore_emulator_host), str(s.google_application_credentials)]
    ident += [v.get_secret_value() if v is not None else "" for v in (s.core_database_url, s.supabase_db_url)]
    digest = hashlib.sha256(json.dumps(ident).encode()).hexdigest()[:16]
    return Path(s.healbridge_data_dir) / "incremental" / digest


@contextlib.contextmanager
def locked(d: Path) -> Iterator[None]:
    """One incremental run at a time per kept copy (the watcher and a command line may overlap)."""
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(d / "lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_meta(d: Path) -> dict[str, Any]:
    try:
        meta: dict[str, Any] = json.loads((d / "meta.json").read_text())
    except (OSError, ValueError):
        return {}
    return meta if meta.get("version") == VERSION else {}


def write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def load_kept(d: Path) -> dict[str, Kept]:
    key = str(d)
    meta = read_meta(d)
    parts = meta.get("parts", {})
    with _mem_lock:
        mem = _mem.get(key)
    if mem is not None and {p: (k.watermark, k.last_full_at) for p, k in mem.items()} == {
            p: (v["watermark"], v["last_full_at"]) for p, v in parts.items()}:
        return dict(mem)
    out: dict[str, Kept] = {}
    for p, v in parts.items():
        try:
            with pa.memory_map(str(d / f"{p}.arrow")) as src:
                table = ipc.open_file(src).read_all()
        except (OSError, pa.ArrowInvalid):
            continue
        out[p] = Kept(table, v["watermark"], v["last_full_at"])
    return out


def save_kept(d: Path, kept: dict[str, Kept], changed: set[str], extra: dict[str, Any]) -> None:
    for p, k in kept.items():
        if p not in changed:
            continue
        sink = pa.BufferOutputStream()
        with ipc.new_file(sink, k.table.schema) as w:
            w.write_table(k.table)
        write(d / f"{p}.arrow", sink.getvalue().to_pybytes())
    meta = {"version": VERSION, **extra,
            "parts": {p: {"watermark": k.watermark, "last_full_at": k.last_full_at} for p, k in kept.items()}}
    write(d / "meta.json", json.dumps(meta).encode())
    with _mem_lock:
        _mem[str(d)] = dict(kept)


def forget(stores: Stores) -> None:
    """Drop the kept copy (the data under it was replaced, e.g. the demo refilled): the next
    incremental run reads everything in full."""
    d = state_dir(stores)
    with _mem_lock:
        _mem.pop(str(d), None)
    with contextlib.suppress(OSError):
        (d / "meta.json").unlink()


# ---------------------------------------------------------------------- the catalog checks' cadence
def reused_constraints(stores: Stores) -> tuple[str, dict[str, dict[str, Any]]] | None:
    """The catalog checks' results of their last full read, if younger than INCREMENTAL_FULL_EVERY_S."""
    got = read_meta(state_dir(stores)).get("constraints")
    if not got or age_s(got["at"]) > stores.settings.incremental_full_every_s:
        return None
    return got["at"], got["results"]


def save_constraints(stores: Stores, at: datetime, results: dict[str, dict[str, Any]]) -> None:
    d = state_dir(stores)
    with locked(d):
        meta = read_meta(d) or {"version": VERSION, "parts": {}}
        meta["constraints"] = {"at": iso(at), "results": results}
        write(d / "meta.json", json.dumps(meta).encode())


# ---------------------------------------------------------------------- time
def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat()


def now_iso() -> str:
    return iso(datetime.now(UTC))


def age_s(iso: str) -> float:
    return (datetime.now(UTC) - datetime.fromisoformat(iso)).total_seconds()
