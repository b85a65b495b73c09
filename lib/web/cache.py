"""The cached reads of the pages: one error convention and one registry.

- `Read`: what every read hands a page: `.value`, or `.error` (one sentence, secrets removed).
  A page picks what an error means there: `.or_stop()` (the page cannot go on), `.or_show(default)`
  (said, and the page goes on with `default`), or `.value` (None: the page goes on without it).
- `cached(ttl=…, groups=(…))`: st.cache_data around a read, registered under its groups. Calling
  it returns a Read; an exception becomes the Read's error and is never cached (the next run asks
  again), and so is a result wrapped in `Uncached` (a store was down: asked again next run).
- `clear(*groups)`: forget what every read registered under one of `groups` holds.
- `derived(run, name, build)`: what a page derives from a check run (its frames, the run as a role
  sees it), built once per run object and name for the whole server and shared, not copied: the
  run is immutable, so is what is built from it; a new run gets new entries (the last few runs kept).

Groups: "stores" (pings, row counts), "monitor" (what is built on the check run and the history;
cleared by Run checks now), "fix" (every read built on the stores' data; cleared after an apply),
"audit" (the fixes' audit log; cleared after a plan), "acks" (acknowledgements), "patient",
"alerts" (the watcher's heartbeat, the alert log, open checks, maintenance windows, channels;
cleared after a test alert or a maintenance window started or ended).
st.cache_data appears nowhere else in lib.web (tests/test_web_cache_registry.py).
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import streamlit as st

from lib.errors import safe_message
from lib.web.frame import known_secrets, plain

T = TypeVar("T")
U = TypeVar("U")

PING_TTL_S = 5  # every page shows a store's state from this one ping: they agree within these seconds
REFRESH_SECONDS = 60  # how old the latest run may get before the server starts the next one (lib.checks.latest)
GROUPS = frozenset({"stores", "monitor", "fix", "audit", "acks", "patient", "alerts"})

_ICONS = {"error": ":material/error:", "warning": ":material/warning:", "info": ":material/info:"}


@dataclass(frozen=True)
class Read(Generic[T]):
    """The result of a read: its value, or why there is none (one sentence, secrets removed)."""

    value: T | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def map(self, fn: Callable[[T], U]) -> Read[U]:
        """fn(value) when there is one (masking, a last touch); the error as it is otherwise."""
        return Read(fn(self.value)) if self.error is None else Read(error=self.error)  # type: ignore[arg-type]

    def show(self, kind: str = "error", lead: str = "", icon: str | None = None) -> None:
        """Draw the error (nothing when there is none): `lead` is the page's own words before it."""
        if self.error is not None:
            draw = {"error": st.error, "warning": st.warning, "info": st.info}[kind]
            draw(lead + plain(self.error), icon=icon or _ICONS[kind])

    def or_show(self, default: U, kind: str = "error", lead: str = "", icon: str | None = None) -> T | U:
        """The value; or the error drawn and `default` (the page goes on without it)."""
        if self.error is None:
            return self.value  # type: ignore[return-value]
        self.show(kind, lead, icon)
        return default

    def or_stop(self, kind: str = "error", lead: str = "", icon: str | None = None) -> T:
        """The value; or the error drawn and the page run ended here."""
        if self.error is None:
            return self.value  # type: ignore[return-value]
        self.show(kind, lead, icon)
        st.stop()
        raise AssertionError("unreachable")  # st.stop() raises


def failed(exc: BaseException) -> Read[Any]:
    """A Read of the error `exc`: one sentence, every known secret removed."""
    return Read(error=safe_message(exc, known_secrets()))


class Uncached(Exception):
    """Raised out of a cached read to hand back a result without caching it (a store was down:
    the next run asks again, so a store that is back is seen at once)."""

    def __init__(self, value: Any) -> None:
        super().__init__("uncached")
        self.value = value


class CachedRead(Generic[T]):
    """A registered cached read: calling it returns a Read (see the module's docstring)."""

    def __init__(self, fn: Callable[..., T], ttl: float, groups: Iterable[str], options: dict[str, Any]) -> None:
        unknown = set(groups) - GROUPS
        if unknown:
            raise ValueError(f"unknown cache group(s) {sorted(unknown)}: add them to lib.web.cache.GROUPS")
        self.name = f"{fn.__module__}.{fn.__qualname__}"
        self.groups = frozenset(groups)
        self.cache = st.cache_data(ttl=ttl, **options)(fn)
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Read[T]:
        try:
            return Read(self.cache(*args, **kwargs))
        except Uncached as partial:
            return Read(partial.value)
        except Exception as exc:  # noqa: BLE001 - a store or the ops database down is said, not raised
            return failed(exc)

    def clear(self) -> None:
        self.cache.clear()

    def __repr__(self) -> str:
        return f"<cached read {self.name} {sorted(self.groups)}>"


REGISTRY: dict[str, CachedRead[Any]] = {}


def cached(*, ttl: float, groups: Iterable[str] = (), **options: Any) -> Callable[[Callable[..., T]], CachedRead[T]]:
    """Decorator: `fn` cached (st.cache_data, `ttl` seconds, `options` passed on) and registered
    under `groups`, so that clear(group) forgets it. Defining a read twice (a module reloaded)
    replaces the first."""
    group_list = tuple(groups)

    def wrap(fn: Callable[..., T]) -> CachedRead[T]:
        read = CachedRead(fn, ttl, group_list, options)
        REGISTRY[read.name] = read
        return read

    return wrap


def clear(*groups: str) -> None:
    """Forget what every cached read registered under one of `groups` holds."""
    unknown = set(groups) - GROUPS
    if unknown:
        raise ValueError(f"unknown cache group(s) {sorted(unknown)}")
    for read in REGISTRY.values():
        if read.groups & set(groups):
            read.clear()


def in_group(group: str) -> list[str]:
    """The names of the reads registered under `group`."""
    return sorted(name for name, read in REGISTRY.items() if group in read.groups)



# ---------------------------------------------------------------------- derived from a run
class _RunMemo:
    """{run object: {name: value}} for the last RUNS run objects (compared by identity, held here so
    that an id is never reused while its entries live)."""

    RUNS = 8

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: OrderedDict[int, tuple[Any, dict[str, Any]]] = OrderedDict()

    def get(self, run: Any, name: str, build: Callable[[], T]) -> T:
        with self._lock:
            entry = self._runs.get(id(run))
            if entry is not None and entry[0] is run and name in entry[1]:
                self._runs.move_to_end(id(run))
                return entry[1][name]
        value = build()  # outside the lock: two sessions may build the same once, never wait on each other
        with self._lock:
            entry = self._runs.get(id(run))
            if entry is None or entry[0] is not run:
                entry = (run, {})
                self._runs[id(run)] = entry
            self._runs.move_to_end(id(run))
            while len(self._runs) > self.RUNS:
                self._runs.popitem(last=False)
            return entry[1].setdefault(name, value)


@st.cache_resource(show_spinner=False)
def _run_memo() -> _RunMemo:
    return _RunMemo()


def derived(run: Any, name: str, build: Callable[[], T]) -> T:
    """`build()` once per `run` (the object) and `name`, for every session of the server; `name`
    carries whatever else the value depends on (e.g. the previous run's id). The value is shared:
    read it, never change it."""
    return _run_memo().get(run, name, build)
