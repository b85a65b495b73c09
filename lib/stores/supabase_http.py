"""The Supabase adapter through the project's HTTP API (SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY).

Used when no SUPABASE_DB_URL is configured. It reaches what the HTTP API offers with the service-role
key and nothing more: the public tables through PostgREST and the users through the Auth admin API.
There is no SQL and no catalog, so every SQL check and the constraint pages report
`NEEDS_SQL` instead of a count.

What the cross-store checks read (the snapshot methods: live users, document ids, prescription URL
digests, the documents and connections of no Firebase user) equals what the direct adapter's
`sql/snapshot/*.sql` give; they are built from three paged reads (users, documents, connections)
whose values are strings or NaN, booleans 't'/'f', timestamps as PostgreSQL prints a timestamptz in
UTC ("2024-05-01 12:00:00.5+00"), so they sort chronologically. Everything is paged (1,000 a page):
never a request per row.

The service-role key never appears in a message this module produces.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit

import httpx
import pandas as pd
import pyarrow as pa

from lib.errors import StoreUnavailable
from lib.stores import columnar

NEEDS_SQL = "supabase: this needs SQL; set SUPABASE_DB_URL (the HTTP API has no SQL or catalog)"
VERSION = "Supabase HTTP API (no SQL)"
PAGE_SIZE = 1000

PUBLIC_TABLES = ("documents", "rag_chunks", "patient_doctor_connections")
IDENTITY_COLUMNS = ["id", "firebase_uid", "postgres_id", "email", "phone", "created_at", "deleted"]
DOCUMENT_COLUMNS = ["id", "patient_id", "status", "type", "file_url"]
CONNECTION_COLUMNS = ["id", "patient_firebase_uid"]

T = TypeVar("T")


def pg_timestamp(value: datetime | str | None) -> str | None:
    """A timestamp as PostgreSQL prints a timestamptz with TimeZone UTC: `2024-05-01 12:00:00.25+00`."""
    if value is None or value == "":
        return None
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(UTC)
    if dt.year == 1:  # Go's zero time: GoTrue's way of writing a missing timestamp
        return None
    frac = f".{dt.microsecond:06d}".rstrip("0") if dt.microsecond else ""
    return dt.strftime("%Y-%m-%d %H:%M:%S") + frac + "+00"


def json_text(value: Any) -> str | None:
    """What PostgreSQL's `->>` gives for a JSON value, with empty text as missing (as the CSV reads it)."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value)
    return text or None


def _when(value: Any) -> datetime | None:
    """A timestamp of the API (a datetime, or ISO text; "infinity" is the far future) as an aware datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value)
    if text.lower() == "infinity":
        return datetime.max.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _frame(records: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """A frame exactly as `PgStore.frame` gives one: its COPY-to-CSV read back with the same options
    (string columns, missing and empty as NaN, the columns even without rows)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([["" if r.get(c) is None else r[c] for c in columns] for r in records])
    buf.seek(0)
    return pd.read_csv(buf, dtype=str, keep_default_na=False, na_values=[""])


class SupabaseHttpStore:
    """Supabase through its HTTP API: tables (PostgREST) and auth admin only, no SQL, no catalog."""

    name = "supabase"

    def __init__(
        self,
        url: str,
        service_role_key: str,
        *,
        timeout: float = 30.0,
        connect_timeout_s: float = 5.0,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self._url = url.rstrip("/")
        self._key = service_role_key
        self.timeout = timeout
        self.page_size = page_size
        parts = urlsplit(self._url)
        self.host = parts.netloc or self._url
        self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=connect_timeout_s), follow_redirects=True)
        self._client: Any = None
        self._client_error: str | None = None
        try:
            from supabase import ClientOptions, create_client
            from supabase_auth import SyncMemoryStorage

            self._client = create_client(
                self._url,
                service_role_key,
                options=ClientOptions(
                    auto_refresh_token=False,
                    persist_session=False,
                    storage=SyncMemoryStorage(),
                    httpx_client=self._http,
                    postgrest_client_retry=False,  # one clear answer, not three sleeps
                ),
            )
        except Exception as exc:  # noqa: BLE001 - reported by ping and every read
            self._client_error = self._describe(exc)

    # ------------------------------------------------------------------ plumbing
    def _scrub(self, text: str) -> str:
        if self._key:
            text = text.replace(self._key, "•••")
        return text

    def _describe(self, exc: BaseException) -> str:
        """One sentence about an HTTP API error, without the key."""
        return self._scrub(self._sentence(exc))

    def _sentence(self, exc: BaseException) -> str:
        from postgrest.exceptions import APIError
        from supabase_auth.errors import AuthError

        refused = "SUPABASE_SERVICE_ROLE_KEY must be the project's service-role key"
        # the client wraps httpx's errors (AuthRetryableError, AuthUnknownError): find the httpx one
        root: BaseException | None = exc
        while root is not None and not isinstance(root, httpx.HTTPError):
            root = root.__cause__ or root.__context__
        if isinstance(root, httpx.TimeoutException):
            return f"supabase: the HTTP API at {self.host} did not answer within {self.timeout:g} s"
        if isinstance(root, httpx.LocalProtocolError):
            return ("supabase: the request to the HTTP API could not be sent "
                    "(is SUPABASE_SERVICE_ROLE_KEY one line, without spaces?)")
        if isinstance(root, httpx.RemoteProtocolError):
            return f"supabase: the HTTP API at {self.host} broke off the connection"
        if isinstance(root, httpx.TransportError):
            return f"supabase: cannot reach the HTTP API at {self.host} (is SUPABASE_URL right and reachable?)"
        status = root.response.status_code if isinstance(root, httpx.HTTPStatusError) else getattr(exc, "status", None)
        if isinstance(exc, AuthError):
            if status in (401, 403):
                return f"supabase: the Auth API refused the key (HTTP {status}); {refused}"
            if status == 404:
                return f"supabase: {self.host} has no Auth admin API (HTTP 404); is SUPABASE_URL the project's URL?"
            first = (str(exc.message).strip().splitlines() or [""])[0]
            return f"supabase: the Auth API answered HTTP {status}: {first[:200]}"
        if isinstance(exc, APIError):
            code = str(exc.code or "")
            message = str(exc.message or "")
            if code in ("401", "403", "42501", "PGRST301", "PGRST302") or "api key" in message.lower() \
                    or "jwt" in message.lower():
                return f"supabase: the table API refused the key; {refused}"
            first = (message.strip().splitlines() or [""])[0]
            return f"supabase: the table API answered {code or 'an error'}: {first[:200]}"
        first = (str(exc).strip().splitlines() or [""])[0]
        return f"supabase: {type(exc).__name__}: {first[:200]}" if first else f"supabase: {type(exc).__name__}"

    def _call(self, fn: Callable[[], T]) -> T:
        """Run one API call; every failure becomes StoreUnavailable with a key-free sentence."""
        if self._client is None:
            raise StoreUnavailable(self._client_error or "supabase: the HTTP client could not be built")
        try:
            return fn()
        except StoreUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - the client raises many kinds; all are reported alike
            raise StoreUnavailable(self._describe(exc)) from None

    def _table_rows(self, table: str, columns: Iterable[str]) -> list[dict[str, Any]]:
        """Every row of a public table, `page_size` a request (ordered by id so the pages are stable).

        The offset moves by what each page returned and stops at an empty page, so a project whose
        max-rows is below the page size is still read whole."""
        select = ",".join(columns)
        out: list[dict[str, Any]] = []
        offset = 0
        def page(start: int) -> list[dict[str, Any]]:
            resp = self._client.table(table).select(select).order("id").range(start, start + self.page_size - 1).execute()
            return list(resp.data or [])

        while True:
            rows = self._call(partial(page, offset))
            if not rows:
                return out
            out.extend(rows)
            offset += len(rows)

    def _users(self) -> list[Any]:
        """Every auth user, through the admin listing, `page_size` a page, until an empty page."""
        out: list[Any] = []
        seen: set[str] = set()
        page = 1
        def listing(n: int) -> list[Any]:
            return list(self._client.auth.admin.list_users(page=n, per_page=self.page_size))

        while True:
            users = self._call(partial(listing, page))
            fresh = [u for u in users if u.id not in seen]
            if not fresh:  # an empty page (or a server that ignores `page`)
                return out
            seen.update(u.id for u in fresh)
            out.extend(fresh)
            page += 1

    # ------------------------------------------------------------------ the store interface
    def ping(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        try:
            self._call(lambda: self._client.auth.admin.list_users(page=1, per_page=1))
        except StoreUnavailable as exc:
            return {"ok": False, "latency_ms": None, "version": None, "error": self._scrub(str(exc))}
        return {"ok": True, "latency_ms": round((time.perf_counter() - t0) * 1000, 1), "version": VERSION, "error": None}

    def row_counts(self) -> dict[str, int | None]:
        """auth.users and the public tables; storage.objects is not a table of the HTTP API (None)."""
        from postgrest.exceptions import APIError
        from postgrest.types import CountMethod

        def head_count(table: str) -> int | None:
            try:
                return self._client.table(table).select("*", count=CountMethod.exact, head=True).execute().count
            except APIError as exc:
                if str(exc.code or "") in ("PGRST205", "42P01", "404"):  # not a table the API exposes
                    return None
                raise

        out: dict[str, int | None] = {"auth.users": self._count_users()}
        for table in PUBLIC_TABLES:
            out[table] = self._call(partial(head_count, table))
        out["storage.objects"] = None
        return out

    def _count_users(self) -> int:
        """GoTrue's X-Total-Count header of a one-user page; without it, the length of the listing."""

        def from_header() -> int | None:
            request = getattr(self._client.auth.admin, "_request", None)  # the admin API's own request
            if request is None:
                return None
            total = request("GET", "admin/users", query=httpx.QueryParams(page=1, per_page=1)).headers.get("x-total-count")
            return int(total) if total is not None and total.strip().isdigit() else None

        total = self._call(from_header)
        return total if total is not None else len(self._users())

    def _identities(self) -> pd.DataFrame:
        """id, firebase_uid, postgres_id, email, phone, created_at, deleted ('t'/'f') of every auth user."""
        records = []
        for u in self._users():
            meta = u.user_metadata or {}
            records.append({
                "id": _text(u.id),
                "firebase_uid": json_text(meta.get("firebase_uid")),
                "postgres_id": json_text(meta.get("postgres_id")),
                "email": _text(u.email),
                "phone": _text(u.phone),
                "created_at": pg_timestamp(u.created_at),
                "deleted": "t" if u.deleted_at else "f",
            })
        return _frame(records, IDENTITY_COLUMNS)

    def _documents(self) -> pd.DataFrame:
        """id, patient_id, status, type, file_url of public.documents."""
        rows = self._table_rows("documents", DOCUMENT_COLUMNS)
        return _frame([{c: _text(r.get(c)) for c in DOCUMENT_COLUMNS} for r in rows], DOCUMENT_COLUMNS)

    def _connections(self) -> pd.DataFrame:
        """id, patient_firebase_uid of public.patient_doctor_connections."""
        rows = self._table_rows("patient_doctor_connections", CONNECTION_COLUMNS)
        return _frame([{c: _text(r.get(c)) for c in CONNECTION_COLUMNS} for r in rows], CONNECTION_COLUMNS)

    # The check run's snapshot, in the direct adapter's shapes (built here from the paged rows).
    def live_users(self) -> pa.Table:
        df = self._identities()
        df = df[df["deleted"] != "t"].sort_values(["created_at", "id"], kind="stable")
        return columnar.strings(df, ["id", "firebase_uid", "postgres_id", "email", "phone"])

    def document_ids(self) -> pa.Table:
        df = self._documents().dropna(subset=["id"])
        return pa.table({"id": columnar.uuids(df["id"]), "processed": pa.array((df["status"] == "processed").tolist())})

    def prescription_url_md5s(self) -> pa.Table:
        df = self._documents()
        urls = sorted(set(df.loc[(df["type"] == "prescription") & df["file_url"].notna(), "file_url"]))
        return pa.table({"url_md5": columnar.md5s(urls)})

    def documents_unknown_patient(self, uids: list[str], limit: int) -> tuple[int, list[str]]:
        df = self._documents()
        keys = sorted(df.loc[~df["patient_id"].isin(set(uids)), "id"].dropna().astype(str))
        return len(keys), keys[:limit]

    def connections_unknown_patient(self, uids: list[str], limit: int) -> tuple[int, list[str]]:
        df = self._connections()
        keys = sorted(df.loc[~df["patient_firebase_uid"].isin(set(uids)), "id"].dropna().astype(str))
        return len(keys), keys[:limit]

    def live_users_of(self, uids: list[str], limit: int) -> tuple[int, list[str]]:
        wanted, now = set(uids), datetime.now(UTC)
        found = set()
        for u in self._users():
            uid = json_text((u.user_metadata or {}).get("firebase_uid"))
            banned = _when(getattr(u, "banned_until", None))
            if uid in wanted and not u.deleted_at and (banned is None or banned <= now):
                found.add(uid)
        keys = sorted(str(k) for k in found)
        return len(keys), keys[:limit]

    def active_connections_of(self, uids: list[str], limit: int) -> tuple[int, list[str]]:
        wanted, now = set(uids), datetime.now(UTC)
        rows = self._table_rows("patient_doctor_connections", ["id", "patient_firebase_uid", "is_active",
                                                               "token_expires_at"])
        keys = sorted(str(r["id"]) for r in rows
                      if r.get("patient_firebase_uid") in wanted and r.get("is_active") is True
                      and ((expires := _when(r.get("token_expires_at"))) is None or expires >= now))
        return len(keys), keys[:limit]

    # ------------------------------------------------------------------ what needs SQL
    def read(self, timeout_ms: int | None = None) -> NoReturn:
        raise StoreUnavailable(NEEDS_SQL)

    def rows(self, sql: Any, params: Mapping[str, Any] | None = None, *, bulk: bool = False) -> NoReturn:
        raise StoreUnavailable(NEEDS_SQL)

    def frame(self, sql: Any, params: Mapping[str, Any] | None = None) -> NoReturn:
        raise StoreUnavailable(NEEDS_SQL)

    def keys(self, sql: Any, params: Mapping[str, Any] | None = None) -> NoReturn:
        raise StoreUnavailable(NEEDS_SQL)

    def scalar(self, sql: Any, params: Mapping[str, Any] | None = None) -> NoReturn:
        raise StoreUnavailable(NEEDS_SQL)

    def table_counts(self, tables: list[tuple[str, str]]) -> NoReturn:
        raise StoreUnavailable(NEEDS_SQL)

    def dispose(self) -> None:
        self._http.close()

    def __repr__(self) -> str:  # never the key
        return f"SupabaseHttpStore({self._url!r})"
