"""The runnable checks, derived from the entries of lib.checks.ids (the only place a check is
defined): for every id, how it runs.

- `sql`: a single-store check, one file in sql/checks/ whose first column is the key, run on the
  store of the check's only part with its binds taken from the Settings. A file that takes
  `:only_keys` (`keyed`) can be asked for some keys only, through its table's own key index (the
  patient page asks for a patient's jobs and documents); every run passes NULL: every row;
- `snapshot`: a cross-store check computed from the run's Snapshot (lib.checks.sync);
- `constraints`: the catalog checks, read from each PostgreSQL store once per run
  (lib.checks.constraints) against the expected-constraints data file;
- `history`: a function of lib.checks.pulse over this run's counts and the saved check history,
  run after every other check of the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lib.checks import pulse, sync
from lib.checks.ids import CHECKS, STORE_OF_PART, CheckInfo, History, Snapshot, Sql
from lib.checks.pulse import HistoryFn
from lib.checks.sync import SnapshotFn
from lib.config import Settings
from lib.sqlfiles import load as load_sql


@dataclass(frozen=True)
class Check:
    info: CheckInfo
    kind: str  # sql | snapshot | constraints | history
    store: str | None = None  # sql: the store it runs on
    sql: str | None = None  # sql: file name under sql/
    params: Callable[[Settings], dict[str, Any]] | None = None
    parts: tuple[str, ...] = ()  # snapshot: the parts it reads
    fn: SnapshotFn | None = None
    judge: HistoryFn | None = None  # history: lib.checks.pulse's function
    keyed: bool = False  # sql: the file takes :only_keys (text[]; NULL = every row)

    @property
    def id(self) -> str:
        return self.info.id


ONLY_KEYS = "only_keys"  # the parameter of a keyed check's file


def _params(binds: tuple[tuple[str, str], ...], keyed: bool) -> Callable[[Settings], dict[str, Any]] | None:
    if not binds and not keyed:
        return None
    unknown = [field for _, field in binds if field not in Settings.model_fields]
    if unknown:
        raise RuntimeError(f"a check binds the unknown setting {unknown[0]!r}")
    every: dict[str, Any] = {ONLY_KEYS: None} if keyed else {}
    return lambda s: every | {name: getattr(s, field) for name, field in binds}


def _check(info: CheckInfo) -> Check:
    runs = info.runs
    if isinstance(runs, Sql):
        if len(info.stores) != 1:
            raise RuntimeError(f"check {info.id} runs one SQL file but reads {len(info.stores)} parts")
        keyed = f":{ONLY_KEYS}" in load_sql(runs.file).text
        return Check(info, "sql", store=STORE_OF_PART[info.stores[0]], sql=runs.file,
                     params=_params(runs.binds, keyed), keyed=keyed)
    if isinstance(runs, Snapshot):
        fn = getattr(sync, runs.fn, None)
        unknown = [p for p in runs.parts if p not in sync.PARTS]
        if not callable(fn) or unknown:
            raise RuntimeError(f"check {info.id}: lib.checks.sync has no function {runs.fn!r} or part {unknown}")
        return Check(info, "snapshot", parts=runs.parts, fn=fn)
    if isinstance(runs, History):
        judge = getattr(pulse, runs.fn, None)
        if not callable(judge):
            raise RuntimeError(f"check {info.id}: lib.checks.pulse has no function {runs.fn!r}")
        return Check(info, "history", judge=judge)
    return Check(info, "constraints")


REGISTRY: dict[str, Check] = {info.id: _check(info) for info in CHECKS}
