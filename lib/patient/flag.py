"""The flag at the top of the patient page: a patient whose Firebase Auth user is disabled (the
account was closed or blocked) while Supabase still lets them in or their doctors still reach their
records (checks.md, Access: identity.disabled_live_in_supabase, token.active_for_disabled_patient).

Firebase Auth keeps no date of disabling (a UserRecord has `disabled`, and only the account's
creation, last sign-in and last token refresh times). A disabled user can neither sign in nor
refresh a token, so the account was switched off after the later of those two: that is the date the
flag shows, saying what it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lib.patient.view import PatientView
from lib.reports import fix_link

LIVE = "identity.disabled_live_in_supabase"
CONNECTIONS = "token.active_for_disabled_patient"


@dataclass(frozen=True)
class AccessFlag:
    text: str  # one sentence
    severity: str  # error: still reachable somewhere; info: switched off everywhere
    fixes: tuple[tuple[str, str], ...]  # (the fix's id, its link on the Fixes page), the ones needed


def _since(fb: dict[str, object]) -> str:
    times = [datetime.fromisoformat(t) for t in (fb.get("last_sign_in_at"), fb.get("last_refresh_at"))
             if isinstance(t, str) and t]
    if not times:
        return ("since an unknown date (Firebase Auth records no date of disabling, and this user never "
                "signed in)")
    return (f"since some time after {max(times):%Y-%m-%d %H:%M} UTC (its last sign-in or token refresh: "
            "Firebase Auth records no date of disabling)")


def access_flag(view: PatientView) -> AccessFlag | None:
    """The flag, when the patient's Firebase Auth user is disabled; None otherwise (or Auth is down)."""
    fb = view.stores.get("firebase_auth")
    if not fb or not fb.get("disabled"):
        return None
    keys = {f.check: f.keys for f in view.findings}
    if "supabase" in view.down:
        where = "Supabase could not be read"
    else:
        live = LIVE in keys
        n = len(keys.get(CONNECTIONS, []))
        where = (("still live in Supabase" if live else "not live in Supabase (banned or deleted)")
                 + f", {n} active doctor connection{'' if n == 1 else 's'}")
    fixes = tuple((f.fix, link) for f in view.findings if f.check in (CONNECTIONS, LIVE) and f.fix
                  and (link := fix_link(f.fix)))
    severity = "error" if fixes else "info"
    return AccessFlag(f"Disabled in Firebase Auth {_since(fb)}, {where}.", severity,
                      tuple(sorted(fixes, key=lambda x: x[0] != "revoke_disabled_patients_connections")))
