"""The three stores (plus the dashboard's own ops database, `stores.ops`), built from the configuration.

`open_stores()` is the one place that decides what each store is: in the demo, the embedded
PostgreSQL's `core` and `supabase` databases and the emulators found through the data folder
(lib.services); otherwise the configured URLs and Firebase project. A store that is not configured
is None. The ops database is always there (lib.stores.ops: OPS_DATABASE_URL, else the embedded
PostgreSQL's `ops` database).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from lib.config import Settings, load_settings
from lib.stores.core import CoreStore
from lib.stores.firebase import FirebaseStore
from lib.stores.ops import OpsStore
from lib.stores.supabase import SupabaseStore
from lib.stores.supabase_http import SupabaseHttpStore

STORE_NAMES = ("core", "supabase", "firebase")


@dataclass
class Stores:
    settings: Settings
    demo: bool
    core: CoreStore | None
    # the direct PostgreSQL connection, or the HTTP API (tables and auth admin, no SQL) without SUPABASE_DB_URL
    supabase: SupabaseStore | SupabaseHttpStore | None
    firebase: FirebaseStore | None
    # the ops database's URL when given (OPS_DATABASE_URL, the demo's); None: the embedded PostgreSQL's
    ops_url: str | None
    ops: OpsStore = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.ops = OpsStore(self.settings, self.ops_url)

    def get(self, name: str) -> Any:
        return getattr(self, name)

    def ping(self, names: tuple[str, ...] = STORE_NAMES) -> dict[str, dict[str, Any]]:
        """Ping the stores in parallel; a store that is not configured says so."""

        def one(name: str) -> dict[str, Any]:
            store = self.get(name)
            if store is None:
                return {"ok": False, "configured": False, "latency_ms": None, "version": None,
                        "error": f"{name}: not configured"}
            return {"configured": True, **store.ping()}

        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            return dict(zip(names, pool.map(one, names), strict=True))

    def dispose(self) -> None:
        for s in (self.core, self.supabase):
            if s is not None:
                s.dispose()


def open_stores(
    settings: Settings | None = None,
    *,
    start_demo: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Stores:
    """Build the adapters. In demo mode, start the demo first when `start_demo`, else require it."""
    settings = settings or load_settings()
    timeout = {"statement_timeout_ms": settings.statement_timeout_ms, "connect_timeout_s": settings.connect_timeout_s,
               "check_statement_timeout_ms": settings.check_statement_timeout_ms}
    if settings.demo:
        from lib.services import PROJECT_ID, EmbeddedServices

        services = EmbeddedServices(settings)
        if start_demo:
            services.start(progress or (lambda _: None))
        else:
            services.require_running()
        uris = services.state.raw.get("postgres", {}).get("uris", {})
        return Stores(
            settings=settings,
            demo=True,
            core=CoreStore(uris["core"], **timeout) if "core" in uris else None,
            supabase=SupabaseStore(uris["supabase"], **timeout) if "supabase" in uris else None,
            firebase=FirebaseStore(
                PROJECT_ID,
                auth_emulator_host=services.auth_host(),
                firestore_emulator_host=services.firestore_host(),
                page_size=settings.firestore_page_size,
                page_timeout_s=settings.firestore_page_timeout_s,
            ),
            ops_url=settings.ops_database_url.get_secret_value() if settings.ops_database_url else uris.get("ops"),
        )

    core = CoreStore(settings.core_database_url.get_secret_value(), **timeout) if settings.core_database_url else None
    supabase: SupabaseStore | SupabaseHttpStore | None = None
    if settings.supabase_db_url:
        supabase = SupabaseStore(settings.supabase_db_url.get_secret_value(), **timeout)
    elif settings.supabase_url and settings.supabase_service_role_key:
        supabase = SupabaseHttpStore(
            settings.supabase_url,
            settings.supabase_service_role_key.get_secret_value(),
            timeout=settings.statement_timeout_ms / 1000,
            connect_timeout_s=settings.connect_timeout_s,
        )
    firebase = None
    if settings.firebase_configured:
        assert settings.firebase_project_id is not None
        firebase = FirebaseStore(
            settings.firebase_project_id,
            credentials_file=str(settings.google_application_credentials) if settings.google_application_credentials else None,
            auth_emulator_host=settings.firebase_auth_emulator_host,
            firestore_emulator_host=settings.firestore_emulator_host,
            page_size=settings.firestore_page_size,
            page_timeout_s=settings.firestore_page_timeout_s,
        )
    ops_url = settings.ops_database_url.get_secret_value() if settings.ops_database_url else None
    return Stores(settings=settings, demo=False, core=core, supabase=supabase, firebase=firebase, ops_url=ops_url)
