"""app.py, the router: its gate (a reader signed in with a role sees the pages, the sign-in is audited,
the Audit page refuses support; the demo's role picker holds on every page) and a demo that cannot
start, told in one sentence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lib import audit, roles
from lib.roles import Actor
from tests.apptest_support import signed_in
from tests.pages.support import TIMEOUT, _app, _app_as
from tests.support import AUTH, ROLES

pytestmark = pytest.mark.usefixtures("fresh_caches")


def test_signed_in_with_a_role_sees_the_pages_and_the_sign_in_is_audited(configured: dict[str, str], stores: Any) -> None:
    admin = Actor("ada@hospital.example", "admin")
    before = len(audit.log(stores, admin, action="signin", limit=10_000))
    user = signed_in("ada@hospital.example", sub="ada-1")
    at = _app_as("views/stores.py", user=user, secrets={"auth": AUTH, "roles": ROLES})
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Stores" and [s.value for s in at.success] == ["Reachable"] * 3
    at.run(timeout=TIMEOUT)  # a rerun of the same session is not a new sign-in
    signins = audit.log(stores, admin, action="signin", limit=10_000)
    assert len(signins) == before + 1
    assert (signins.iloc[0]["who"], signins.iloc[0]["role"]) == ("ada@hospital.example", "admin")
    # support (by domain) is signed in too, but the Audit page refuses it: enforced in lib.audit.log
    at = _app_as("views/audit.py", user=signed_in("sam@hospital.example"),
                 secrets={"auth": AUTH, "roles": ROLES})
    assert not at.exception and not at.dataframe
    assert [e.value for e in at.error] == ["The role support may not read the audit log: it needs admin."]


def test_demo_role_picker_is_app_wide_with_oncall_by_default(demo: Any) -> None:
    demo.ensure()
    at = _app_as("views/stores.py")
    assert not at.exception, [e.value for e in at.exception]
    assert at.title and at.title[0].value == "Stores", [e.value for e in at.error]
    assert at.sidebar.selectbox[0].label == "Demo role" and at.sidebar.selectbox[0].value == roles.DEMO_DEFAULT_ROLE
    at.sidebar.selectbox[0].select("support").run(timeout=TIMEOUT)
    at.switch_page("views/fixes.py").run(timeout=TIMEOUT)
    assert any("role **support**" in c.value for c in at.caption)
    assert at.button(key="fixes.apply").disabled


def test_missing_tool_for_the_demo_is_one_sentence(monkeypatch: Any, tmp_path: Path) -> None:
    """A demo that cannot start (here: the Firestore emulator jar named does not exist) says what to
    install or set, in the status box, without a traceback; nothing is started."""
    data = tmp_path / "d"
    monkeypatch.setenv("HEALBRIDGE_DATA_DIR", str(data))
    monkeypatch.setenv("FIRESTORE_EMULATOR_JAR", str(tmp_path / "missing.jar"))
    at = _app()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "FIRESTORE_EMULATOR_JAR" in errors[0]
    assert at.status and at.status[0].state == "error"
    assert not at.dataframe
    assert not (data / "demo.json").exists()


def test_no_pages_folder_beside_the_router() -> None:
    """Streamlit runs a file of a `pages/` folder beside the main script on its own (its old multipage
    mode) until a session has called st.navigation, so a fresh server's first request to a page would
    skip app.py's gate (tests/e2e/test_navigation.py shows it in a browser). The views are in views/."""
    root = Path(__file__).resolve().parents[2]
    assert (root / "app.py").exists() and (root / "views").is_dir()
    assert not (root / "pages").exists()
