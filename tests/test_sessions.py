"""Sign-in sessions on the real ops database (embedded PostgreSQL): a signed-out session is revoked
(its row in session_revocations, append-only, and a `signout` audit event) and refused afterwards,
whatever copy of its cookie comes back; a session older than SESSION_MAX_AGE_HOURS is refused; the
role follows the current [roles] / HEALBRIDGE_ROLES mapping, not the one at sign-in.

The claims are what Streamlit keeps in its `_streamlit_user` cookie: the ID token's claims (iss,
sub, aud, iat, exp, nonce, email, groups) plus is_logged_in. The browser side (cookies replayed after
sign-out and after the maximum age) is tests/e2e/test_login.py.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lib import audit, auth
from lib.config import load_settings
from lib.errors import ConfigError
from lib.roles import Actor

ADMIN = Actor("ada@hospital.example", "admin")
ROLES = {"admin": ["ada@hospital.example"], "oncall": ["group:healbridge-oncall"], "support": ["@hospital.example"]}


def _claims(email: str = "bob@hospital.example", *, age: timedelta = timedelta(0), **more: Any) -> dict[str, Any]:
    """The claims of one fresh sign-in (its own nonce), signed in `age` ago."""
    iat = int(time.time() - age.total_seconds())
    return {"is_logged_in": True, "iss": "http://idp.example", "sub": f"sub-{email}", "aud": "healbridge-ops",
            "iat": iat, "exp": iat + 3600, "nonce": secrets.token_urlsafe(12), "email": email,
            "email_verified": True, "groups": ["healbridge-oncall"], "provider": "default", **more}


def test_a_signed_out_session_is_revoked_in_the_ops_database_and_refused(stores: Any) -> None:
    claims = _claims()
    sid = auth.session_id(claims)
    assert sid is not None and sid == auth.session_id(dict(claims))  # the same cookie, the same session
    assert not auth.is_revoked(stores, sid)
    assert auth.session_refusal(claims, 12, revoked=auth.is_revoked(stores, sid)) is None
    actor = auth.actor_from_claims(claims, auth.parse_roles(ROLES))
    assert actor == Actor("bob@hospital.example", "oncall")
    newest = audit.log(stores, ADMIN, limit=1)["id"]
    last = int(newest.iloc[0]) if len(newest) else 0

    assert auth.revoke_session(stores, claims, actor) == sid
    assert auth.is_revoked(stores, sid)
    refusal = auth.session_refusal(claims, 12, revoked=auth.is_revoked(stores, sid))
    assert refusal is not None and "signed out" in refusal
    # signing out again (a second tab) keeps the one row; the audit log has each sign-out
    auth.revoke_session(stores, claims, actor)
    eng = stores.ops.engine()
    with eng.connect() as conn:
        rows = conn.execute(text("SELECT who, signed_in_at FROM session_revocations WHERE session_id = :s"),
                            {"s": sid}).all()
    assert [tuple(r) for r in rows] == [("bob@hospital.example", datetime.fromtimestamp(claims["iat"], UTC))]
    events = audit.log(stores, ADMIN, action="signout", limit=50)
    events = events[events["id"] > last]
    assert len(events) == 2 and set(events["who"]) == {"bob@hospital.example"} and set(events["role"]) == {"oncall"}
    assert all(f'"session": "{sid}"' in d for d in events["detail"])
    # the same person's next sign-in is another session: not revoked
    again = _claims()
    assert auth.session_id(again) != sid and not auth.is_revoked(stores, auth.session_id(again) or "")
    # a reader without a role signs out too (revoked), without an audit event (never let in)
    eve = _claims("eve@elsewhere.example")
    assert auth.revoke_session(stores, eve, None) is not None and auth.is_revoked(stores, auth.session_id(eve) or "")
    assert len(audit.log(stores, ADMIN, action="signout", limit=50).query(f"id > {last}")) == 2
    # no session (not signed in): nothing to revoke
    assert auth.revoke_session(stores, {"is_logged_in": False}, None) is None


def test_session_revocations_are_append_only(stores: Any) -> None:
    claims = _claims()
    sid = auth.revoke_session(stores, claims, None)
    eng = stores.ops.engine()
    for sql in ("UPDATE session_revocations SET session_id = 'other' WHERE session_id = :s",
                "DELETE FROM session_revocations WHERE session_id = :s", "TRUNCATE session_revocations"):
        with pytest.raises(DBAPIError) as err, eng.begin() as conn:
            conn.execute(text(sql), {"s": sid})
        assert "append-only" in str(err.value.orig), sql
    assert auth.is_revoked(stores, sid or "")


def test_a_session_older_than_the_maximum_age_is_refused() -> None:
    now = datetime.now(UTC)
    assert auth.session_refusal(_claims(age=timedelta(hours=11, minutes=59)), 12, now=now) is None
    old = auth.session_refusal(_claims(age=timedelta(hours=12, minutes=1)), 12, now=now)
    assert old is not None and "expired" in old and "12 hours" in old
    assert auth.session_refusal(_claims(age=timedelta(minutes=31)), 0.5, now=now) is not None
    assert auth.session_refusal(_claims(age=timedelta(minutes=29)), 0.5, now=now) is None
    # a 30-day-old cookie (Streamlit's own lifetime) is refused with the default
    default = load_settings().session_max_age_hours
    assert default == 12
    assert auth.session_refusal(_claims(age=timedelta(days=29)), default, now=now) is not None
    # a sign-in time from the future (beyond clock skew) or none at all: refused, not unlimited
    assert auth.session_refusal(_claims(age=-timedelta(hours=1)), 12, now=now) is not None
    for broken in ({"iat": None}, {"iat": "soon"}, {"iat": True}, {"sub": None}):
        claims = {**_claims(), **broken}
        assert auth.session_id(claims) is None
        assert auth.session_refusal(claims, 12, now=now) is not None, broken


def test_the_maximum_age_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESSION_MAX_AGE_HOURS", "0.25")
    assert load_settings().session_max_age_hours == 0.25
    for bad in ("0", "-1", "soon", "1000"):
        monkeypatch.setenv("SESSION_MAX_AGE_HOURS", bad)
        with pytest.raises(ConfigError) as err:
            load_settings()
        message = str(err.value)
        assert message.startswith("SESSION_MAX_AGE_HOURS ") and message.count(".") == 1 and "soon" not in message


def test_the_role_follows_the_current_mapping_not_the_one_at_sign_in(monkeypatch: pytest.MonkeyPatch) -> None:
    claims = _claims()  # signed in once; the claims (email, groups) stay what the token said
    monkeypatch.delenv(auth.ROLES_ENV, raising=False)
    assert auth.actor_from_claims(claims, auth.load_roles({"roles": ROLES})).role == "oncall"
    # the group taken out of [roles]: the domain's support remains
    assert auth.actor_from_claims(claims, auth.load_roles({"roles": {**ROLES, "oncall": []}})).role == "support"
    monkeypatch.setenv(auth.ROLES_ENV, "admin=bob@hospital.example")
    assert auth.actor_from_claims(claims, auth.load_roles({"roles": ROLES})).role == "admin"
    monkeypatch.setenv(auth.ROLES_ENV, "admin=ada@hospital.example")
    assert auth.actor_from_claims(claims, auth.load_roles({"roles": ROLES})) is None
