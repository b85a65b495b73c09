"""Who is reading, and in which role (plain Python: the web glue and the tests call it).

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
matches no email entry.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib.config import secrets_file
from lib.errors import ConfigError, OpsError
from lib.fixes import ROLES, Actor

ROLES_ENV = "HEALBRIDGE_ROLES"
RANK = {r: i for i, r in enumerate(ROLES)}  # support 0 < oncall 1 < admin 2
DEMO_DEFAULT_ROLE = "oncall"
DEMO_WHO = "demo reader"
AUTH_KEYS = ("redirect_uri", "cookie_secret")


class Forbidden(OpsError):
    """The role of the reader may not do this (the one sentence says which role is needed)."""

    exit_code = 3


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


def demo_actor(role: str | None) -> Actor:
    return Actor(DEMO_WHO, role if role in ROLES else DEMO_DEFAULT_ROLE)


def require(actor: Actor | None, roles: Iterable[str], doing: str) -> Actor:
    """`actor` if its role is one of `roles`; Forbidden (one sentence) otherwise."""
    allowed = tuple(r for r in ROLES if r in set(roles))
    if actor is None or actor.role not in allowed:
        who = "A reader without a role" if actor is None else f"The role {actor.role}"
        raise Forbidden(f"{who} may not {doing}: it needs {' or '.join(allowed)}.")
    return actor
