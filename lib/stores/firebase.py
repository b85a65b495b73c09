"""The Firebase adapter: Auth users and the Firestore `patients` collection, via firebase-admin.

Works with a service-account file or with the emulators. firebase-admin and the Firestore client
read the emulator hosts from the environment when a client is built; this module sets them only
for that moment (under a lock), so the rest of the process (and the configuration, which treats
those names as "a real store is configured") never sees them. Initialising twice is safe: apps
are named by what they point at and reused.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import firebase_admin
import pyarrow as pa
import requests
from firebase_admin import auth, credentials
from google.api_core import exceptions as gexc
from google.api_core.retry import Retry, if_transient_error
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore as gfirestore

from lib.errors import StoreUnavailable
from lib.stores import columnar

PROFILES = "patients"
PING_ID = "healbridge-ops-ping"  # the user / profile id a ping reads (by id: one round trip); it need not exist
AUTH_PAGE = 1000  # Auth lists users 1,000 a page
GET_USERS_BATCH = 100  # get_users takes 100 identifiers a call
WRITE_BATCH = 500  # Firestore batch limit
PROFILE_FIELDS = ["full_name", "email", "phone", "date_of_birth", "postgres_user_id", "updated_at"]

FIRESTORE_TIMEOUT_S = 5.0  # one Firestore read attempt; transient errors are retried for at most…
FIRESTORE_RETRY_S = 3.0  # …this long (the client's default retries a dead emulator for minutes)
# A whole collection is listed in pages ordered by document id, each page with its own deadline
# (settings FIRESTORE_PAGE_SIZE, FIRESTORE_PAGE_TIMEOUT_S); a page that fails with a transient
# error is asked again from the last id, at most PAGE_ATTEMPTS times, after PAGE_BACKOFF_S, ×2 each
# (0.5 + 1 + 2 + 4 + 8 = 15.5 s of waiting in all: on a loaded machine the emulator stops answering for
# seconds at a time, and 3.5 s of retries lost whole check runs to "cannot connect").
PAGE_SIZE = 5000
PAGE_TIMEOUT_S = 60.0
PAGE_ATTEMPTS = 6
PAGE_BACKOFF_S = 0.5
_TRANSIENT = (gexc.DeadlineExceeded, gexc.ServiceUnavailable, gexc.InternalServerError, gexc.TooManyRequests,
              gexc.ResourceExhausted, gexc.Aborted)

_env_lock = threading.Lock()
T = TypeVar("T")


def _bounded_retry() -> Retry:
    return Retry(predicate=if_transient_error, initial=0.1, maximum=1.0, multiplier=2.0, timeout=FIRESTORE_RETRY_S)


def _no_retry() -> Retry:
    """An explicit "never": the caller retries. (Left to its default retry, the client's own
    retry-after-error path of a query stream fails with AttributeError '_retry' and hides the error.)"""
    return Retry(predicate=lambda _exc: False)


@contextmanager
def _emulator_env(auth_host: str | None, firestore_host: str | None) -> Iterator[None]:
    names = {"FIREBASE_AUTH_EMULATOR_HOST": auth_host, "FIRESTORE_EMULATOR_HOST": firestore_host}
    with _env_lock:
        saved = {k: os.environ.get(k) for k in names}
        try:
            for k, v in names.items():
                if v:
                    os.environ[k] = v
                else:
                    os.environ.pop(k, None)
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


class _Anonymous(credentials.Base):
    """firebase-admin credential for the emulators (no Google metadata server)."""

    def get_credential(self) -> AnonymousCredentials:
        return AnonymousCredentials()


def _firebase_error(part: str, exc: BaseException) -> StoreUnavailable:
    text = (str(exc).strip().splitlines() or [""])[0][:300]
    if isinstance(exc, requests.exceptions.ConnectionError) or "Connection refused" in text or "Failed to establish" in text:
        text = "cannot connect (is it running and reachable?)"
    elif isinstance(exc, gexc.ServiceUnavailable | gexc.DeadlineExceeded | gexc.RetryError):
        text = "cannot connect (is it running and reachable?)"
    return StoreUnavailable(f"firebase {part}: {text or type(exc).__name__}")


class FirebaseStore:
    name = "firebase"

    def __init__(
        self,
        project_id: str,
        *,
        credentials_file: str | None = None,
        auth_emulator_host: str | None = None,
        firestore_emulator_host: str | None = None,
        timeout_s: float = 10.0,
        page_size: int = PAGE_SIZE,
        page_timeout_s: float = PAGE_TIMEOUT_S,
    ) -> None:
        self.project_id = project_id
        self.page_size = max(1, int(page_size))
        self.page_timeout_s = float(page_timeout_s)
        self.auth_emulator_host = auth_emulator_host
        self.firestore_emulator_host = firestore_emulator_host
        self.timeout_s = timeout_s
        emulated = bool(auth_emulator_host or firestore_emulator_host) and not credentials_file
        app_name = f"healbridge-ops/{project_id}/{auth_emulator_host}/{firestore_emulator_host}/{credentials_file}"
        try:
            self.app = firebase_admin.get_app(app_name)
        except ValueError:
            cred: credentials.Base = _Anonymous() if emulated or not credentials_file else credentials.Certificate(credentials_file)
            self.app = firebase_admin.initialize_app(cred, options={"projectId": project_id}, name=app_name)
        with _emulator_env(auth_emulator_host, firestore_emulator_host):
            self.auth = auth.Client(self.app)
            if firestore_emulator_host or emulated:
                self.db = gfirestore.Client(project=project_id, credentials=AnonymousCredentials())
            else:
                from firebase_admin import firestore

                self.db = firestore.client(self.app)

    # ------------------------------------------------------------------ health
    def ping(self) -> dict[str, Any]:
        parts: dict[str, dict[str, Any]] = {}
        t0 = time.perf_counter()
        try:
            try:  # by uid: one round trip (listing even one user makes the emulator sort every user: ~2 s at 100,000)
                self.auth.get_user(PING_ID)
            except auth.UserNotFoundError:
                pass  # the answer of a reachable Auth
            parts["auth"] = {"ok": True, "latency_ms": round((time.perf_counter() - t0) * 1000, 1), "error": None}
        except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
            parts["auth"] = {"ok": False, "latency_ms": None, "error": str(_firebase_error("auth", exc))}
        t1 = time.perf_counter()
        try:
            # a read by document id: one round trip whatever the collection holds (a query, even with
            # limit 1, makes the emulator scan the collection: 9-18 s at 99,000 profiles)
            self.db.collection(PROFILES).document(PING_ID).get(timeout=min(self.timeout_s, 5), retry=_no_retry())
            parts["firestore"] = {"ok": True, "latency_ms": round((time.perf_counter() - t1) * 1000, 1), "error": None}
        except Exception as exc:  # noqa: BLE001
            parts["firestore"] = {"ok": False, "latency_ms": None, "error": str(_firebase_error("firestore", exc))}
        ok = all(p["ok"] for p in parts.values())
        lat = [p["latency_ms"] for p in parts.values() if p["latency_ms"] is not None]
        kind = "emulators" if self.auth_emulator_host or self.firestore_emulator_host else "project"
        return {
            "ok": ok,
            "latency_ms": round(max(lat), 1) if ok and lat else None,
            "version": f"Firebase Auth + Firestore ({kind} {self.project_id})",
            "error": "; ".join(p["error"] for p in parts.values() if p["error"]) or None,
            "parts": parts,
        }

    # ------------------------------------------------------------------ Auth
    def iter_users(self, page_size: int = AUTH_PAGE) -> Iterator[dict[str, Any]]:
        """Every Auth user, listed once, 1,000 a page."""
        try:
            page = self.auth.list_users(max_results=page_size)
            while page is not None:
                for u in page.users:
                    yield _user_row(u)
                page = page.get_next_page()
        except Exception as exc:
            raise _firebase_error("auth", exc) from exc

    def users_table(self, columns: Sequence[str] = ("uid", "email", "phone", "role")) -> pa.Table:
        """Every Auth user (listed once, 1,000 a page) as a compact Arrow table of strings.

        The pages are read as the API's JSON (firebase-admin's own paging call, the same request
        `list_users` makes) without building a UserRecord per user: a third faster at 100,000 users."""
        return columnar.records(self._iter_user_dicts(), columns)

    def _iter_user_dicts(self) -> Iterator[dict[str, Any]]:
        manager = getattr(self.auth, "_user_manager", None)
        if manager is None or not hasattr(manager, "list_users"):  # another firebase-admin: the public way
            yield from self.iter_users()
            return
        try:
            token: str | None = None
            while True:
                page = manager.list_users(page_token=token, max_results=AUTH_PAGE)
                for u in page.get("users", []):
                    claims = u.get("customAttributes")
                    role = json.loads(claims).get("role") if claims else None
                    yield {"uid": u.get("localId"), "email": u.get("email"), "phone": u.get("phoneNumber"),
                           "display_name": u.get("displayName"), "role": role,
                           "disabled": bool(u.get("disabled")), "email_verified": bool(u.get("emailVerified"))}
                token = page.get("nextPageToken")
                if not token:
                    return
        except Exception as exc:
            raise _firebase_error("auth", exc) from exc

    def disabled_uids(self) -> list[str]:
        """The uids of every disabled Auth user, from a fresh listing (1,000 a page; Auth has no
        filter on `disabled`, so every user is read). The fixes of disabled patients bind it."""
        return sorted(u["uid"] for u in self._iter_user_dicts() if u.get("disabled") and u.get("uid"))

    def get_users(self, uids: Iterable[str]) -> list[dict[str, Any]]:
        """Look users up by uid, 100 identifiers a call."""
        uids = list(uids)
        out: list[dict[str, Any]] = []
        try:
            for i in range(0, len(uids), GET_USERS_BATCH):
                res = self.auth.get_users([auth.UidIdentifier(u) for u in uids[i : i + GET_USERS_BATCH]])
                out.extend(_user_row(u) for u in res.users)
        except Exception as exc:
            raise _firebase_error("auth", exc) from exc
        return out

    def find_user(self, kind: str, value: str) -> dict[str, Any] | None:
        """One Auth user by "uid", "email" or "phone" (E.164); None when there is none."""
        lookups = {"uid": self.auth.get_user, "email": self.auth.get_user_by_email,
                   "phone": self.auth.get_user_by_phone_number}
        try:
            return _user_row(lookups[kind](value))
        except (auth.UserNotFoundError, ValueError):  # not there, or not a valid identifier for Auth
            return None
        except Exception as exc:
            raise _firebase_error("auth", exc) from exc

    def import_users(self, records: list[auth.ImportUserRecord]) -> None:
        try:
            for i in range(0, len(records), AUTH_PAGE):
                res = self.auth.import_users(records[i : i + AUTH_PAGE])
                if res.failure_count:
                    first = res.errors[0]
                    raise StoreUnavailable(f"firebase auth: import refused {res.failure_count} users ({first.reason})")
        except StoreUnavailable:
            raise
        except Exception as exc:
            raise _firebase_error("auth", exc) from exc

    def count_users(self) -> int:
        return sum(1 for _ in self.iter_users())

    def row_counts(self, listed: Mapping[str, int] | None = None) -> dict[str, int | None]:
        """Auth users and Firestore `patients` documents (a part that is down counts None). Auth
        has no count: its users are listed, 1,000 a page, unless `listed` gives a recent listing's
        size (the check run's: "auth users", "patients (Firestore)"), taken as it is."""
        out: dict[str, int | None] = {}
        for label, fn in (("auth users", self.count_users), ("patients (Firestore)", self.count_profiles)):
            if listed is not None and label in listed:
                out[label] = int(listed[label])
                continue
            try:
                out[label] = fn()
            except StoreUnavailable:
                out[label] = None
        return out

    # ------------------------------------------------------------------ Firestore
    def iter_profiles(self, fields: list[str] | None = None) -> Iterator[dict[str, Any]]:
        """Every `patients/{uid}` document: uid and `fields` (see _pages)."""
        for page in self._pages(self.db.collection(PROFILES).select(fields or PROFILE_FIELDS)):
            for snap in page:
                row = {"uid": snap.id}
                row.update(snap.to_dict() or {})
                yield row

    def _pages(self, query: Any) -> Iterator[list[Any]]:
        """The documents of `query`, a page (`page_size`) at a time, ordered by document id: each
        page is one read with its own deadline (`page_timeout_s`); one that fails with a transient
        error (its deadline passed, the store busy) is asked again from the last id, up to
        PAGE_ATTEMPTS times. An error that remains is one sentence naming its cause."""
        base = query.order_by("__name__").limit(self.page_size)
        last: Any = None  # the last document of the last whole page
        listed = attempt = 0
        while True:
            page_query = base if last is None else base.start_after(last)
            try:
                page = list(page_query.get(timeout=self.page_timeout_s, retry=_no_retry()))
            except _TRANSIENT as exc:
                attempt += 1
                if attempt < PAGE_ATTEMPTS:
                    time.sleep(PAGE_BACKOFF_S * 2 ** (attempt - 1))
                    continue
                raise self._listing_error(exc, listed, attempt) from exc
            except Exception as exc:
                raise _firebase_error("firestore", exc) from exc
            attempt = 0
            if page:
                listed += len(page)
                last = page[-1]
                yield page
            if len(page) < self.page_size:
                return

    def _listing_error(self, exc: BaseException, listed: int, attempts: int) -> StoreUnavailable:
        where = f"the listing of {PROFILES} stopped after {listed:,} documents"
        if isinstance(exc, gexc.DeadlineExceeded):
            return StoreUnavailable(
                f"firebase firestore: {where}: a page of {self.page_size:,} documents missed its "
                f"{self.page_timeout_s:g} s deadline {attempts} times in a row (raise FIRESTORE_PAGE_TIMEOUT_S "
                f"or lower FIRESTORE_PAGE_SIZE if the store is only slow)")
        if isinstance(exc, gexc.ServiceUnavailable) and listed == 0:
            return _firebase_error("firestore", exc)
        text = (str(exc).strip().splitlines() or [""])[0][:200]
        return StoreUnavailable(f"firebase firestore: {where}: {type(exc).__name__}: {text} ({attempts} attempts)")

    def profiles_table(self, fields: list[str]) -> pa.Table:
        """Every `patients/{uid}` document (streamed) as an Arrow table: uid and `fields`, as strings."""
        return columnar.records(self.iter_profiles(fields), ["uid", *fields])

    def _attempts(self, what: str, read: Callable[[], T]) -> T:
        """`read` (one Firestore read with the page deadline), asked again after a transient error
        as a listing page is (PAGE_ATTEMPTS, backing off): the incremental run's by-id reads, delta
        and count must not lose a run to a busy emulator's missed deadline."""
        attempt = 0
        while True:
            try:
                return read()
            except _TRANSIENT as exc:
                attempt += 1
                if attempt < PAGE_ATTEMPTS:
                    time.sleep(PAGE_BACKOFF_S * 2 ** (attempt - 1))
                    continue
                if isinstance(exc, gexc.DeadlineExceeded):
                    raise StoreUnavailable(
                        f"firebase firestore: {what} missed its {self.page_timeout_s:g} s deadline {attempt} times "
                        "in a row (raise FIRESTORE_PAGE_TIMEOUT_S if the store is only slow)") from exc
                raise _firebase_error("firestore", exc) from exc
            except Exception as exc:
                raise _firebase_error("firestore", exc) from exc

    def get_profiles(self, uids: Iterable[str], *, persistent: bool = False) -> dict[str, dict[str, Any]]:
        """`patients/{uid}` documents read by id. By default one batched read with bounded retries
        (a lookup fails fast on a dead store); `persistent` (the incremental run): batches of
        `page_size` (at most 1,000), each with the page deadline, asked again after a transient
        error (_attempts)."""
        refs = [self.db.collection(PROFILES).document(u) for u in uids]
        if not persistent:
            try:
                return {snap.id: snap.to_dict() or {}
                        for snap in self.db.get_all(refs, retry=_bounded_retry(), timeout=FIRESTORE_TIMEOUT_S)
                        if snap.exists}
            except Exception as exc:
                raise _firebase_error("firestore", exc) from exc
        out: dict[str, dict[str, Any]] = {}
        step = max(1, min(self.page_size, 1000))
        for i in range(0, len(refs), step):
            batch = refs[i:i + step]
            snaps = self._attempts(f"a read of {len(batch):,} profiles by id", lambda batch=batch: list(  # type: ignore[misc]
                self.db.get_all(batch, retry=_no_retry(), timeout=self.page_timeout_s)))
            out.update({snap.id: snap.to_dict() or {} for snap in snaps if snap.exists})
        return out

    def find_profiles(self, field: str, op: str, value: Any, limit: int = 50) -> dict[str, dict[str, Any]]:
        """Profiles whose `field` matches (`op` is a Firestore operator: "==", "in"), at most `limit`."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = self.db.collection(PROFILES).where(filter=FieldFilter(field, op, value)).limit(limit)
        try:
            snaps = query.get(retry=_bounded_retry(), timeout=FIRESTORE_TIMEOUT_S)
        except Exception as exc:
            raise _firebase_error("firestore", exc) from exc
        return {snap.id: snap.to_dict() or {} for snap in snaps}

    def profiles_since(self, since_iso: str, fields: list[str]) -> pa.Table:
        """The `patients/{uid}` documents whose `updated_at` (ISO-8601 text, UTC) is at or after
        `since_iso`, as profiles_table gives them (the incremental run's Firestore delta; one
        streamed query, as the delta is small)."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = self.db.collection(PROFILES).where(filter=FieldFilter("updated_at", ">=", since_iso)).select(fields)
        snaps = self._attempts("the query of the profiles changed since the last run",
                               lambda: list(query.get(timeout=self.page_timeout_s, retry=_no_retry())))
        return columnar.records(({"uid": snap.id, **(snap.to_dict() or {})} for snap in snaps), ["uid", *fields])

    def count_profiles(self, timeout_s: float | None = None, *, persistent: bool = False) -> int:
        """Firestore's count aggregation of the profiles (`timeout_s`: its deadline, else the store's;
        the emulator counts by scanning the collection). `persistent` (the incremental run): asked
        again after a transient error (_attempts); else bounded retries (the Stores page)."""
        query = self.db.collection(PROFILES).count()
        if not persistent:
            try:
                return int(query.get(timeout=timeout_s or self.timeout_s, retry=_bounded_retry())[0][0].value)
            except Exception as exc:
                raise _firebase_error("firestore", exc) from exc
        res = self._attempts("the count of the profiles",
                             lambda: query.get(timeout=timeout_s or self.timeout_s, retry=_no_retry()))
        return int(res[0][0].value)

    def write_profiles(self, docs: dict[str, dict[str, Any]]) -> None:
        """Write documents in batches of 500 (the demo and the benchmark fill the store this way)."""
        items = list(docs.items())
        try:
            for i in range(0, len(items), WRITE_BATCH):
                batch = self.db.batch()
                for uid, data in items[i : i + WRITE_BATCH]:
                    batch.set(self.db.collection(PROFILES).document(uid), data)
                batch.commit(timeout=max(self.timeout_s, 60))
        except Exception as exc:
            raise _firebase_error("firestore", exc) from exc

    # ------------------------------------------------------------------ emulators only
    def wipe_emulators(self) -> None:
        """Delete every user and document (emulators only; refuses a real project)."""
        if not (self.auth_emulator_host and self.firestore_emulator_host):
            raise StoreUnavailable("firebase: wiping is only for the emulators")
        try:
            r = requests.delete(
                f"http://{self.auth_emulator_host}/emulator/v1/projects/{self.project_id}/accounts", timeout=30
            )
            r.raise_for_status()
            r = requests.delete(
                f"http://{self.firestore_emulator_host}/emulator/v1/projects/{self.project_id}"
                "/databases/(default)/documents",
                timeout=60,
            )
            r.raise_for_status()
        except requests.RequestException as exc:
            raise _firebase_error("emulator", exc) from exc


def _ms_time(ms: Any) -> str | None:
    """A Firebase Auth timestamp (milliseconds since the epoch) as ISO 8601 text in UTC (the rows
    stay plain JSON values)."""
    return datetime.fromtimestamp(int(ms) / 1000, UTC).isoformat() if ms else None


def _user_row(u: Any) -> dict[str, Any]:
    claims = u.custom_claims or {}
    meta = getattr(u, "user_metadata", None)
    return {
        "uid": u.uid,
        "email": u.email,
        "phone": u.phone_number,
        "display_name": u.display_name,
        "role": claims.get("role"),
        "disabled": bool(u.disabled),
        "email_verified": bool(u.email_verified),
        # Auth keeps no date of disabling: these are the nearest it has (a disabled user can neither
        # sign in nor refresh a token, so the account was switched off after the later of the two)
        "last_sign_in_at": _ms_time(getattr(meta, "last_sign_in_timestamp", None)),
        "last_refresh_at": _ms_time(getattr(meta, "last_refresh_timestamp", None)),
    }
