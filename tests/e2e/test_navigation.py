"""Every page's own address opens it: the default page (Health) at the root and at /health, the
others at their url_path, without Streamlit's "Page not found"."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import E2E, wait_ready


@pytest.mark.parametrize(("path", "title"), [("", "Health"), ("health", "Health"), ("stores", "Stores"),
                                             ("patient", "Patient"), ("alerts", "Alerts")])
def test_a_page_opens_at_its_own_address(e2e: E2E, page: Any, path: str, title: str) -> None:
    page.goto(f"{e2e.url}/{path}")
    wait_ready(page)
    page.wait_for_timeout(1500)  # "Page not found" is a dialog that shows after the first run
    body = page.locator("body").inner_text()
    assert "Page not found" not in body, body[:500]
    assert page.locator('[data-testid="stMain"] h1').first.inner_text().strip() == title


def test_the_first_request_to_a_fresh_server_goes_through_the_router(e2e: E2E, page: Any) -> None:
    """With a `pages/` folder beside app.py, Streamlit (1.67) emulates its old multipage mode until a
    session has called st.navigation: a fresh server's first request to /fixes ran pages/fixes.py on
    its own, without app.py and its gate() (the sign-in, the signed-out sessions' refusal), and every
    session after it did too, with a navigation of file names ("app", "fixes", …). The views live in
    views/, so every run starts at the router."""
    e2e.stop()
    e2e.start()  # no session has run app.py in this server yet
    page.goto(f"{e2e.url}/fixes")
    wait_ready(page)
    assert page.locator('[data-testid="stMain"] h1').first.inner_text().strip() == "Fixes"
    links = [t.split("\n")[-1].strip() for t in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]
    assert links[:2] == ["Health", "Stores"] and "app" not in links and "Weekly review" in links, links
    assert "Monitor" in page.locator('[data-testid="stSidebarNav"]').inner_text()  # the router's sections
