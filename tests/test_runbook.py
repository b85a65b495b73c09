"""The runbook (docs/checks.md) as {check id: section} (lib.runbook), and each check of the Checks
page and of the report pages (Duplicates & orphans, Tokens, Constraints) showing its runbook entry in
an expander "Runbook: <id>"; Health, which lists every failing check, shows one entry, picked in a
select box; under Streamlit's AppTest on the real demo."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib import reports, runbook
from lib.checks.ids import CHECK_IDS
from tests import apptest_support

STUB = Path(__file__).parent / "fixtures" / "runbook_stub.md"
TIMEOUT = 180


def test_parse_gives_each_check_its_section() -> None:
    sections = runbook.sections(STUB)
    assert list(sections) == ["dup.open_conversations", "token.expired_active", "orphan.documents_patient"]
    dup = sections["dup.open_conversations"]
    assert dup.startswith("Counts the customers") and dup.endswith("but the newest.")
    assert "## not a heading" in dup  # a fenced block is text, whatever it holds
    assert "### Verify by hand" in sections["token.expired_active"]  # deeper headings stay in the section
    assert "Appendix" not in sections["orphan.documents_patient"]  # a level-1 heading ends it


def test_entry_names_the_file_and_the_anchor(tmp_path: Path) -> None:
    e = runbook.entry("dup.open_conversations", STUB)
    assert e is not None and e.anchor == "dupopen_conversations"
    assert e.link == "tests/fixtures/runbook_stub.md#dupopen_conversations"
    assert runbook.entry("no.such_check", STUB) is None
    assert runbook.sections(tmp_path / "absent.md") == {} and runbook.entry("dup.open_conversations",
                                                                           tmp_path / "absent.md") is None


def test_an_edited_runbook_is_read_again(tmp_path: Path) -> None:
    import os

    path = tmp_path / "checks.md"
    shutil.copy(STUB, path)
    assert "Counts the customers" in runbook.sections(path)["dup.open_conversations"]
    path.write_text("## dup.open_conversations\n\nRewritten.\n")
    os.utime(path, ns=(1, 2_000_000_000_000_000_000))
    assert runbook.sections(path) == {"dup.open_conversations": "Rewritten."}


def _runbook_expanders(at: AppTest) -> dict[str, Any]:
    return {e.label.removeprefix("Runbook: "): e for e in at.expander if e.label.startswith("Runbook: ")}


def _assert_shows_the_runbook(at: AppTest, checks: list[str]) -> None:
    assert not at.exception, [e.value for e in at.exception]
    shown = _runbook_expanders(at)
    assert sorted(shown) == sorted(set(checks)), (sorted(shown), sorted(set(checks)))
    for check, expander in shown.items():
        entry = runbook.entry(check)
        if entry is None:  # the runbook has no section for it (or is absent): said, with where to write it
            assert any(f"## {check}" in c.value for c in expander.caption)
        else:  # the section itself, rendered as Markdown, and where it is
            assert [m.value for m in expander.markdown] == [entry.text]
            assert any(entry.link in c.value for c in expander.caption)


@pytest.mark.usefixtures("fresh_caches")
def test_checks_and_report_pages_show_each_checks_runbook_entry(demo: Any) -> None:
    demo.ensure()
    at = apptest_support.app("views/checks.py", timeout=TIMEOUT)
    _assert_shows_the_runbook(at, list(CHECK_IDS))

    at = apptest_support.app("views/duplicates.py", timeout=TIMEOUT)  # in each check's own expander
    assert not at.exception, [e.value for e in at.exception]
    findings = {e.label.split(" · ")[0]: e for e in at.expander if " · " in e.label}
    assert findings and set(findings) <= set(reports.area_checks("duplicates", "orphans"))
    for check, expander in findings.items():
        entry = runbook.entry(check)
        assert f"**Runbook: {check}**" in [m.value for m in expander.markdown]
        if entry is None:
            assert any(f"## {check}" in c.value for c in expander.caption)
        else:
            assert entry.text in [m.value for m in expander.markdown]
            assert any(entry.link in c.value for c in expander.caption)

    at = apptest_support.app("views/tokens.py", timeout=TIMEOUT)
    _assert_shows_the_runbook(at, reports.area_checks("tokens"))

    at = apptest_support.app("views/constraints.py", timeout=TIMEOUT)
    _assert_shows_the_runbook(at, reports.area_checks("constraints"))

    # Health lists every failing check: one runbook entry at a time, picked in a select box (the worst
    # check first), not an expander each
    at = apptest_support.app("views/health.py", timeout=TIMEOUT)
    failing = next(df.value for df in at.dataframe if isinstance(df.value, pd.DataFrame) and "report" in df.value)
    assert len(failing) > 10  # the demo plants defects
    assert not _runbook_expanders(at)
    picker = at.selectbox(key="health_runbook")
    assert picker.options == list(failing["check"]) and picker.value == failing["check"].iloc[0]
    for check in (failing["check"].iloc[0], failing["check"].iloc[-1]):
        picker.set_value(check).run(timeout=TIMEOUT)
        assert not at.exception, [e.value for e in at.exception]
        entry = runbook.entry(check)
        assert entry is not None and entry.text in [m.value for m in at.markdown]
        assert f"`{entry.link}`" in [c.value for c in at.caption]
        others = [runbook.entry(c) for c in failing["check"] if c != check]
        assert not any(e is not None and e.text in [m.value for m in at.markdown] for e in others)
        picker = at.selectbox(key="health_runbook")


def _stub_page() -> None:
    from pathlib import Path

    from lib import web

    stub = Path.cwd() / "tests" / "fixtures" / "runbook_stub.md"
    web.runbook_entries(["dup.open_conversations", "token.expired_active", "no.such_check"], path=stub)


def test_the_runbook_widget_renders_each_section_and_where_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    at = AppTest.from_function(_stub_page).run(timeout=60)
    assert not at.exception, [e.value for e in at.exception]
    shown = _runbook_expanders(at)
    assert list(shown) == ["dup.open_conversations", "token.expired_active", "no.such_check"]
    for check in ("dup.open_conversations", "token.expired_active"):
        entry = runbook.entry(check, STUB)
        assert entry is not None
        assert [m.value for m in shown[check].markdown] == [entry.text]
        assert [c.value for c in shown[check].caption] == [f"`{entry.link}`"]
    assert [c.value for c in shown["no.such_check"].caption] == [
        "`tests/fixtures/runbook_stub.md` has no section `## no.such_check` yet."]
