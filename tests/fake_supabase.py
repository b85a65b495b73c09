"""An HTTP-level fake of the two Supabase APIs the HTTP adapter calls, backed by a REAL database.

The Supabase HTTP API has no server we can run here, so this is the one fake the tests allow: a
small threaded HTTP server on 127.0.0.1 that answers, from the demo's real Supabase PostgreSQL
(psycopg, the URL given), the same way the hosted gateway, GoTrue and PostgREST answer:

- `GET /auth/v1/admin/users?page=&per_page=`: GoTrue's admin listing. Body `{"users": [...],
  "aud": "authenticated"}`, newest first (GoTrue's default order), headers `X-Total-Count` and
  `Link`. Users as GoTrue serialises them: `user_metadata` is raw_user_meta_data, `app_metadata`
  raw_app_meta_data, timestamps in Go's RFC 3339 (`2024-05-01T12:00:00.25Z`), missing email or
  phone as "" and `deleted_at` / `banned_until` when set.
- `GET|HEAD /rest/v1/<table>?select=a,b&order=id.asc&offset=&limit=`: PostgREST reads of schema
  public. The rows are made by PostgreSQL's own `json_agg`, as PostgREST makes them; at most
  `max_rows` a response (Supabase's max-rows, 1,000 by default); `Prefer: count=exact` gives the
  total in `Content-Range` (`0-24/300`, `*/0`); a `Range: 0-24` header works as offset/limit.
  An unknown table answers 404 PGRST205, another schema 406 PGRST106.

Every request must carry `apikey: <key>` and `Authorization: Bearer <key>` (401 "Invalid API key"
otherwise, as the gateway answers). Responses close the connection (HTTP/1.0), so a stopped fake
is unreachable at once. `requests` records (method, path, query) of each request, for tests that
count round trips.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
from psycopg import sql as psql
from sqlalchemy.engine import make_url

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ORDER = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\.(asc|desc))?(?:\.(nullsfirst|nullslast))?$")
_RANGE = re.compile(r"^(\d+)-(\d*)$")
INVALID_KEY = {"message": "Invalid API key", "hint": "Double check your Supabase `anon` or `service_role` API key."}

USERS_SQL = """
SELECT id::text, email, phone, raw_user_meta_data, raw_app_meta_data, created_at, updated_at,
       last_sign_in_at, deleted_at, banned_until, is_anonymous
FROM auth.users
ORDER BY created_at DESC NULLS LAST, id
LIMIT %(limit)s OFFSET %(offset)s
"""


def go_time(value: datetime | None) -> str | None:
    """A timestamp as Go's encoding/json writes a time.Time in UTC (RFC 3339, trailing zeros cut)."""
    if value is None:
        return None
    dt = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    frac = f".{dt.microsecond:06d}".rstrip("0") if dt.microsecond else ""
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


class _ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message"))
        self.status = status
        self.body = body


class FakeSupabase:
    """`with FakeSupabase(db_url, key) as fake:` serves `fake.url` until the block ends."""

    def __init__(self, db_url: str, key: str, *, max_rows: int = 1000, total_count_header: bool = True) -> None:
        self.dsn = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.key = key
        self.max_rows = max_rows
        self.total_count_header = total_count_header
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def port(self) -> int:
        assert self._server is not None, "the fake is not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeSupabase:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-supabase", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> FakeSupabase:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def count(self, path_prefix: str, method: str | None = None) -> int:
        with self._lock:
            return sum(1 for m, p, _ in self.requests if p.startswith(path_prefix) and (method is None or m == method))

    def _log(self, method: str, path: str, query: dict[str, str]) -> None:
        with self._lock:
            self.requests.append((method, path, query))

    # ------------------------------------------------------------------ GoTrue
    def admin_users(self, query: dict[str, str]) -> tuple[dict[str, str], dict[str, Any]]:
        try:
            page = max(1, int(query.get("page") or 1))
            per_page = max(1, int(query.get("per_page") or 50))
        except ValueError:
            raise _ApiError(400, {"code": 400, "error_code": "validation_failed",
                                  "msg": "Bad Pagination Parameters"}) from None
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            rows = conn.execute(USERS_SQL, {"limit": per_page, "offset": (page - 1) * per_page}).fetchall()
            total = conn.execute("SELECT count(*) FROM auth.users").fetchone()
        n = int(total[0]) if total else 0
        users = []
        for (uid, email, phone, meta, app_meta, created, updated, last_sign_in, deleted, banned, anon) in rows:
            user: dict[str, Any] = {
                "id": uid,
                "aud": "authenticated",
                "role": "authenticated",
                "email": email or "",
                "phone": phone or "",
                "app_metadata": app_meta or {},
                "user_metadata": meta or {},
                "identities": [],
                "created_at": go_time(created) or "0001-01-01T00:00:00Z",
                "updated_at": go_time(updated),
                "last_sign_in_at": go_time(last_sign_in),
                "is_anonymous": bool(anon),
            }
            if deleted is not None:
                user["deleted_at"] = go_time(deleted)
            if banned is not None:
                user["banned_until"] = go_time(banned)
            users.append(user)
        last = max(1, -(-n // per_page))
        links = []
        if page < last:
            links.append(f'</admin/users?page={page + 1}&per_page={per_page}>; rel="next"')
        links.append(f'</admin/users?page={last}&per_page={per_page}>; rel="last"')
        headers = {"Link": ", ".join(links)}
        if self.total_count_header:
            headers["X-Total-Count"] = str(n)
        return headers, {"users": users, "aud": "authenticated"}

    # ------------------------------------------------------------------ PostgREST
    def table_read(
        self, table: str, query: dict[str, str], req_headers: Any
    ) -> tuple[int, dict[str, str], Any]:
        profile = req_headers.get("Accept-Profile")
        if profile and profile != "public":
            raise _ApiError(406, {"code": "PGRST106", "details": None, "hint": "Only the following schemas are exposed: public",
                                  "message": f"Invalid schema: {profile}"})
        if not _IDENT.match(table):
            raise _ApiError(404, {"code": "PGRST125", "details": None, "hint": None, "message": "Invalid path specified in request URL"})
        select = query.pop("select", "*") or "*"
        order = query.pop("order", "")
        offset_s, limit_s = query.pop("offset", ""), query.pop("limit", "")
        if query:
            raise _ApiError(400, {"code": "PGRST100", "details": None, "hint": None,
                                  "message": f"fake: filters are not supported ({', '.join(sorted(query))})"})
        rng = req_headers.get("Range")
        if rng and not offset_s and (m := _RANGE.match(rng.strip())):
            offset_s = m.group(1)
            limit_s = str(int(m.group(2)) - int(m.group(1)) + 1) if m.group(2) else ""
        try:
            offset = int(offset_s or 0)
            limit = min(int(limit_s), self.max_rows) if limit_s else self.max_rows
        except ValueError:
            raise _ApiError(400, {"code": "PGRST100", "details": None, "hint": None,
                                  "message": "\"failed to parse offset or limit\""}) from None

        if select.strip() == "*":
            cols: psql.Composable = psql.SQL("*")
        else:
            names = [c.strip() for c in select.split(",")]
            if not all(_IDENT.match(c) for c in names):
                raise _ApiError(400, {"code": "PGRST100", "details": None, "hint": None,
                                      "message": "fake: only plain column lists are supported in select"})
            cols = psql.SQL(", ").join(psql.Identifier(c) for c in names)
        order_by: list[psql.Composable] = []
        for part in filter(None, order.split(",")):
            m = _ORDER.match(part.strip())
            if not m:
                raise _ApiError(400, {"code": "PGRST100", "details": None, "hint": None,
                                      "message": f"\"failed to parse order ({part})\""})
            clause = psql.SQL("{} {}").format(psql.Identifier(m.group(1)), psql.SQL((m.group(2) or "asc").upper()))
            if m.group(3):
                clause = psql.SQL("{} {}").format(clause, psql.SQL("NULLS FIRST" if m.group(3) == "nullsfirst" else "NULLS LAST"))
            order_by.append(clause)
        ident = psql.Identifier("public", table)
        inner = psql.SQL("SELECT {} FROM {}").format(cols, ident)
        if order_by:
            inner = psql.SQL("{} ORDER BY {}").format(inner, psql.SQL(", ").join(order_by))
        inner = psql.SQL("{} LIMIT {} OFFSET {}").format(inner, psql.Literal(limit), psql.Literal(offset))
        stmt = psql.SQL("SELECT coalesce(json_agg(t), '[]'::json)::text, count(*) FROM ({}) t").format(inner)
        want_count = "count=exact" in (req_headers.get("Prefer") or "")

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            present = conn.execute("SELECT to_regclass(format('public.%%I', %s::text))", (table,)).fetchone()
            if not present or present[0] is None:
                raise _ApiError(404, {"code": "PGRST205", "details": None,
                                      "hint": None, "message": f"Could not find the table 'public.{table}' in the schema cache"})
            try:
                row = conn.execute(stmt).fetchone()
                total_row = conn.execute(psql.SQL("SELECT count(*) FROM {}").format(ident)).fetchone() if want_count else None
            except psycopg.Error as exc:
                diag = exc.diag
                raise _ApiError(400, {"code": diag.sqlstate, "details": diag.message_detail,
                                      "hint": diag.message_hint, "message": diag.message_primary}) from None
        assert row is not None
        body, n = row[0], int(row[1])
        total = int(total_row[0]) if total_row else None
        shown = "*" if total is None else str(total)
        content_range = f"{offset}-{offset + n - 1}/{shown}" if n else f"*/{shown}"
        status = 206 if total is not None and n and (offset > 0 or offset + n < total) else 200
        return status, {"Content-Range": content_range, "Content-Type": "application/json; charset=utf-8"}, body


class _Handler(BaseHTTPRequestHandler):
    owner: FakeSupabase
    protocol_version = "HTTP/1.0"  # one request a connection: a stopped fake is gone at once

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _send(self, status: int, headers: dict[str, str], body: Any, head: bool) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        headers = {"Content-Type": "application/json; charset=utf-8", **headers}
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _serve(self, head: bool) -> None:
        fake = self.owner
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        fake._log(self.command, parts.path, dict(query))
        if self.headers.get("apikey") != fake.key or self.headers.get("Authorization") != f"Bearer {fake.key}":
            self._send(401, {}, INVALID_KEY, head)
            return
        try:
            if parts.path.rstrip("/") == "/auth/v1/admin/users" and not head:
                headers, body = fake.admin_users(query)
                self._send(200, headers, body, head)
            elif parts.path.startswith("/rest/v1/") and parts.path.count("/") == 3:
                status, headers, body = fake.table_read(parts.path.rsplit("/", 1)[1], query, self.headers)
                self._send(status, headers, body, head)
            else:
                self._send(404, {}, {"message": "no Route matched with those values"}, head)
        except _ApiError as exc:
            self._send(exc.status, {}, exc.body, head)
        except Exception as exc:  # noqa: BLE001 - a fake's own bug answers 500, as a server would
            self._send(500, {}, {"message": f"fake: {type(exc).__name__}: {exc}"}, head)
