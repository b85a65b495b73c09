"""Access control and PHI masking, on the real demo stores (no mocks).

- Roles come from the signed-in identity's claims and the configuration (lib.auth), tested directly.
- Outside the demo (real stores configured through environment variables pointing at the demo's
  databases and emulators) no page shows anything to a reader who is not signed in, who is signed in
  without a role, or when sign-in is not configured: every page is only the sign-in prompt. AppTest
  seeds `st.user` (AppTest.user) and `st.secrets` (AppTest.secrets) for the signed-in cases.
- The role support sees no full demo email, phone or name on any page (every table, CSV included);
  oncall sees them. The Patient page's lookup is audited; unmasking one patient needs a reason and is
  audited; the Audit page is admin's alone.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from lib import audit, auth, phi, roles
from lib.errors import ConfigError
from lib.roles import Actor
from lib.services import PROJECT_ID, EmbeddedServices
from tests.apptest_support import rendered, signed_in

pytestmark = pytest.mark.usefixtures("fresh_caches")

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT = 120
PAGES = ["pages/health.py", "pages/stores.py", "pages/checks.py", "pages/duplicates.py", "pages/tokens.py",
         "pages/constraints.py", "pages/patient.py", "pages/fixes.py", "pages/review.py", "pages/audit.py"]
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test-cookie-secret-0123456789",
        "client_id": "healbridge-ops", "client_secret": "test-client-secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
ROLES = {"admin": ["ada@hospital.example"], "oncall": ["group:oncall"], "support": ["@hospital.example"]}


def _app(page: str, *, user: dict[str, Any] | None = None, secrets: dict[str, Any] | None = None,
         role: str | None = None, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page(page)
    if user is not None:
        at.user = user
    if secrets is not None:
        at.secrets = secrets
    if role is not None:
        at.session_state["healbridge.role"] = role
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run(timeout=TIMEOUT)


# ------------------------------------------------------------------ roles from claims (lib.auth)
def test_roles_resolve_from_email_domain_and_group_claims() -> None:
    roles = auth.parse_roles({**ROLES, "group_claim": "groups"})
    signed = {"is_logged_in": True}
    assert auth.resolve_role({**signed, "email": "Ada@Hospital.example"}, roles) == "admin"
    assert auth.resolve_role({**signed, "email": "bob@hospital.example"}, roles) == "support"
    assert auth.resolve_role({**signed, "email": "bob@hospital.example", "groups": ["oncall"]}, roles) == "oncall"
    assert auth.resolve_role({**signed, "email": "eve@elsewhere.example"}, roles) is None
    assert auth.resolve_role({**signed, "email": "ada@hospital.example", "email_verified": False}, roles) is None
    assert auth.resolve_role({"email": "ada@hospital.example"}, roles) is None  # not signed in
    assert auth.resolve_role({"is_logged_in": False, "email": "ada@hospital.example"}, roles) is None
    assert auth.resolve_role({**signed, "email": "ada@hospital.example.evil"}, roles) is None


def test_roles_from_the_environment_win_and_bad_configuration_is_one_sentence(monkeypatch: Any) -> None:
    monkeypatch.setenv(auth.ROLES_ENV, "oncall=ada@hospital.example; support=@hospital.example")
    roles = auth.load_roles({"roles": {"admin": ["ada@hospital.example"]}})
    assert auth.resolve_role({"is_logged_in": True, "email": "ada@hospital.example"}, roles) == "oncall"
    for raw in ("admin", "root=ada@hospital.example", "admin=not-an-email"):
        monkeypatch.setenv(auth.ROLES_ENV, raw)
        with pytest.raises(ConfigError) as err:
            auth.load_roles({})
        assert "\n" not in str(err.value) and str(err.value).endswith(".")
    monkeypatch.delenv(auth.ROLES_ENV)
    assert auth.load_roles({}).empty
    assert auth.auth_configured({"auth": AUTH}) and not auth.auth_configured({}) and not auth.auth_configured(
        {"auth": {"client_id": "x"}})


def test_masking_functions() -> None:
    assert phi.mask_email("jane.doe@example.com") == "j•••@example.com"
    assert phi.mask_phone("+14158672345") == "•••• 2345"
    assert phi.mask_name("Jane  Doe") == "J••• D•••"
    assert phi.mask_dob("1980-04-12") == "••••-••-••"
    key = "uidA|email|firebase_auth=jane@example.com|core=JANE@example.org"
    assert phi.mask_key(key) == "uidA|email|firebase_auth=j•••@example.com|core=J•••@example.org"
    assert phi.mask_key("uidA|phone|core=+14158672345|supabase=(415) 867-2399") == \
        "uidA|phone|core=•••• 2345|supabase=•••• 2399"
    assert phi.mask_text("sync failed for jane@example.com at +14158672345") == \
        "sync failed for j•••@example.com at •••• 2345"
    assert phi.mask_key("3f0c9a3e-1b2c-4d5e-8f90-123456789012") == "3f0c9a3e-1b2c-4d5e-8f90-123456789012"
    df = pd.DataFrame({"email": ["a@b.example"], "full_name": ["Ann Lee"], "note": ["call +14155550123"], "n": [1]})
    out = phi.for_role(df, "support")
    assert out.iloc[0].tolist() == ["a•••@b.example", "A••• L•••", "call •••• 0123", 1]
    assert phi.for_role(df, "oncall") is df and phi.for_role(df, "support", uid="u", unmasked="u") is df


# ------------------------------------------------------------------ outside the demo: nothing without sign-in
@pytest.fixture
def configured(demo: Any, monkeypatch: Any) -> dict[str, str]:
    """Real stores configured through the environment: the demo's core and Supabase databases and its
    emulators, as a deployment would name them."""
    demo.ensure()
    services = EmbeddedServices(demo.settings)
    uris = services.state.raw["postgres"]["uris"]
    monkeypatch.setenv("CORE_DATABASE_URL", uris["core"])
    monkeypatch.setenv("SUPABASE_DB_URL", uris["supabase"])
    monkeypatch.setenv("OPS_DATABASE_URL", uris["ops"])
    monkeypatch.setenv("FIREBASE_PROJECT_ID", PROJECT_ID)
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", services.auth_host() or "")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", services.firestore_host() or "")
    return uris


def _demo_values(stores: Any, n: int = 400) -> list[str]:
    """Emails, phones and names of the demo's patients (long enough to be unmistakable)."""
    with stores.core.read() as conn:
        rows = conn.execute(text("SELECT u.email, u.phone, p.full_name FROM users u JOIN patients p ON p.user_id = u.id "
                                 "ORDER BY u.firebase_uid LIMIT :n"), {"n": n}).all()
    vals = {v.strip() for r in rows for v in r if v and len(v.strip()) >= 8}
    return sorted(vals)


def _leaks(at: AppTest, values: list[str]) -> list[str]:
    shown = rendered(at, frames=True)
    return [v for v in values if v in shown]


def test_no_page_shows_anything_without_sign_in(configured: dict[str, str], stores: Any) -> None:
    values = _demo_values(stores)
    cases = {
        "sign-in not configured": {"user": {"email": "ada@hospital.example"}, "secrets": {}},
        "not signed in": {"user": {"is_logged_in": False}, "secrets": {"auth": AUTH, "roles": ROLES}},
        "signed in without a role": {"user": signed_in("eve@elsewhere.example"),
                                     "secrets": {"auth": AUTH, "roles": ROLES}},
    }
    for case, kw in cases.items():
        for page in PAGES:
            at = _app(page, query={"q": values[0]}, **kw)
            assert not at.exception, (case, page, [e.value for e in at.exception])
            # AppTest runs the page file even though the navigation knows only the sign-in page: the
            # page's own header (lib.web.page_header) stops it with one sentence
            assert not at.title and not at.dataframe and not at.metric and not at.warning, (case, page)
            assert [e.value for e in at.error] in ([], ["Sign in to see this page."]), (case, page)
            assert not _leaks(at, values), (case, page)
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.user, at.secrets = kw["user"], kw["secrets"]
        at.run(timeout=TIMEOUT)  # the landing URL: the sign-in prompt, and nothing else
        if True:
            assert not at.exception, (case, [e.value for e in at.exception])
            assert [t.value for t in at.title] == ["HealBridge Ops"], (case, at._tree)
            assert len(at.info) == 1 and not at.dataframe and not at.metric and not at.error, case
            assert not _leaks(at, values), case
            assert not [w for w in at.warning if "Demo" in w.value]
            if case == "not signed in":
                assert [b.label for b in at.button] == ["Sign in"]
            if case == "signed in without a role":
                assert "has no role" in at.info[0].value and [b.label for b in at.button] == ["Sign out"]


def test_signed_in_with_a_role_sees_the_pages_and_the_sign_in_is_audited(configured: dict[str, str], stores: Any) -> None:
    admin = Actor("ada@hospital.example", "admin")
    before = len(audit.log(stores, admin, action="signin", limit=10_000))
    user = signed_in("ada@hospital.example", sub="ada-1")
    at = _app("pages/stores.py", user=user, secrets={"auth": AUTH, "roles": ROLES})
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Stores" and [s.value for s in at.success] == ["Reachable"] * 3
    at.run(timeout=TIMEOUT)  # a rerun of the same session is not a new sign-in
    signins = audit.log(stores, admin, action="signin", limit=10_000)
    assert len(signins) == before + 1
    assert (signins.iloc[0]["who"], signins.iloc[0]["role"]) == ("ada@hospital.example", "admin")
    # support (by domain) is signed in too, but the Audit page refuses it: enforced in lib.audit.log
    at = _app("pages/audit.py", user=signed_in("sam@hospital.example"),
              secrets={"auth": AUTH, "roles": ROLES})
    assert not at.exception and not at.dataframe
    assert [e.value for e in at.error] == ["The role support may not read the audit log: it needs admin."]


# ------------------------------------------------------------------ support sees masked PHI on every page (demo)
def test_support_sees_no_full_email_phone_or_name_on_any_page(demo: Any, stores: Any, downloads: dict[str, bytes]) -> None:
    manifest = demo.ensure()
    values = _demo_values(stores)
    drift_values = [p.split("=", 1)[1] for k in manifest["planted"]["sync.field_drift"]["keys"]
                    for p in k.split("|")[2:] if len(p.split("=", 1)[1]) >= 8]
    values = sorted(set(values) | set(drift_values))
    assert len(values) > 500
    with stores.core.read() as conn:
        email, uid = conn.execute(text("SELECT u.email, u.firebase_uid FROM users u JOIN patients p ON p.user_id = u.id "
                                       "WHERE u.email IS NOT NULL ORDER BY u.firebase_uid LIMIT 1")).one()
    for page in PAGES[:-1]:
        at = _app(page, role="support", query={"q": uid} if page == "pages/patient.py" else None)
        assert not at.exception, (page, [e.value for e in at.exception])
        for key in ("run_checks", "health_run"):  # pages that run the checks on a click: support may not
            if any(b.key == key for b in at.button):
                assert at.button(key=key).disabled, (page, key)
        assert at.title and at.title[0].value != "HealBridge Ops", page
        assert not _leaks(at, values), (page, _leaks(at, values)[:5])
    assert downloads, "the pages offered no CSV"
    for name, data in downloads.items():
        body = data.decode()
        assert not [v for v in values if v in body], name
    # the drift keys are in the Checks page's samples, masked but with the uid kept; oncall sees them whole
    first = manifest["planted"]["sync.field_drift"]["keys"][0]
    for role, want, not_want in (("support", phi.mask_key(first), first), ("oncall", first, phi.mask_key(first))):
        at = _app("pages/checks.py", role=role)  # the server's latest run, no click needed
        sample = at.dataframe[0].value.set_index("check").loc["sync.field_drift", "sample"]
        assert sample.startswith(want) and not_want not in sample, (role, sample)
    # the patient page for support: masked, the lookup audited with the kind of identifier and the uid
    admin = Actor("ada", "admin")
    n_lookups = len(audit.log(stores, admin, action="lookup", limit=10_000))
    at = _app("pages/patient.py", role="support", query={"q": uid})
    assert email not in rendered(at, frames=True) and phi.mask_email(email) in rendered(at, frames=True)
    lookups = audit.log(stores, admin, action="lookup", limit=10_000)
    assert len(lookups) == n_lookups + 1
    assert lookups.iloc[0]["role"] == "support" and uid in lookups.iloc[0]["target"]
    assert '"kind": "uid"' in lookups.iloc[0]["detail"]
    # unmask needs a reason; with one, it is audited and the values show in full
    reason_box = next(t for t in at.text_input if t.key == f"unmask_reason_{uid}")
    at.button(key=f"unmask_{uid}").click().run(timeout=TIMEOUT)
    assert any("Give a reason" in e.value for e in at.error)
    assert email not in rendered(at, frames=True)
    reason_box = next(t for t in at.text_input if t.key == f"unmask_reason_{uid}")
    reason_box.input("ticket HB-1234: the patient called").run(timeout=TIMEOUT)
    at.button(key=f"unmask_{uid}").click().run(timeout=TIMEOUT)
    assert not at.exception
    assert email in rendered(at, frames=True)
    unmasks = audit.log(stores, admin, action="unmask", limit=5)
    assert (unmasks.iloc[0]["target"], unmasks.iloc[0]["reason"], unmasks.iloc[0]["role"]) == (
        uid, "ticket HB-1234: the patient called", "support")
    # the Audit page is admin's: support and oncall get the one sentence, admin the log
    for role in ("support", "oncall"):
        at = _app("pages/audit.py", role=role)
        assert [e.value for e in at.error] == [f"The role {role} may not read the audit log: it needs admin."]
        assert not at.dataframe
    at = _app("pages/audit.py", role="admin")
    assert not at.exception and at.dataframe
    assert {"lookup", "unmask"} <= set(at.dataframe[0].value["action"])


def test_demo_role_picker_is_app_wide_with_oncall_by_default(demo: Any) -> None:
    demo.ensure()
    at = _app("pages/stores.py")
    assert not at.exception, [e.value for e in at.exception]
    assert at.title and at.title[0].value == "Stores", [e.value for e in at.error]
    assert at.sidebar.selectbox[0].label == "Demo role" and at.sidebar.selectbox[0].value == roles.DEMO_DEFAULT_ROLE
    at.sidebar.selectbox[0].select("support").run(timeout=TIMEOUT)
    at.switch_page("pages/fixes.py").run(timeout=TIMEOUT)
    assert any("role **support**" in c.value for c in at.caption)
    assert at.button(key="fixes.apply").disabled


def test_csv_export_checks_the_role_masks_and_is_audited(stores: Any) -> None:
    df = pd.DataFrame({"firebase_uid": ["u1"], "email": ["jane.doe@example.com"], "phone": ["+14158672345"]})
    admin = Actor("ada", "admin")
    before = len(audit.log(stores, admin, action="export", limit=10_000))
    body = audit.export_csv(stores, Actor("sam", "support"), df, "x.csv").decode()
    assert "jane.doe@example.com" not in body and "j•••@example.com" in body and "•••• 2345" in body
    assert "jane.doe@example.com" in audit.export_csv(stores, Actor("olga", "oncall"), df, "x.csv").decode()
    assert "jane.doe@example.com" in audit.export_csv(stores, Actor("sam", "support"), df, "x.csv", uid="u1",
                                                      unmasked="u1").decode()
    with pytest.raises(roles.Forbidden):
        audit.export_csv(stores, Actor("mallory", "guest"), df, "x.csv")
    exports = audit.log(stores, admin, action="export", limit=10_000)
    assert len(exports) == before + 3
    assert re.search(r'"masked": true', exports.iloc[2]["detail"]) and exports.iloc[2]["who"] == "sam"
    assert io.StringIO(body).read().count("\n") == 2

