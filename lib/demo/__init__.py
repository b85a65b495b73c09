"""`python -m lib demo`: start the demo stores, fill them with generated data, write the manifest.

The services themselves (the embedded PostgreSQL, the emulators, the data folder's start lock) are
lib.services'; this package holds only the demo's own job: generate (lib.demo.generate), fill,
the manifest, and the server's start of it (lib.demo.starter)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from firebase_admin import auth

from lib.config import Settings
from lib.demo.generate import CORE_COLUMNS, SUPABASE_COLUMNS, DemoData, build
from lib.errors import OpsError
from lib.services import DATABASES, EmbeddedServices, start_lock
from lib.sqlfiles import load
from lib.stores import Stores, open_stores
from lib.stores.postgres import bulk_load

MANIFEST = "manifest.json"


def manifest_path(settings: Settings) -> Path:
    return settings.healbridge_data_dir.resolve() / MANIFEST


def read_manifest(settings: Settings) -> dict[str, Any] | None:
    p = manifest_path(settings)
    return json.loads(p.read_text()) if p.is_file() else None


def is_filled(stores: Stores) -> bool:
    assert stores.core is not None
    return bool(stores.core.scalar("demo/is_filled")) and read_manifest(
        stores.settings
    ) is not None


def load_data(stores: Stores, data: DemoData, progress: Callable[[str], None]) -> None:
    """Write a generated data set into empty demo stores (schema first, constraints after)."""
    assert stores.core is not None and stores.supabase is not None and stores.firebase is not None
    progress(f"Loading core PostgreSQL ({sum(len(r) for r in data.core.values()):,} rows)")
    bulk_load(
        stores.core._url,
        {t: (CORE_COLUMNS[t], rows) for t, rows in data.core.items()},
        before=load("demo/core_schema").text,
        after=load("demo/core_constraints_clean" if data.clean else "demo/core_constraints").text
        + "\n" + load("demo/lookup_indexes_core").text,  # the recommended lookup indexes (lib.patient.indexes)
        identity_tables=("sync_jobs",),
    )
    progress(f"Loading Supabase ({sum(len(r) for r in data.supabase.values()):,} rows)")
    bulk_load(
        stores.supabase._url,
        {t: (SUPABASE_COLUMNS[t], rows) for t, rows in data.supabase.items()},
        before=load("demo/supabase_schema").text,
        after=(load("demo/supabase_constraints_clean").text + "\n" if data.clean else "")
        + load("demo/lookup_indexes_supabase").text,
        identity_tables=("public.rag_chunks",),
    )
    progress(f"Loading Firebase Auth ({len(data.firebase_users):,} users) and Firestore ({len(data.firestore):,} profiles)")
    stores.firebase.wipe_emulators()
    from lib.checks.kept import forget
    from lib.checks.sync import forget_firebase_listings

    forget_firebase_listings()
    forget(stores)  # the incremental run's kept copy is of the data just replaced
    stores.firebase.import_users(
        [
            auth.ImportUserRecord(
                uid=u["uid"],
                email=u["email"],
                phone_number=u["phone"],
                display_name=u["display_name"],
                email_verified=u["email_verified"],
                custom_claims=u["claims"],
                disabled=bool(u.get("disabled")),
                user_metadata=auth.UserMetadata(last_sign_in_timestamp=int(u["last_sign_in"].timestamp() * 1000))
                if u.get("last_sign_in") else None,
            )
            for u in data.firebase_users
        ]
    )
    stores.firebase.write_profiles(data.firestore)


def run_demo(
    settings: Settings,
    *,
    patients: int = 2000,
    seed: int = 7,
    reset: bool = False,
    clean: bool = False,
    manifest: Path | None = None,
    anchor: datetime | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Start the demo stores if needed, fill them when empty or on `reset`, return the manifest with
    `kept` (true: the stores already held a demo, left as it was, whatever `patients`, `seed` and
    `clean` asked) and `refilled_as_before` (true: an emulator had stopped, so every store was
    filled again with the previous demo's patients, seed and kind)."""
    if not settings.demo:
        raise OpsError("The demo runs only when no store is configured; unset the store settings first.")
    # one start and fill of a data folder at a time, across processes (the dashboard's own start,
    # `python -m lib demo`, the tests): the second one waits, then finds the demo ready
    with start_lock(settings.healbridge_data_dir):
        return _run_demo_locked(settings, patients=patients, seed=seed, reset=reset, clean=clean, manifest=manifest,
                                anchor=anchor, progress=progress)


def _run_demo_locked(settings: Settings, *, patients: int, seed: int, reset: bool, clean: bool,
                     manifest: Path | None, anchor: datetime | None, progress: Callable[[str], None]) -> dict[str, Any]:
    before = EmbeddedServices(settings).running()
    stores = open_stores(settings, start_demo=True, progress=progress)
    try:
        previous = read_manifest(settings)
        # The emulators keep nothing once stopped: when one had to start, the data set is rebuilt
        # in every store (the same N, seed and kind as before) to keep the stores consistent.
        emulators_fresh = not (before["auth"] and before["firestore"])
        as_before = bool(previous and emulators_fresh and not reset)
        if previous and as_before:
            patients, seed, clean = previous["patients"], previous["seed"], previous["clean"]
        fill = reset or emulators_fresh or not is_filled(stores)
        if fill:
            progress(f"Generating {patients:,} patients (seed {seed}{', clean' if clean else ''})")
            data = build(patients, seed, clean, anchor)
            stores.dispose()
            EmbeddedServices(settings).recreate_databases(DATABASES)
            load_data(stores, data, progress)
            manifest_path(settings).write_text(json.dumps(data.manifest(), indent=1))
            # the weekly review's history: four weekly runs and one a day over the last two weeks before
            # now (pulse.count_anomaly's baseline), marked generated (lib.review),
            # in place of the previous ones; the ops database itself (audit tables) is never dropped
            from lib.review import write_generated_history

            progress("Writing four weeks of generated check history")
            write_generated_history(stores, data.manifest())
        man = read_manifest(settings)
        assert man is not None
        if manifest:
            manifest.write_text(json.dumps(man, indent=1))
        progress("Demo ready")
        return {**man, "kept": not fill, "refilled_as_before": fill and as_before}
    finally:
        stores.dispose()
