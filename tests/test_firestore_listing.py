"""The Firestore listing (every `patients/{uid}` document) is read in pages ordered by document id,
each page with its own deadline and an explicit retry, resuming after the last id; an error that
remains names its real cause. On the real Firestore emulator; the transient fault is a real one (a
TCP relay in front of the emulator that holds the answer of one page past its deadline)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from lib.errors import StoreUnavailable
from lib.stores.firebase import PROFILES, FirebaseStore

ROOT = Path(__file__).resolve().parent.parent


def _store(stores: Any, *, host: str | None = None, **kw: Any) -> FirebaseStore:
    fb = stores.firebase
    return FirebaseStore(fb.project_id, auth_emulator_host=fb.auth_emulator_host,
                         firestore_emulator_host=host or fb.firestore_emulator_host, **kw)


def _ids_in_the_emulator(stores: Any) -> list[str]:
    """The collection's document ids as the emulator lists them (list_documents, not our listing)."""
    return sorted(ref.id for ref in stores.firebase.db.collection(PROFILES).list_documents())


def test_a_paged_listing_returns_exactly_the_documents(stores: Any) -> None:
    expected = _ids_in_the_emulator(stores)
    assert len(expected) > 100
    whole = [r["uid"] for r in _store(stores, page_size=10_000).iter_profiles(["email"])]
    for size in (1, 7, 100, len(expected), len(expected) + 1):
        paged = list(_store(stores, page_size=size).iter_profiles(["email", "phone"]))
        ids = [r["uid"] for r in paged]
        assert ids == sorted(ids) and len(ids) == len(set(ids)), size  # in id order, none twice
        assert ids == expected == sorted(whole), size
    # the fields come along
    by = {r["uid"]: r for r in _store(stores, page_size=7).iter_profiles(["email"])}
    some = expected[len(expected) // 2]
    assert by[some].get("email") == (stores.firebase.db.collection(PROFILES).document(some).get().to_dict() or {}).get(
        "email")


def test_a_page_past_its_deadline_names_the_real_cause(stores: Any) -> None:
    store = _store(stores, page_size=50, page_timeout_s=0.001)
    with pytest.raises(StoreUnavailable) as err:
        list(store.iter_profiles(["email"]))
    message = str(err.value)
    assert "\n" not in message and "_retry" not in message and "AttributeError" not in message, message
    assert message.startswith("firebase firestore:") and "deadline" in message, message
    assert "FIRESTORE_PAGE_TIMEOUT_S" in message and "FIRESTORE_PAGE_SIZE" in message, message


def test_a_check_run_with_a_page_deadline_too_small(demo: Any) -> None:
    demo.ensure()
    proc = subprocess.run([sys.executable, "-m", "lib", "check", "--json", "--only", "sync.profile_missing"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "FIRESTORE_PAGE_TIMEOUT_S": "0.001"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    finding = json.loads(proc.stdout)["findings"][0]
    assert finding["count"] is None and "deadline" in finding["error"], finding
    assert "FIRESTORE_PAGE_TIMEOUT_S" in finding["error"] and "_retry" not in finding["error"], finding
    # with the default deadline the same run counts
    ok = subprocess.run([sys.executable, "-m", "lib", "check", "--json", "--only", "sync.profile_missing"],
                        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert json.loads(ok.stdout)["findings"][0]["count"] == demo.manifest["planted"]["sync.profile_missing"]["count"]


class _HoldingRelay:
    """A TCP relay to the emulator whose answers can be held back for a while (a slow network)."""

    def __init__(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.hold_until = 0.0
        self.socks: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def hold(self, seconds: float) -> None:
        self.hold_until = time.monotonic() + seconds

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.socks += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, answers: bool) -> None:
        try:
            while data := src.recv(65536):
                while answers and time.monotonic() < self.hold_until:
                    time.sleep(0.01)
                dst.sendall(data)
        except OSError:
            pass

    def close(self) -> None:
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass


def test_a_page_that_misses_its_deadline_once_is_retried_from_the_last_id(stores: Any) -> None:
    expected = _ids_in_the_emulator(stores)
    relay = _HoldingRelay(stores.firebase.firestore_emulator_host)
    try:
        store = _store(stores, host=f"127.0.0.1:{relay.port}", page_size=50, page_timeout_s=1.0)
        rows = store.iter_profiles(["email"])
        first = [next(rows)["uid"] for _ in range(50)]  # the first page, whole
        relay.hold(1.3)  # the next page's answer arrives after its 1 s deadline: once
        t0 = time.perf_counter()
        rest = [r["uid"] for r in rows]
        waited = time.perf_counter() - t0
    finally:
        relay.close()
    assert first + rest == expected  # nothing lost, nothing twice
    assert waited >= 1.0  # the held page did miss its deadline, and the listing went on


def test_the_incremental_runs_reads_are_asked_again_after_a_missed_deadline(stores: Any) -> None:
    """The incremental run's by-id reads (in batches of page_size), its count and its delta query
    take the page deadline and are asked again after a transient error, as a listing page is; a
    lookup's by-id read (not persistent) is one batched read, and both give the same documents."""
    expected = _ids_in_the_emulator(stores)
    some = expected[::7][:60]
    relay = _HoldingRelay(stores.firebase.firestore_emulator_host)
    try:
        store = _store(stores, host=f"127.0.0.1:{relay.port}", page_size=25, page_timeout_s=1.0)
        plain = store.get_profiles(some + ["no-such-uid"])
        assert sorted(plain) == sorted(some)  # a missing document is left out
        for read in (lambda: store.get_profiles(some + ["no-such-uid"], persistent=True),
                     lambda: store.count_profiles(1.0, persistent=True),
                     lambda: store.profiles_since("0000", ["email"])):
            relay.hold(1.3)  # the first answer comes after its 1 s deadline: asked again
            t0 = time.perf_counter()
            got = read()
            assert time.perf_counter() - t0 >= 1.0
            if isinstance(got, dict):
                assert got == plain  # three batches of 25, the same documents
            elif isinstance(got, int):
                assert got == len(expected)
            else:
                since = sorted(u for u in got["uid"].to_pylist())
                assert set(since) <= set(expected) and since  # the demo's profiles have an updated_at
        # past PAGE_ATTEMPTS misses, one sentence naming the deadline and the setting
        stuck = _store(stores, page_size=25, page_timeout_s=0.0001)
        with pytest.raises(StoreUnavailable) as err:
            stuck.get_profiles(some, persistent=True)
        assert "deadline" in str(err.value) and "FIRESTORE_PAGE_TIMEOUT_S" in str(err.value)
        assert "\n" not in str(err.value)
    finally:
        relay.close()
