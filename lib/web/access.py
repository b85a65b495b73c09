"""Who is reading: the sign-in gate, the acting person and role, PHI masking and its audit.

Outside the demo, app.py calls gate() before the navigation runs: nobody sees a page until signed
in (st.login, OpenID Connect) with a role from the configuration (lib.auth); page_header() asks
again (actor()), so no page can forget. In the demo a role picker in the sidebar says who is acting
(default oncall, lib.roles.DEMO_DEFAULT_ROLE). Support sees PHI masked (lib.phi) through masked(),
which every read of lib.web applies, and in every CSV (lib.audit.csv_bytes); lookups, unmasks and
exports go to lib.audit.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from lib.errors import OpsError, safe_message
from lib.stores import Stores
from lib.web.frame import fail, get_settings, get_stores, known_secrets, plain, show_error

ROLE_STATE = "healbridge.role"
ACTOR_STATE = "healbridge.actor"
UNMASK_STATE = "healbridge.unmasked"
SIGNIN_STATE = "healbridge.signin_recorded"
LOOKUP_STATE = "healbridge.last_lookup"


def _keep_role() -> None:
    st.session_state[ROLE_STATE] = st.session_state["_healbridge_role_widget"]


def role_picker() -> Any:
    """The reader as lib.roles.Actor (gate() in app.py resolved it: the signed-in person's role, or
    in the demo the role picked in the sidebar), said in a caption. The runner itself refuses an
    apply by the wrong role: this only says who is asking."""
    from lib.roles import APPLY_ROLES

    who = actor()
    st.caption(f"Acting as **{plain(who.who)}** with the role **{plain(who.role)}**"
               + ("" if who.role in APPLY_ROLES else " (plan only)")
               + ("; change it in the sidebar." if get_settings().demo else "."))
    return who


def _st_secrets() -> dict[str, Any]:
    try:
        return st.secrets.to_dict()
    except Exception:  # noqa: BLE001 - no secrets file: nothing configured
        return {}


def _signin_page(message: str, *, login: bool, logout: bool) -> None:
    def page() -> None:
        st.title("HealBridge Ops")
        st.info(message, icon=":material/lock:")
        if login and st.button("Sign in", type="primary", icon=":material/login:", key="healbridge.login"):
            st.login()
        if logout and st.button("Sign out", icon=":material/logout:", key="healbridge.logout"):
            _sign_out()

    # the navigation knows the sign-in page only (no page file is reachable), and whatever page was
    # asked for, the sign-in prompt is what is drawn
    st.navigation([st.Page(page, title="Sign in", icon=":material/lock:", url_path="signin", default=True)],
                  position="hidden")
    page()
    st.stop()


def current_actor() -> Any:
    """The reader as lib.roles.Actor(who, role), or None (outside the demo: not signed in, signed in
    longer ago than SESSION_MAX_AGE_HOURS, or signed in without a role). The role is resolved from
    the current [roles] on every call. A malformed role configuration ends the page with its sentence.
    (Whether the session was signed out is an ops-database lookup: gate() makes it on every run.)"""
    from lib import auth

    settings = get_settings()
    if settings.demo:
        from lib.roles import demo_actor

        return demo_actor(st.session_state.get(ROLE_STATE))
    claims = st.user.to_dict()
    if auth.session_refusal(claims, settings.session_max_age_hours) is not None:
        return None
    try:
        roles = auth.load_roles(_st_secrets())
    except OpsError as exc:
        fail(exc)
    return auth.actor_from_claims(claims, roles)


def demo_role_picker() -> None:
    from lib.roles import DEMO_DEFAULT_ROLE, ROLES

    role = st.session_state.setdefault(ROLE_STATE, DEMO_DEFAULT_ROLE)
    st.sidebar.selectbox(
        "Demo role", ROLES, index=ROLES.index(role) if role in ROLES else ROLES.index(DEMO_DEFAULT_ROLE),
        key="_healbridge_role_widget", on_change=_keep_role,
        help="The demo has no sign-in: pick the role to act in. support sees emails, phones, names and dates "
             "of birth masked and may plan fixes; oncall and admin see them in full and may apply; the Audit "
             "page is for admin.")


def gate() -> Any:
    """Called by app.py before the navigation: the signed-in reader with a role (the Actor), or a
    sign-in page and a stop. The demo: the sidebar role picker, no sign-in."""
    from lib import auth

    settings = get_settings()
    if settings.demo:
        actor = current_actor()  # the role picker is drawn by page_header()
    else:
        if not auth.auth_configured(_st_secrets()):
            _signin_page("Sign-in is not configured: add an [auth] section (OpenID Connect) and a [roles] table to "
                         ".streamlit/secrets.toml, as .streamlit/secrets.toml.example shows. Nothing is shown "
                         "until then.", login=False, logout=False)
        if not st.user.is_logged_in:
            _signin_page("Sign in to see HealBridge Ops.", login=True, logout=False)
        # the cookie lives 30 days and every copy of it signs in: the session must be young enough
        # and not signed out (lib.auth), checked on every run
        claims = st.user.to_dict()
        session = auth.session_id(claims)
        try:
            revoked = session is not None and auth.is_revoked(get_stores(), session)
        except Exception as exc:  # noqa: BLE001 - the revocations cannot be read: no session
            _signin_page(f"Your session cannot be checked, so nothing is shown ({plain(safe_message(exc, known_secrets()))}).",
                         login=False, logout=False)
        refusal = auth.session_refusal(claims, settings.session_max_age_hours, revoked=revoked)
        if refusal is not None:
            _signin_page(refusal, login=True, logout=False)
        actor = current_actor()
        if actor is None:
            _signin_page(f"{plain(st.user.get('email') or 'This account')} has no role in HealBridge Ops: ask an admin "
                         "to add you to [roles].", login=False, logout=True)
        st.sidebar.caption(f"Signed in as **{plain(actor.who)}** ({actor.role})")
        st.sidebar.button("Sign out", icon=":material/logout:", key="healbridge.signout", on_click=_sign_out)
        _record_signin(actor)
    st.session_state[ACTOR_STATE] = actor
    return actor


def _sign_out() -> None:
    """The Sign out buttons: the session revoked in the ops database (every saved copy of its cookie
    is refused from then on) and the `signout` audit event, then Streamlit's st.logout."""
    from lib import auth

    try:
        auth.revoke_session(get_stores(), st.user.to_dict(), current_actor())
    except Exception as exc:  # noqa: BLE001 - the browser's cookie is cleared all the same
        import logging

        logging.getLogger(__name__).error("sign-out could not be recorded: %s", safe_message(exc, known_secrets()))
    st.logout()


def _record_signin(who: Any) -> None:
    """The first time in a session a signed-in reader is seen: the sign-in event (no audit, no access)."""
    from lib import audit, auth

    if st.session_state.get(SIGNIN_STATE) == who:
        return
    try:
        audit.record(get_stores(), who, "signin",
                     detail={"sub": st.user.get("sub"), "session": auth.session_id(st.user.to_dict())})
    except Exception as exc:  # noqa: BLE001
        st.error(f"The audit log cannot be written, so nothing is shown ({plain(safe_message(exc, known_secrets()))}).",
                 icon=":material/lock:")
        st.stop()
    st.session_state[SIGNIN_STATE] = who


def actor() -> Any:
    """The reader of this run (gate() in app.py let them in); outside the demo, no reader ends the
    page here, and a reader seen for the first time in the session is recorded as signed in."""
    who = current_actor()
    if who is None:
        st.error("Sign in to see this page.", icon=":material/lock:")
        st.stop()
    if not get_settings().demo:
        _record_signin(who)
    return who


def masked(obj: Any, uid: str | None = None) -> Any:
    """`obj` (a frame, records, a dataclass) as the reader may see it (lib.phi.for_role)."""
    from lib import phi

    return phi.for_role(obj, actor().role, uid=uid, unmasked=st.session_state.get(UNMASK_STATE))


def may_apply() -> bool:
    """Whether the reader's role may apply fixes (lib.roles.APPLY_ROLES; the runner checks it again)."""
    from lib.roles import APPLY_ROLES

    return actor().role in APPLY_ROLES


def masks_phi() -> bool:
    from lib import phi

    return phi.masks(actor().role)


def unmask_widget(stores: Stores, uid: str) -> None:
    """For support: unmask this one patient with a stated reason (lib.audit.unmask records it)."""
    from lib import audit

    who = actor()
    if not masks_phi():
        return
    if st.session_state.get(UNMASK_STATE) == uid:
        st.caption("This patient is unmasked for you (recorded in the audit log).")
        return
    with st.expander("Emails, phones, names and dates of birth are masked for your role. Unmask this patient…",
                     icon=":material/visibility_off:"):
        reason = st.text_input("Reason (kept in the audit log)", key=f"unmask_reason_{uid}")
        if st.button("Unmask this patient", key=f"unmask_{uid}", icon=":material/visibility:"):
            try:
                audit.unmask(stores, who, uid, reason)
            except OpsError as exc:
                show_error(exc)
                return
            except Exception as exc:  # noqa: BLE001
                show_error(exc)
                return
            st.session_state[UNMASK_STATE] = uid
            st.rerun()


def record_lookup(stores: Stores, found: Any) -> None:
    """Audit a patient lookup once per distinct query of the session (pages rerun on every click);
    raises OpsError (one sentence) when the audit log cannot be written: no audit, no patient."""
    from lib import audit

    mark = (found.query.kind, found.query.value, tuple(found.uids))
    if st.session_state.get(LOOKUP_STATE) == mark:
        return
    try:
        audit.lookup(stores, actor(), found.query.kind, list(found.uids), list(found.down))
    except Exception as exc:  # no audit, no patient
        raise OpsError("The audit log cannot be written, so the patient is not shown "
                       f"({safe_message(exc, known_secrets())}).") from exc
    st.session_state[LOOKUP_STATE] = mark


