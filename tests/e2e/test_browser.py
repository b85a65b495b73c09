"""The dashboard in a real browser (Chromium through Playwright) against `streamlit run app.py` on its
own demo stores: every page loads without an exception and shows the numbers the command line finds
(`python -m lib check --json`, the demo manifest); a patient is found by a phone typed in another
format; a CSV download reads back as the check's keys; the support role sees a patient's PHI masked
where oncall sees it whole; a fix planned and applied through its dialog takes its check to 0 on Health.

Every page is screenshotted into test-artifacts/screenshots/. The fix test runs last (it changes the
stores) and refills the demo afterwards.
"""

from __future__ import annotations

import csv
import re
from typing import Any
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa

from lib.checks.ids import BY_ID
from lib.reports import AREA_TITLES, AREAS
from tests.e2e.conftest import E2E, screenshot, wait_ready

FIX = "deactivate_expired_tokens"
FIX_CHECK = "token.expired_active"


# ---------------------------------------------------------------------- reading the page
def main(page: Any) -> Any:
    return page.locator('[data-testid="stMain"]')


def assert_clean(page: Any) -> None:
    """No exception box, no traceback text anywhere on the page."""
    assert page.locator('[data-testid="stException"]').count() == 0, main(page).inner_text()[:2000]
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and 'File "' not in body, body[:2000]


def metric(page: Any, label: str, nth: int | None = None) -> Any:
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")))
    if nth is None:
        assert box.count() == 1, f"{box.count()} metrics labelled {label!r}"
        return box.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return [box.nth(i).locator('[data-testid="stMetricValue"]').inner_text().strip() for i in range(box.count())]


def grid(frame: Any) -> list[dict[str, str]]:
    """The rows a st.dataframe shows (its accessible grid: the rendered rows), as dicts by lower-cased column."""
    frame.locator('table[role="grid"]').wait_for(state="attached", timeout=30_000)
    heads = [h.strip().lower() for h in frame.locator("thead th").all_text_contents()]
    rows = []
    for tr in frame.locator("tbody tr").all():
        cells = [c.strip() for c in tr.locator("td").all_text_contents()]
        rows.append(dict(zip(heads[-len(cells):] if cells else heads, cells, strict=False)))
    return rows


def sidebar_go(page: Any, title: str) -> None:
    """Follow a link of the grouped navigation (same Streamlit session, unlike page.goto)."""
    page.locator('[data-testid="stSidebarNavLink"]', has_text=title).first.click()
    page.wait_for_timeout(300)
    wait_ready(page)


def pick_role(page: Any, role: str) -> None:
    """Choose the demo role in the sidebar's role picker (a combobox)."""
    box = page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Demo role")
    if box.input_value() == role:
        return
    box.click()
    page.get_by_role("option", name=role, exact=True).click()
    page.wait_for_timeout(300)
    wait_ready(page)
    assert box.input_value() == role


def search_patient(page: Any, text: str) -> None:
    box = main(page).get_by_label("Search")
    box.fill(text)
    box.press("Enter")
    page.wait_for_timeout(300)
    wait_ready(page)


def found_count(counts: dict[str, int | None]) -> tuple[int, int]:
    """(checks with findings, of them errors)."""
    found = [c for c, n in counts.items() if n]
    return len(found), sum(BY_ID[c].severity == "error" for c in found)


# ---------------------------------------------------------------------- every page
def test_every_page_loads_and_shows_the_numbers_the_cli_finds(e2e: E2E, page: Any) -> None:
    counts = e2e.counts()
    assert all(n is not None for n in counts.values()), counts  # every store up, every check ran
    found, errors = found_count(counts)
    planted = {c: v["count"] for c, v in e2e.manifest["planted"].items()}
    assert counts == planted  # the CLI agrees with the manifest, so the pages are compared with both

    e2e.open(page, "")
    nav = page.locator('[data-testid="stSidebarNav"]')
    assert [h.strip() for h in nav.locator('[data-testid="stNavSectionHeader"]').all_inner_texts()] == [
        "Monitor", "Investigate", "Fix", "Review"]
    links = {a.inner_text().strip().split("\n")[-1].strip(): a.get_attribute("href") or "" for a in nav.locator("a").all()}
    assert {"Health", "Stores", "Checks", "Duplicates & orphans", "Tokens", "Constraints", "Patient", "Fixes",
            "Weekly review"} <= set(links)

    seen = set()
    for title, href in links.items():
        path = urlparse(href).path.strip("/")
        e2e.open(page, path)
        assert_clean(page)
        heading = main(page).locator("h1").first.inner_text().strip()
        assert heading == title, (title, heading)
        text = main(page).inner_text()
        assert "Demo" in text and "generated patients" in text  # the demo banner on every page
        screenshot(page, path or "health")
        seen.add(path or "health")

        if title == "Health":
            assert f"{found} of {len(counts)} checks have findings, {errors} of them errors." in text
            per_area = {a: sum(n or 0 for c, n in counts.items() if BY_ID[c].area == a) for a in AREAS}
            assert metric(page, "Findings", nth=0) == [f"{per_area[a]:,}" for a in AREAS]
            for a in AREAS:
                assert AREA_TITLES[a] in text
        elif title == "Stores":
            alerts = main(page).locator('[data-testid="stAlertContentSuccess"]').all_inner_texts()
            assert [a.strip().split("\n")[-1] for a in alerts] == ["Reachable"] * 3
            assert all(v.endswith(" ms") for v in metric(page, "Latency", nth=0))
        elif title == "Checks":
            assert metric(page, "Checks with findings") == f"{found} of {len(counts)}"  # the server's latest run
            main(page).get_by_role("button", name="Run checks now").click()
            page.wait_for_timeout(300)
            wait_ready(page)
            assert_clean(page)
            assert metric(page, "Checks with findings") == f"{found} of {len(counts)}"
            assert metric(page, "Errors with findings") == str(errors)
            assert metric(page, "Could not run") == "0"
            shown = {r["check"]: r["count"] for r in grid(main(page).locator('[data-testid="stDataFrame"]').first)
                     if r.get("check")}
            assert shown and all(shown[c] == f"{counts[c]:,}" for c in shown)
            screenshot(page, "checks")
        elif title == "Duplicates & orphans":
            labels = main(page).locator('[data-testid="stExpander"] summary').all_inner_texts()
            want = [f"{c} · {n:,} · " for c, n in counts.items() if n and BY_ID[c].area in ("duplicates", "orphans")]
            assert len(labels) == len(want) and all(any(w in lab for lab in labels) for w in want), (labels, want)
            summary = {r["check"]: r["count"] for r in grid(main(page).locator('[data-testid="stDataFrame"]').first)}
            assert all(summary[c] == f"{counts[c]:,}" for c in summary)
        elif title == "Tokens":
            assert metric(page, "Expired but still active") == f"{counts['token.expired_active']:,}"
            assert metric(page, "Expiring within 24 h") == f"{counts['token.expiring_soon']:,}"
            assert metric(page, "Expired, never used") == f"{counts['token.unused_expired']:,}"
        elif title == "Constraints":
            drift = any(counts[c] for c in counts if BY_ID[c].area == "constraints")
            assert ("Drift" in main(page).locator("h3").all_inner_texts()) == drift
            assert re.search(r"Constraints \(\d[\d,]*\)", text) and re.search(r"Indexes \(\d[\d,]*\)", text)
        elif title == "Patient":
            assert "Type a Firebase UID, an email, a phone number" in text  # the empty state
        elif title == "Fixes":
            assert "Audit log" in text
            fixes = grid(main(page).locator('[data-testid="stDataFrame"]').first)
            assert any(r.get("title") for r in fixes)
        elif title == "Weekly review":
            assert metric(page, "Still failing") == str(found)
    assert len(seen) == len(links)


# ---------------------------------------------------------------------- flows
def _planted_patient(e2e: E2E) -> dict[str, str]:
    """A planted patient (a UID among the manifest's keys) whose core phone is E.164 +1 and not shared,
    with their core email: read from the core database."""
    uids = sorted({k.split("|")[0] for c, v in e2e.manifest["planted"].items()
                   if c.startswith("sync.") for k in v["keys"]})
    engine = sa.create_engine(e2e.core_url())
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "select u.firebase_uid, u.phone, u.email from users u where u.firebase_uid = any(:uids) "
                "and u.role = 'PATIENT' and u.phone ~ '^\\+1[0-9]{10}$' and u.email like '%@%' "
                "and (select count(*) from users v where v.phone = u.phone) = 1 order by u.firebase_uid"),
                {"uids": uids}).mappings().all()
    finally:
        engine.dispose()
    assert rows, "no planted patient with a US phone in the core database"
    return dict(rows[0])


def test_find_a_patient_by_a_phone_typed_in_another_format(e2e: E2E, page: Any) -> None:
    who = _planted_patient(e2e)
    digits = who["phone"][2:]
    typed = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"  # +14152000012 -> (415) 200-0012
    e2e.open(page, "patient")
    search_patient(page, typed)
    assert_clean(page)
    text = main(page).inner_text()
    assert f"Firebase UID {who['firebase_uid']}" in text, text[:1500]
    assert "match" not in main(page).locator("strong").all_inner_texts()  # one patient, not a list
    screenshot(page, "patient_found")


def test_download_a_csv_and_read_it_back(e2e: E2E, page: Any, tmp_path: Any) -> None:
    planted = e2e.manifest["planted"]
    cid = next(c for c in sorted(planted) if c.startswith("orphan.") and planted[c]["count"] >= 2)
    e2e.open(page, "duplicates")
    expander = main(page).locator('[data-testid="stExpander"]').filter(has_text=f"{cid} · ")
    expander.locator("summary").click()
    button = expander.get_by_role("button", name="CSV of this report")
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename == f"{cid}.csv"
    path = tmp_path / download.suggested_filename
    download.save_as(str(path))
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {"check", "severity", "key"} <= set(rows[0])
    assert {r["check"] for r in rows} == {cid}
    assert sorted(r["key"] for r in rows) == sorted(planted[cid]["keys"])
    assert_clean(page)


def test_support_sees_a_patient_masked_and_oncall_whole(e2e: E2E, page: Any) -> None:
    who = _planted_patient(e2e)
    e2e.open(page, "patient")
    pick_role(page, "support")
    search_patient(page, who["firebase_uid"])
    assert_clean(page)

    def shown() -> str:
        wait_ready(page)  # the rerun after the role change has drawn its tables
        frames = main(page).locator('[data-testid="stDataFrame"]')
        frames.locator("visible=true").first.wait_for(timeout=60_000)
        visible = [frames.nth(i) for i in range(frames.count()) if frames.nth(i).is_visible()]  # not in closed tabs
        assert visible
        cells = " ".join(" ".join(r.values()) for f in visible for r in grid(f))
        return main(page).inner_text() + " " + cells

    text = shown()
    assert who["firebase_uid"] in text  # the patient is shown...
    assert who["email"] not in text and who["phone"] not in text  # ...without their full email or phone
    screenshot(page, "patient_support")

    pick_role(page, "oncall")
    assert_clean(page)
    text = shown()
    assert who["email"] in text and who["phone"] in text


def test_a_patient_disabled_in_firebase_is_flagged_with_links_to_the_fixes(e2e: E2E, page: Any) -> None:
    uid = e2e.manifest["planted"]["identity.disabled_live_in_supabase"]["keys"][0]
    e2e.open(page, "patient")
    search_patient(page, uid)
    assert_clean(page)
    alert = main(page).locator('[data-testid="stAlertContentError"]').filter(has_text="Disabled in Firebase Auth")
    assert alert.count() == 1
    text = alert.inner_text()
    assert "still live in Supabase" in text and "active doctor connection" in text
    assert "Firebase Auth records no date of disabling" in text
    href = alert.get_by_role("link", name="ban_disabled_patients_in_supabase").get_attribute("href") or ""
    assert href.endswith("fixes?fix=ban_disabled_patients_in_supabase")
    screenshot(page, "patient_disabled")


def test_zz_plan_and_apply_a_fix_through_its_dialog_then_its_check_is_0_on_health(e2e: E2E, page: Any) -> None:
    """Last in the module: it changes the stores (and refills the demo afterwards)."""
    before = e2e.counts()
    assert before[FIX_CHECK], f"the demo planted no {FIX_CHECK}"
    try:
        e2e.open(page, f"fixes?fix={FIX}")
        pick_role(page, "oncall")
        assert_clean(page)
        main(page).get_by_role("button", name="Plan").click()
        page.wait_for_timeout(300)
        wait_ready(page)
        plan = main(page).locator('[data-testid="stAlert"]', has_text=f"Plan of {FIX}").inner_text()
        rows = int(re.search(r"\((\d+) rows", plan).group(1))  # type: ignore[union-attr]
        assert rows == before[FIX_CHECK]

        main(page).get_by_role("button", name="Apply…").click()
        dialog = page.get_by_role("dialog")
        dialog.wait_for()
        dialog.get_by_label("Type the fix id").fill(FIX)
        dialog.get_by_label("Type the row count of the plan").fill(str(rows))
        dialog.get_by_label("Reason (kept in the audit log)").fill("e2e: expired tokens left active")
        dialog.get_by_label("Reason (kept in the audit log)").press("Tab")
        page.wait_for_timeout(300)
        screenshot(page, "fixes_dialog")
        dialog.get_by_role("button", name="Apply now").click()
        page.wait_for_timeout(500)
        wait_ready(page)
        assert_clean(page)
        assert page.get_by_role("dialog").count() == 0
        done = main(page).locator('[data-testid="stAlertContentSuccess"]', has_text=f"Apply of {FIX}").inner_text()
        assert f"({rows} rows" in done
        screenshot(page, "fixes_applied")

        sidebar_go(page, "Health")  # the same session: its cached check run was cleared by the apply
        assert_clean(page)
        after = e2e.counts()
        assert after[FIX_CHECK] == 0
        tokens = sum(n or 0 for c, n in after.items() if BY_ID[c].area == "tokens")
        tiles = metric(page, "Findings", nth=0)
        assert tiles[AREAS.index("tokens")] == f"{tokens:,}"
        assert tokens == sum(n or 0 for c, n in before.items() if BY_ID[c].area == "tokens") - before[FIX_CHECK]
        sidebar_go(page, "Tokens")
        assert metric(page, "Expired but still active") == "0"
    finally:
        e2e.reset()


@pytest.fixture(autouse=True)
def _no_browser_errors(page: Any) -> Any:
    """A page error (an uncaught exception in the browser) fails the test too."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield
    assert not errors, errors
