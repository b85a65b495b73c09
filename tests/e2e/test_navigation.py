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
