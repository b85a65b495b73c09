"""The Fixes page on freshly generated demo stores: plan, the confirmation dialog, apply, the roles
(the runner refuses support, not just the button) and the audit table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.apptest_support import APP
from tests.support import check_keys


@pytest.fixture
def clean_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def _page(fix_id: str, role: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("views/fixes.py")
    at.query_params["fix"] = fix_id
    if role:
        at.session_state["healbridge.role"] = role
    return at.run(timeout=120)


def _texts(elements: Any) -> list[str]:
    return [str(e.value) for e in elements]


def test_fixes_page_plan_apply_and_roles(fresh: tuple[Any, dict[str, Any]], clean_caches: None) -> None:
    stores, manifest = fresh
    fid = "deactivate_expired_tokens"
    planted = manifest["planted"]["token.expired_active"]
    n = planted["count"]

    at = _page(fid, role="support")  # the demo's default role is oncall (lib.roles.DEMO_DEFAULT_ROLE)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Fixes"
    assert at.selectbox(key="fixes.choice").value == fid
    assert at.sidebar.selectbox[0].value == "support"
    assert at.button(key="fixes.apply").disabled  # support: the button is off, and the runner refuses anyway
    overview = at.dataframe[0].value
    row = overview[overview["fix"] == f"fixes?fix={fid}"].iloc[0]
    assert row["needed"] == "yes" and row["counts"] == f"token.expired_active = {n}"
    blocked = overview[overview["fix"] == "fixes?fix=token_constraints"].iloc[0]
    assert blocked["blocked by"].startswith("dup.access_tokens = ") and blocked["report"] == "duplicates"

    # plan: the rows it would touch and the counts
    at.button(key="fixes.plan").click().run()
    assert any(f"Plan of {fid}: planned ({n} rows" in t for t in _texts(at.info))
    frames = [d.value for d in at.dataframe]
    sample = next(f for f in frames if "key" in f.columns)
    assert sorted(sample["key"]) == planted["keys"]
    counts = next(f for f in frames if list(f.columns) == ["check", "before", "after"])
    assert counts.set_index("check").loc["token.expired_active"].tolist() == [n, 0]

    # the runner, not the button, refuses support: open the dialog anyway
    at.session_state["fixes.dialog"] = fid
    at.run()
    at.text_input(key="fixes.confirm_id").input(fid)
    at.text_input(key="fixes.confirm_rows").input(str(n))
    at.text_area(key="fixes.reason").input("trying as support")
    at.button(key="fixes.confirm").click().run()
    assert any(f"Apply of {fid}: refused: role" in t for t in _texts(at.error)), _texts(at.error)
    assert len(check_keys(stores)["token.expired_active"]) == n

    # oncall: the dialog wants the fix id and the row count typed back, and a reason
    at.sidebar.selectbox[0].select("oncall").run()
    assert not at.button(key="fixes.apply").disabled
    at.button(key="fixes.plan").click().run()
    at.button(key="fixes.apply").click().run()
    at.text_input(key="fixes.confirm_id").input("deactivate_expired")
    at.text_input(key="fixes.confirm_rows").input(str(n))
    at.text_area(key="fixes.reason").input("seed 000 clean-up")
    at.button(key="fixes.confirm").click().run()
    assert f"Type {fid} exactly to confirm." in _texts(at.error)
    at.text_input(key="fixes.confirm_id").input(fid)
    at.text_input(key="fixes.confirm_rows").input(str(n + 5))
    at.button(key="fixes.confirm").click().run()
    assert f"The plan touched {n} rows, not {n + 5}." in _texts(at.error)
    assert len(check_keys(stores)["token.expired_active"]) == n
    at.text_input(key="fixes.confirm_rows").input(str(n))
    at.button(key="fixes.confirm").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"Apply of {fid}: applied ({n} rows" in t for t in _texts(at.success)), _texts(at.success)
    assert check_keys(stores)["token.expired_active"] == []
    audit = at.dataframe[-1].value
    top = audit.iloc[0]
    assert (top["fix"], top["action"], top["outcome"], top["rows"], top["role"], top["who"], top["reason"]) == (
        fid, "apply", "applied", n, "oncall", "demo reader", "seed 000 clean-up")
    assert "refused: role" in set(audit["outcome"]) and "planned" in set(audit["outcome"])
    assert any("Nothing to do now" in t for t in _texts(at.success))
