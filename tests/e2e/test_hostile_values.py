"""Store values are data in a real browser (issue 13, items 3 and 7): a patient whose core name is a
Markdown image pointing at a local HTTP server makes the browser fetch nothing; a typed email never
reaches the page's URL (it carries the matched Firebase UID); 100,000 typed characters get one clear
sentence, not a URL the server refuses."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest
import sqlalchemy as sa

from lib.patient import TOO_LONG
from tests.e2e.conftest import E2E, screenshot, wait_ready


@pytest.fixture
def pixel_server() -> Iterator[dict[str, Any]]:
    """A local HTTP server that counts every request it gets."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"port": server.server_address[1], "seen": seen}
    finally:
        server.shutdown()
        server.server_close()


def _patient(e2e: E2E) -> dict[str, Any]:
    eng = sa.create_engine(e2e.core_url())
    try:
        with eng.connect() as conn:
            row = conn.execute(sa.text("""
                SELECT p.id::text AS patient_id, p.full_name, u.firebase_uid AS uid, u.email
                FROM users u JOIN patients p ON p.user_id = u.id
                WHERE u.role = 'PATIENT' AND u.firebase_uid IS NOT NULL AND u.email LIKE '%@example.com'
                  AND (SELECT count(*) FROM users o WHERE lower(btrim(o.email)) = lower(btrim(u.email))) = 1
                ORDER BY u.firebase_uid DESC LIMIT 1""")).mappings().one()
        return dict(row)
    finally:
        eng.dispose()


def _set_name(e2e: E2E, patient_id: str, name: str | None) -> None:
    eng = sa.create_engine(e2e.core_url())
    try:
        with eng.begin() as conn:
            conn.execute(sa.text("UPDATE patients SET full_name = :n WHERE id = CAST(:p AS uuid)"), {"n": name, "p": patient_id})
    finally:
        eng.dispose()


def _search(page: Any, text: str) -> None:
    """Type `text` into the search box as a person pasting it would (the box's own limit applies)."""
    box = page.locator('[data-testid="stMain"]').get_by_label("Search")
    box.click()
    page.keyboard.insert_text(text)
    box.press("Enter")
    page.wait_for_timeout(300)
    wait_ready(page)


def test_a_markdown_image_in_a_name_fetches_nothing(e2e: E2E, page: Any, pixel_server: dict[str, Any]) -> None:
    p = _patient(e2e)
    url = f"http://127.0.0.1:{pixel_server['port']}/pixel.png"
    name = f"![px]({url}) **Bold** :red[Red]"
    _set_name(e2e, p["patient_id"], name)
    try:
        e2e.open(page, f"patient?q={p['uid']}")
        page.wait_for_timeout(1500)  # time for any image to be requested
        heading = page.locator('[data-testid="stMain"] h3').first
        assert heading.inner_text().strip().replace("\u2060", "") == name  # the name, as its text
        screenshot(page, "patient_hostile_name")
        assert page.locator(f'img[src*="{pixel_server["port"]}"]').count() == 0
        links = page.locator('[data-testid="stMain"] a').evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert not [h for h in links if h and "127.0.0.1" in h], links
        assert pixel_server["seen"] == []
    finally:
        _set_name(e2e, p["patient_id"], p["full_name"])


def test_a_typed_email_never_reaches_the_url(e2e: E2E, page: Any) -> None:
    p = _patient(e2e)
    e2e.open(page, "patient")
    _search(page, f" {p['email'].upper()} ")
    assert page.locator('[data-testid="stMain"] h3').count() >= 1
    current = unquote(page.url).lower()
    assert p["email"].lower() not in current and "@" not in current
    assert f"q={p['uid']}".lower() in current


def test_a_100k_character_input_is_one_clear_sentence(e2e: E2E, page: Any) -> None:
    e2e.open(page, "patient")
    _search(page, "7" * 100_000)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert TOO_LONG[0].upper() + TOO_LONG[1:] + "." in body
    assert len(page.url) < 2000 and "7777777" not in page.url
    assert page.locator('[data-testid="stException"]').count() == 0
