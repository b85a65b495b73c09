"""Sign-in: who is reading, and which role their claims grant (plain Python: the web glue and the
tests call it). The roles themselves, Actor and `require` are lib.roles'.

Outside the demo the dashboard signs people in with `st.login` (OpenID Connect, configured in
`.streamlit/secrets.toml` `[auth]`). Their role comes from configuration:

    [roles]                       # in .streamlit/secrets.toml
    admin   = ["alice@hospital.example"]
    oncall  = ["bob@hospital.example", "group:healbridge-oncall"]
    support = ["@hospital.example"]          # "@domain": everybody signed in with that domain
    group_claim = "groups"                    # optional: the claim that lists the user's groups

or the environment variable HEALBRIDGE_ROLES (it wins), e.g.
`admin=alice@hospital.example;support=@hospital.example,group:helpdesk`.

A person matched by several entries gets the highest role (admin > oncall > support); a person
matched by none has no role and sees nothing. An identity whose `email_verified` claim is false
matches no email entry. The role is resolved again on every run from the current mapping; the
claims themselves (email, groups) are those of the ID token at sign-in, which Streamlit keeps in its
cookie: a group removed at the identity provider counts from the next sign-in.

Sessions: Streamlit's sign-in cookie lives 30 days and cannot be recalled, so the session is checked
here on every run (`session_refusal`): a session is the ID token of one sign-in (`session_id`: a
digest of its iss, sub, iat and nonce); it is refused once it is older than SESSION_MAX_AGE_HOURS
(from the token's `iat`), and once it was signed out (`revoke_session` writes it to the ops
database's append-only `session_revocations` and the `signout` audit event).
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lib import audit
from lib.config import secrets_file
from lib.errors import ConfigError
from lib.roles import RANK, ROLES, Actor

if TYPE_CHECKING:
    from lib.stores import Stores

ROLES_ENV = "HEALBRIDGE_ROLES"
AUTH_KEYS = ("redirect_uri", "cookie_secret")


@dataclass(frozen=True)
class RoleMap:
    """Role -> the entries that grant it: lower-case emails, "@domain", "group:<name>"."""

    entries: dict[str, tuple[str, ...]] = field(default_factory=dict)
    group_claim: str = "groups"

    @property
    def empty(self) -> bool:
        return not any(self.entries.values())


def _read_secrets(path: Path | None = None) -> dict[str, Any]:
    path = path or secrets_file()
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path.name} cannot be read as TOML ({type(exc).__name__}); fix or remove it.") from None


def _entries(role: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"roles.{role} must be a list of emails, @domains or group:<name> entries.")
    out = []
    for v in value:
        v = v.strip()
        if not v:
            continue
        if not (v.startswith(("@", "group:")) or ("@" in v and not v.endswith("@"))):
            raise ConfigError(f"roles.{role} holds an entry that is neither an email, an @domain nor group:<name>.")
        out.append(v if v.startswith("group:") else v.lower())
    return tuple(out)


def parse_roles(table: Mapping[str, Any]) -> RoleMap:
    """A [roles] table (or the parsed environment variable) as a RoleMap; ConfigError if malformed."""
    group_claim = str(table.get("group_claim") or "groups").strip() or "groups"
    unknown = [k for k in table if k not in (*ROLES, "group_claim")]
    if unknown:
        raise ConfigError(f"roles holds {', '.join(sorted(unknown))}: the roles are {', '.join(ROLES)}.")
    return RoleMap({r: _entries(r, table[r]) for r in ROLES if r in table}, group_claim)


def parse_roles_env(raw: str) -> RoleMap:
    """HEALBRIDGE_ROLES: `role=entry,entry;role=entry`."""
    table: dict[str, Any] = {}
    for part in raw.split(";"):
        if not part.strip():
            continue
        role, sep, value = part.partition("=")
        if not sep:
            raise ConfigError(f"{ROLES_ENV} must read role=entry,entry;role=entry (e.g. admin=alice@example.org).")
        table[role.strip().lower()] = value
    return parse_roles(table)


def load_roles(secrets: Mapping[str, Any] | None = None, path: Path | None = None) -> RoleMap:
    """The configured role map: HEALBRIDGE_ROLES if set, else `[roles]` of `secrets` (Streamlit's
    st.secrets, as a dict) or of the secrets file."""
    raw = os.environ.get(ROLES_ENV)
    if raw is not None and raw.strip():
        return parse_roles_env(raw)
    table = (secrets if secrets is not None else _read_secrets(path)).get("roles") or {}
    if not isinstance(table, dict):
        raise ConfigError("roles in the secrets file must be a table ([roles]).")
    return parse_roles(table)


def auth_configured(secrets: Mapping[str, Any] | None = None, path: Path | None = None) -> bool:
    """True when `secrets` (or the secrets file) has an `[auth]` section st.login can use."""
    auth = (secrets if secrets is not None else _read_secrets(path)).get("auth")
    return isinstance(auth, dict) and all(auth.get(k) for k in AUTH_KEYS)


def _groups(claims: Mapping[str, Any], claim: str) -> set[str]:
    value = claims.get(claim)
    if isinstance(value, str):
        return {value}
    if isinstance(value, Iterable):
        return {str(v) for v in value}
    return set()


def resolve_role(claims: Mapping[str, Any], roles: RoleMap) -> str | None:
    """The highest role the signed-in identity's claims grant, or None (not signed in, no role)."""
    if not claims or not claims.get("is_logged_in"):
        return None
    email = str(claims.get("email") or "").strip().lower()
    if claims.get("email_verified") is False:
        email = ""
    domain = "@" + email.rsplit("@", 1)[1] if "@" in email else None
    groups = {f"group:{g}" for g in _groups(claims, roles.group_claim)}
    best: str | None = None
    for role, entries in roles.entries.items():
        granted = any((email and e == email) or (domain and e == domain) or e in groups for e in entries)
        if granted and (best is None or RANK[role] > RANK[best]):
            best = role
    return best


def who_of(claims: Mapping[str, Any]) -> str:
    """The name the audit log keeps: the email, else the subject."""
    return str(claims.get("email") or claims.get("sub") or claims.get("name") or "unknown")[:200]


def actor_from_claims(claims: Mapping[str, Any], roles: RoleMap) -> Actor | None:
    role = resolve_role(claims, roles)
    return None if role is None else Actor(who_of(claims), role)


# ---------------------------------------------------------------------- sessions
CLOCK_SKEW = timedelta(minutes=5)  # an `iat` this far in the future is still taken as "now"


def session_id(claims: Mapping[str, Any]) -> str | None:
    """The sign-in session of these claims: a digest of the ID token's issuer, subject, issue time
    and nonce (one per sign-in), or None when they are not a signed-in identity with `sub` and `iat`."""
    if not claims or not claims.get("is_logged_in") or not claims.get("sub") or signed_in_at(claims) is None:
        return None
    parts = (claims.get("iss"), claims.get("sub"), claims.get("iat"), claims.get("nonce"))
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()


def signed_in_at(claims: Mapping[str, Any]) -> datetime | None:
    """When the session began: the ID token's `iat` (seconds since the epoch), or None."""
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float | str):
        return None
    try:
        return datetime.fromtimestamp(float(iat), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def duration_text(hours: float) -> str:
    """12 hours, 1 hour, 90 minutes, 45 seconds: the largest unit that says it exactly."""
    seconds = max(1, round(hours * 3600))
    n, unit = next((seconds // size, name) for size, name in ((3600, "hour"), (60, "minute"), (1, "second"))
                   if seconds % size == 0)
    return f"{n} {unit}{'' if n == 1 else 's'}"


def session_refusal(claims: Mapping[str, Any], max_age_hours: float, *, revoked: bool = False,
                    now: datetime | None = None) -> str | None:
    """Why this signed-in session may not go on (one sentence), or None: no sign-in time, older than
    `max_age_hours`, or signed out (`revoked`, see is_revoked)."""
    started = signed_in_at(claims)
    if started is None or not claims.get("sub"):
        return ("The identity provider's token says neither who (sub) nor when (iat) this session was "
                "signed in, so it cannot be limited in time and is refused.")
    if revoked:
        return "This session was signed out: sign in again to go on."
    now = now or datetime.now(UTC)
    if started > now + CLOCK_SKEW or now - started > timedelta(hours=max_age_hours):
        return (f"Your session has expired: a sign-in lasts {duration_text(max_age_hours)} "
                "(SESSION_MAX_AGE_HOURS). Sign in again to go on.")
    return None


def is_revoked(stores: Stores, session: str) -> bool:
    """Whether the session `session` (session_id) was signed out; raises when the ops database
    cannot be read (the caller refuses the session then)."""
    return bool(stores.ops.scalar("session_revoked", {"session_id": session}))


def revoke_session(stores: Stores, claims: Mapping[str, Any], actor: Actor | None) -> str | None:
    """Sign out the session of `claims` server-side: its row in session_revocations (committed first:
    from then on every copy of its cookie is refused), then the `signout` audit event when the reader
    had a role (a reader without one was never let in, nor recorded). Returns the session id (None:
    no session to revoke). Raises when the ops database cannot be written."""
    session = session_id(claims)
    if session is None:
        return None
    stores.ops.execute("session_revoke",
                       {"session_id": session, "who": who_of(claims), "signed_in_at": signed_in_at(claims)})
    if actor is not None:
        audit.record(stores, actor, "signout", detail={"sub": claims.get("sub"), "session": session})
    return session
