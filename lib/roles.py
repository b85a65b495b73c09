"""Roles and the acting person: who may do what, and where the role comes from outside sign-in.

The role table (support < oncall < admin), who may do each protected piece of work, `Actor` (the
person acting and their role), `require` (the check the functions doing protected work call
themselves) and `Forbidden`. Where the role comes from: a signed-in person's role is resolved from
the `[roles]` mapping of their claims (lib.auth); the command line's is `HEALBRIDGE_ROLE`
(`cli_actor`); the demo's comes from its role picker (`demo_actor`, default `DEMO_DEFAULT_ROLE`).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable
from dataclasses import dataclass

from lib.errors import OpsError

ROLES = ("support", "oncall", "admin")
RANK = {r: i for i, r in enumerate(ROLES)}  # support 0 < oncall 1 < admin 2

APPLY_ROLES = frozenset({"oncall", "admin"})  # who may apply a fix (everybody may plan one)
MASK_ROLES = frozenset({"support"})  # who sees PHI masked (lib.phi)
RUN_ROLES = ("oncall", "admin")  # who may run the checks on request (lib.checks.latest)
AUDIT_ROLES = ("admin",)  # who may read the access audit log (lib.audit.log)

ROLE_ENV = "HEALBRIDGE_ROLE"  # the command line's role
CLI_DEFAULT_ROLE = "oncall"
DEMO_DEFAULT_ROLE = "oncall"  # the demo role picker's first choice
DEMO_WHO = "demo reader"


@dataclass(frozen=True)
class Actor:
    """Who does something, and in which role (one of ROLES)."""

    who: str
    role: str


class Forbidden(OpsError):
    """The role of the reader may not do this (the one sentence says which role is needed)."""

    exit_code = 3


def require(actor: Actor | None, roles: Iterable[str], doing: str) -> Actor:
    """`actor` if its role is one of `roles`; Forbidden (one sentence) otherwise."""
    allowed = tuple(r for r in ROLES if r in set(roles))
    if actor is None or actor.role not in allowed:
        who = "A reader without a role" if actor is None else f"The role {actor.role}"
        raise Forbidden(f"{who} may not {doing}: it needs {' or '.join(allowed)}.")
    return actor


def cli_actor() -> Actor:
    """Who runs a command: the OS user, with the role HEALBRIDGE_ROLE (default oncall). The role
    decides what the output shows (support sees PHI masked) and what may be applied."""
    role = os.environ.get(ROLE_ENV, CLI_DEFAULT_ROLE).strip().lower()
    if role not in ROLES:
        raise OpsError(f"{ROLE_ENV} must be one of {', '.join(ROLES)}.")
    return Actor(getpass.getuser(), role)


def demo_actor(role: str | None) -> Actor:
    """The demo's reader in the role picked (DEMO_DEFAULT_ROLE when none or an unknown one)."""
    return Actor(DEMO_WHO, role if role in ROLES else DEMO_DEFAULT_ROLE)


__all__ = ["APPLY_ROLES", "AUDIT_ROLES", "DEMO_DEFAULT_ROLE", "DEMO_WHO", "MASK_ROLES", "RANK", "ROLES", "ROLE_ENV",
           "RUN_ROLES", "Actor", "Forbidden", "cli_actor", "demo_actor", "require"]
