"""The frame every page runs in: the configuration, the stores, errors without secrets, the router.

- `get_settings()` / `get_stores()`: the configuration (a malformed one ends the page with its
  sentence) and the stores, opened once per configuration and shared by every session
  (`st.cache_resource`). In the demo, when the demo stores are not running (or were never filled),
  the server starts and fills them while the page shows each step (`st.status`).
- `known_secrets()` / `redact()` / `show_error()` / `fail()`: one clear sentence, secrets removed,
  never a traceback.
- `plain()`: a value that is not ours, as Markdown that renders as exactly its text.
- `stores_key()`: the cache key of everything built from the stores (a digest of the
  configuration and, in the demo, of where the stores listen), never the Stores object itself.
- `navigate()`: st.navigation, with the default page reachable by its own path too.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import Any, NoReturn

import streamlit as st
from pydantic import SecretStr

from lib import plain as _plain
from lib.config import STORE_SETTINGS, Settings, load_settings
from lib.errors import DemoNotRunning, OpsError, safe_message
from lib.stores import Stores, open_stores

STORE_LABELS = {"core": "Core PostgreSQL", "supabase": "Supabase", "firebase": "Firebase"}


# ---------------------------------------------------------------------- plain text
def plain(value: Any) -> str:
    """A value from a store (or any text that is not ours: an error, a name, a typed query) as
    Markdown that renders as exactly its text: every ASCII punctuation backslash-escaped, on one line.
    Use it wherever such a value enters an element that renders Markdown (title, subheader,
    caption, markdown, info / warning / error / success, tab and expander labels). Dataframe cells,
    st.code and st.text are plain already; plotly text goes through lib.plain.chart."""
    return _plain.markdown(value)



# ---------------------------------------------------------------------- errors
def known_secrets(settings: Settings | None = None) -> list[str]:
    """Every secret we know of: the configured ones, and the raw values of the secret settings
    (a malformed URL cannot be parsed for its password, so the whole value is removed)."""
    out: list[str] = []
    if settings is None:
        try:
            settings = load_settings()
        except Exception:  # noqa: BLE001 - a broken configuration still gets its raw values removed
            settings = None
    if settings is not None:
        out.extend(settings.secret_values())
    for name in (*STORE_SETTINGS, "OPS_DATABASE_URL"):
        raw = os.environ.get(name)
        if raw and ("URL" in name or "KEY" in name):
            out.append(raw)
    return sorted({s for s in out if s}, key=len, reverse=True)


def redact(text: str | None, settings: Settings | None = None) -> str:
    """`text` with every known secret replaced."""
    if not text:
        return ""
    for s in known_secrets(settings):
        text = text.replace(s, "•••")
    return text


def show_error(exc: BaseException, *, stop: bool = False) -> None:
    """Show `exc` as one sentence without secrets (never a traceback); `stop` ends the page run."""
    st.error(plain(safe_message(exc, known_secrets())), icon=":material/error:")
    if stop:
        st.stop()


def fail(exc: BaseException) -> NoReturn:
    show_error(exc, stop=True)
    raise AssertionError("unreachable")  # st.stop() raises


# ---------------------------------------------------------------------- settings and stores
def get_settings() -> Settings:
    """The configuration; a malformed one ends the page with its one-sentence error."""
    try:
        return load_settings()
    except OpsError as exc:
        fail(exc)


def settings_key(settings: Settings) -> str:
    """A digest of the whole configuration: the cache key of everything built from it."""
    parts = []
    for name, value in sorted(settings.model_dump().items()):
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        parts.append(f"{name}={value}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _where_key(settings: Settings, where: list[str]) -> str:
    """settings_key plus where the stores listen: in the demo an emulator that restarts comes back
    on another port, and whatever was cached for the old address must not be used again."""
    return settings_key(settings) + "-" + hashlib.sha256("|".join(where).encode()).hexdigest()[:12]


def _demo_where(settings: Settings) -> list[str]:
    """Where the demo stores listen now (demo.json); [] outside the demo."""
    if not settings.demo:
        return []
    from lib.services import EmbeddedServices

    services = EmbeddedServices(settings)
    uris = services.state.raw.get("postgres", {}).get("uris", {})
    return [str(services.auth_host()), str(services.firestore_host()), str(uris.get("core")), str(uris.get("supabase"))]


def stores_key(stores: Stores) -> str:
    if not stores.demo:
        return settings_key(stores.settings)
    fb = stores.firebase
    return _where_key(stores.settings, [str(fb and fb.auth_emulator_host), str(fb and fb.firestore_emulator_host),
                                        str(stores.core and stores.core._url), str(stores.supabase and getattr(stores.supabase, "_url", None))])


def _release(stores: Stores) -> None:
    stores.dispose()


@st.cache_resource(show_spinner="Connecting to the stores…", max_entries=4, on_release=_release)
def _open_stores(key: str, _settings: Settings) -> Stores:
    """Open the adapters; no Streamlit output here (it would be replayed on every cache hit).
    In the demo, raise DemoNotRunning when some demo store is down or the data was never loaded,
    so that get_stores() starts and fills the demo (exceptions are not cached)."""
    if _settings.demo:
        from lib.demo import read_manifest
        from lib.services import EmbeddedServices

        running = EmbeddedServices(_settings).running()
        if not all(running.values()) or read_manifest(_settings) is None:
            raise DemoNotRunning("The demo stores are not running.")
    return open_stores(_settings)


DEMO_START_TIMEOUT_S = 600.0  # a page gives up waiting (and says so) after this; the start itself goes on


def _wait_for_demo(settings: Settings) -> None:
    """The demo stores are down or empty: have the server start them (lib.demo.starter: one start
    for the whole process, owned by no session) and show its progress until it is ready. A tab
    that closes or reloads meanwhile leaves the start running; every other tab shows the same steps."""
    from lib.demo.starter import starter

    start = starter(settings)
    state = start.ensure()
    shown = 0
    with st.status("Starting the demo stores…", expanded=True) as status:
        deadline = time.monotonic() + DEMO_START_TIMEOUT_S
        while True:
            for step in state.steps[shown:]:
                status.write(step)
            shown = len(state.steps)
            if not state.running:
                break
            if time.monotonic() > deadline:
                status.update(label="The demo stores are still starting", state="running", expanded=True)
                st.info(f"Still starting after {state.elapsed_s:,.0f} s; this page looks again by itself.")
                time.sleep(2)
                st.rerun()
            state = start.wait(0.5)
        if state.error:
            status.update(label="The demo stores could not start", state="error", expanded=True)
            fail(OpsError(state.error))
        status.update(label=f"Demo stores ready ({state.elapsed_s:,.0f} s)", state="complete", expanded=False)
    from lib.checks.latest import forget_all

    forget_all()  # the data may have been refilled: no run of the old data is shown


def get_stores() -> Stores:
    """The stores for the current configuration, shared by every session.

    A configuration error, a missing tool (demo) or a demo that cannot start ends the page with
    one sentence. A store that is down is not an error here: the pages show it as down."""
    settings = get_settings()
    for _attempt in range(3):
        key = _where_key(settings, _demo_where(settings)) if settings.demo else settings_key(settings)
        try:
            return _open_stores(key, settings)
        except DemoNotRunning:
            if not settings.demo:
                raise
        except OpsError as exc:
            fail(exc)
        except Exception as exc:  # noqa: BLE001
            fail(exc)
        _wait_for_demo(settings)
    fail(OpsError("The demo stores started but do not answer; see the logs in the data folder."))


def navigate(pages: dict[str, list[Any]]) -> None:
    """Run st.navigation(pages). Streamlit serves the default page at the root only, so a link or a
    bookmark to its own url_path (e.g. /health) would say "Page not found" and redirect: that path
    is resolved to the default page first."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    default = next((p for group in pages.values() for p in group if getattr(p, "_default", False)), None)
    ctx = get_script_run_ctx()
    if default is not None and ctx is not None:
        manager = ctx.pages_manager
        own = getattr(default, "_url_path", "")
        if own and not manager.intended_page_script_hash and manager.intended_page_name == own:
            manager.set_script_intent("", "")
    st.navigation(pages).run()
