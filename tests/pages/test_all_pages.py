"""What every page does, rendered one after the other: the demo banner, a malformed configuration as one
sentence without its secret, nothing shown without sign-in (outside the demo), no full email, phone or
name for support, and "all good" on the clean demo (last: it loads the clean data set once)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from lib import audit, history, phi, reports
from lib.checks.ids import AREA_PAGE, CHECK_IDS, CHECKS
from lib.checks.runner import run_checks
from lib.roles import Actor
from tests.apptest_support import APP, rendered, signed_in
from tests.pages.support import (
    DUP_ORPHAN,
    PAGES,
    TIMEOUT,
    _app,
    _app_as,
    _counts,
    _demo_values,
    _frame,
    _leaks,
    _metric,
    _ok,
    _tables,
)
from tests.support import AUTH, ROLES

pytestmark = pytest.mark.usefixtures("fresh_caches")


MONITORING_PAGES = ["views/health.py", "views/duplicates.py", "views/tokens.py", "views/constraints.py",
                    "views/review.py"]


@pytest.mark.parametrize("page", MONITORING_PAGES)
def test_every_monitoring_page_says_it_is_a_demo(demo: Any, page: str) -> None:
    demo.ensure()
    at = _app(page)
    _ok(at)
    banners = [w.value for w in at.warning if "Demo" in w.value]
    assert len(banners) == 1 and "generated" in banners[0]


@pytest.mark.parametrize("page", ["views/stores.py", "views/checks.py"])
def test_every_page_says_it_is_a_demo(demo: Any, page: str) -> None:
    demo.ensure()
    at = _app(page)
    assert not at.exception
    banners = [w.value for w in at.warning if "Demo" in w.value]
    assert len(banners) == 1 and "generated" in banners[0]


@pytest.mark.parametrize("page", MONITORING_PAGES)
def test_malformed_configuration_is_one_sentence_on_every_monitoring_page(demo: Any, monkeypatch: Any,
                                                                          page: str) -> None:
    monkeypatch.setenv("CORE_DATABASE_URL", "not a url :: hunter2secret")
    at = _app(page)
    _ok(at)
    assert len(at.error) == 1 and "CORE_DATABASE_URL" in at.error[0].value
    assert "hunter2secret" not in rendered(at) and "Traceback" not in rendered(at)
    assert not at.dataframe


@pytest.mark.parametrize("page", ["views/stores.py", "views/checks.py"])
def test_malformed_configuration_is_one_sentence_without_the_secret(demo: Any, monkeypatch: Any, page: str) -> None:
    monkeypatch.setenv("CORE_DATABASE_URL", "not a url :: secretpw")
    at = _app(page)
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "CORE_DATABASE_URL" in message
    assert "Traceback" not in message
    assert "secretpw" not in rendered(at)
    assert not at.dataframe  # the page stopped there


def test_no_page_shows_anything_without_sign_in(configured: dict[str, str], stores: Any) -> None:
    values = _demo_values(stores)
    cases = {
        "sign-in not configured": {"user": {"email": "ada@hospital.example"}, "secrets": {}},
        "not signed in": {"user": {"is_logged_in": False}, "secrets": {"auth": AUTH, "roles": ROLES}},
        "signed in without a role": {"user": signed_in("eve@elsewhere.example"),
                                     "secrets": {"auth": AUTH, "roles": ROLES}},
    }
    for case, kw in cases.items():
        for page in [None, *PAGES]:  # the landing URL, then each page's own
            at = AppTest.from_file(APP, default_timeout=TIMEOUT)
            if page is not None:
                at.switch_page(page)
            at.user, at.secrets = kw["user"], kw["secrets"]
            at.query_params["q"] = values[0]
            at.run(timeout=TIMEOUT)  # through the router: the sign-in prompt, and nothing else
            assert not at.exception, (case, page, [e.value for e in at.exception])
            assert [t.value for t in at.title] == ["HealBridge Ops"], (case, page, at._tree)
            assert len(at.info) == 1 and not at.dataframe and not at.metric and not at.error, (case, page)
            assert not _leaks(at, values), (case, page)
            assert not [w for w in at.warning if "Demo" in w.value], (case, page)
            if case == "not signed in":
                assert [b.label for b in at.button] == ["Sign in"], (case, page)
            if case == "signed in without a role":
                assert "has no role" in at.info[0].value and [b.label for b in at.button] == ["Sign out"], (case, page)
            if page is None:
                continue
            # the page's file run on its own, without the router: its own header (lib.web.page_header)
            # stops it with one sentence
            alone = AppTest.from_file(str(Path(APP).parent / page), default_timeout=TIMEOUT)
            alone.user, alone.secrets = kw["user"], kw["secrets"]
            alone.query_params["q"] = values[0]
            alone.run(timeout=TIMEOUT)
            assert not alone.exception, (case, page, [e.value for e in alone.exception])
            assert not alone.title and not alone.dataframe and not alone.metric and not alone.warning, (case, page)
            assert [e.value for e in alone.error] in ([], ["Sign in to see this page."]), (case, page)
            assert not _leaks(alone, values), (case, page)


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
        at = _app_as(page, role="support", query={"q": uid} if page == "views/patient.py" else None)
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
        at = _app_as("views/checks.py", role=role)  # the server's latest run, no click needed
        sample = at.dataframe[0].value.set_index("check").loc["sync.field_drift", "sample"]
        assert sample.startswith(want) and not_want not in sample, (role, sample)
    # the patient page for support: masked, the lookup audited with the kind of identifier and the uid
    admin = Actor("ada", "admin")
    n_lookups = len(audit.log(stores, admin, action="lookup", limit=10_000))
    at = _app_as("views/patient.py", role="support", query={"q": uid})
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
        at = _app_as("views/audit.py", role=role)
        assert [e.value for e in at.error] == [f"The role {role} may not read the audit log: it needs admin."]
        assert not at.dataframe
    at = _app_as("views/audit.py", role="admin")
    assert not at.exception and at.dataframe
    assert {"lookup", "unmask"} <= set(at.dataframe[0].value["action"])


@pytest.mark.parametrize(
    ("page", "text"),
    [
        ("views/health.py", f"All good: none of the {len(CHECK_IDS)} checks has a finding."),
        ("views/duplicates.py", f"All good: none of these {sum(AREA_PAGE[c.area] == 'duplicates' for c in CHECKS)} checks "
                                 "finds a duplicate or an orphan."),
        ("views/tokens.py", "All good: no expired token is still active, none expires soon, none expired unused."),
        ("views/constraints.py", "All good: every expected constraint is there and valid"),
        ("views/review.py", "All good: no check has a finding in run #"),
    ],
)
def test_clean_demo_says_all_good(demo: Any, page: str, text: str) -> None:
    demo.ensure(clean=True)
    if page == "views/review.py":
        stores = demo.stores()
        try:
            history.save_run(stores, run_checks(stores))
        finally:
            stores.dispose()
    at = _app(page)
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success if s.value.startswith(text)], [s.value for s in at.success]
    if page == "views/health.py":
        assert not _tables(at, "health_failing")
        badges = [m.value for m in at.markdown if "badge[" in m.value]
        assert len(badges) == 3 + len(reports.AREAS) and all(b.startswith(":green-badge[") for b in badges)
        assert _metric(at, "Findings") == ["0"] * len(reports.AREAS)  # the Access tile among them
    if page == "views/duplicates.py":
        assert _counts(_frame(at, "dup_summary")) == dict.fromkeys(DUP_ORPHAN, 0)
    if page == "views/review.py":
        assert set(_frame(at, "review_table")["after"]) == {0}
