"""How the patient lookup reaches the stores: the SQL stores it needs (`pg_store`, `firebase_store`,
each raising StoreUnavailable with one sentence), one task per store part run at once
(`in_parallel`: a part that fails is reported, the others still answer), and `rows` of a
project SQL file.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, text

from lib.errors import StoreUnavailable, safe_message
from lib.sqlfiles import load as load_sql
from lib.stores import Stores
from lib.stores.firebase import FirebaseStore
from lib.stores.postgres import PgStore


def pg_store(stores: Stores, part: str) -> PgStore:
    store = stores.get(part)
    if store is None:
        raise StoreUnavailable(f"{part}: not configured")
    if not isinstance(store, PgStore):
        raise StoreUnavailable(f"{part}: the patient lookup needs SQL; set SUPABASE_DB_URL (the HTTP API has none)")
    return store


def firebase_store(stores: Stores, part: str) -> FirebaseStore:
    if stores.firebase is None:
        raise StoreUnavailable(f"{part}: not configured")
    return stores.firebase


def in_parallel(stores: Stores, tasks: dict[str, Callable[[], Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """Run one task per store part at once; a part that fails is reported, the others still answer."""
    secrets = stores.settings.secret_values()

    def one(item: tuple[str, Callable[[], Any]]) -> tuple[str, Any, str | None]:
        part, fn = item
        try:
            return part, fn(), None
        except StoreUnavailable as exc:
            return part, None, safe_message(exc, secrets)
        except Exception as exc:  # noqa: BLE001 - one part failing must not sink the lookup
            return part, None, f"{part}: {safe_message(exc, secrets)}"

    results: dict[str, Any] = {}
    down: dict[str, str] = {}
    if not tasks:
        return results, down
    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        for part, value, err in pool.map(one, tasks.items()):
            if err is None:
                results[part] = value
            else:
                down[part] = err
    return results, down


def rows(conn: Connection, name: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(text(load_sql(name).text), params)]
