"""The sign-in flow end to end: `st.login` against a real OpenID Connect provider on loopback.

- The identity provider is nanoidp (PyPI, pinned in requirements-dev.txt), started here on a free
  127.0.0.1 port with its own configuration folder: one confidential client (the app's client_id,
  client_secret and redirect URI) and two users: `bob@hospital.example`, in the nanoidp group that
  `[roles]` maps to oncall (his domain also maps to support: the higher role wins), and
  `eve@elsewhere.example`, whom no entry matches. nanoidp puts email and groups into the ID token
  (all st.user reads) only when the OIDC `claims` parameter asks for them, so the test's secrets
  give the default provider its own `[auth.default]` table with Authlib's `authorize_params` (the
  flat `[auth]` form cannot carry it; hosted providers send email with the `email` scope).
- The app runs OUTSIDE the demo: the demo stores are started (`python -m lib demo`) in a temporary
  data folder, and the app is configured with their addresses (CORE_DATABASE_URL, SUPABASE_DB_URL,
  FIREBASE_PROJECT_ID and the emulator hosts), so `settings.demo` is false and `gate()` asks for a
  sign-in. OPS_DATABASE_URL is the demo's ops database, where the audit log is read back.
- Streamlit reads `[auth]` and `[roles]` from a secrets.toml in a temporary folder
  (STREAMLIT_SECRETS_FILES; HEALBRIDGE_SECRETS_FILE points lib.config at the same file). The
  project's own .streamlit/secrets.toml is never touched.
- Chromium (Debian's, through Playwright) opens the app, sees only the sign-in prompt, clicks
  "Sign in", fills nanoidp's login form and is redirected back through /oauth2callback: bob gets
  Health as oncall and a `signin` row in audit_log, then signs out; eve gets "no role" and nothing
  else, even asking for a page by its address, and no audit row.
- Sessions end: the cookies saved before "Sign out", replayed in a new browser, get the sign-in page
  (the session is revoked in the ops database, a `signout` row in audit_log); and a second app,
  started with a tiny SESSION_MAX_AGE_HOURS (its own port, redirect URI and secrets file), refuses
  a session once it is older than that.

Everything is torn down at the end: both servers' process groups, `python -m lib demo --stop` for
the data folder, the temporary folders. Skipped (conftest.py) when /usr/bin/chromium is absent.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from lib.config import STORE_SETTINGS
from lib.services import free_port
from tests.e2e.conftest import ROOT, RUN_TIMEOUT, START_TIMEOUT, VIEWPORT, launch_chromium, wait_http

CLIENT_ID = "healbridge-ops"
CLIENT_SECRET = "e2e-client-secret-4f1c9a"
COOKIE_SECRET = "e2e-cookie-secret-0b7d2e91c3a4"
ONCALL = ("bob", "bob-pass-e2e", "bob@hospital.example")
NO_ROLE = ("eve", "eve-pass-e2e", "eve@elsewhere.example")
ONCALL_GROUP = "healbridge-oncall"  # bob's group in nanoidp; [roles] oncall = ["group:healbridge-oncall"]
SHORT_MAX_AGE_S = 75.0  # the second app's SESSION_MAX_AGE_HOURS, in seconds
ID_TOKEN_CLAIMS = json.dumps({"id_token": {"email": None, "email_verified": None, "groups": None}})


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def _nanoidp_config(folder: Path, port: int, redirect_uris: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.yaml").write_text(f"""config_version: 1
jwt:
  keys_dir: "{folder / 'keys'}"
server:
  host: "127.0.0.1"
  port: {port}
oauth:
  issuer: "http://127.0.0.1:{port}"
  audience: "{CLIENT_ID}"
  token_expiry_minutes: 60
  clients:
    - client_id: "{CLIENT_ID}"
      client_secret: "{CLIENT_SECRET}"
      description: "HealBridge Ops (e2e)"
      redirect_uris: {json.dumps(redirect_uris)}
""")
    users = "\n".join(f"""  {name}:
    password: "{password}"
    email: "{email}"
    groups: {json.dumps([ONCALL_GROUP] if name == ONCALL[0] else [])}
""" for name, password, email in (ONCALL, NO_ROLE))
    (folder / "users.yaml").write_text(f"config_version: 1\nusers:\n{users}")


class Login:
    """nanoidp, the demo stores and the app configured against both."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.data_dir = tmp / "d"
        self.data_dir.mkdir()
        self.idp_port, self.port, self.short_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.short_url = f"http://127.0.0.1:{self.short_port}"  # the app with a tiny session max age
        self.short: subprocess.Popen[bytes] | None = None
        self.env: dict[str, str] = {}
        self.idp_url = f"http://127.0.0.1:{self.idp_port}"
        self.idp: subprocess.Popen[bytes] | None = None
        self.app: subprocess.Popen[bytes] | None = None
        self.base_env = {k: v for k, v in os.environ.items()
                         if k not in (*STORE_SETTINGS, "OPS_DATABASE_URL", "HEALBRIDGE_ROLES", "STREAMLIT_SECRETS_FILES")}
        self.base_env.update(HEALBRIDGE_DATA_DIR=str(self.data_dir), HEALBRIDGE_SECRETS_FILE="/nonexistent/secrets.toml",
                             PYTHONUNBUFFERED="1")
        self.ops_uri = ""

    def _spawn(self, args: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT) -> subprocess.Popen[bytes]:
        with open(log, "wb") as fh:  # the child keeps its own descriptor
            return subprocess.Popen(args, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                    start_new_session=True)

    def _secrets(self, name: str, redirect_uri: str) -> Path:
        # The default provider as its own table: the flat form cannot pass Authlib's authorize_params,
        # and nanoidp puts email and groups into the ID token (all st.user reads) only when the
        # OIDC `claims` request parameter asks for them (Google, Entra, Okta send email unasked).
        secrets = self.tmp / name
        secrets.write_text(f"""[auth]
redirect_uri = "{redirect_uri}"
cookie_secret = "{COOKIE_SECRET}"

[auth.default]
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
server_metadata_url = "{self.idp_url}/.well-known/openid-configuration"
authorize_params = {{ claims = '{ID_TOKEN_CLAIMS}' }}

[roles]
admin = ["alice@hospital.example"]
oncall = ["group:{ONCALL_GROUP}"]
support = ["@hospital.example"]
""")
        return secrets

    def _start_app(self, port: int, secrets: Path, log: str, **extra: str) -> subprocess.Popen[bytes]:
        env = dict(self.env, HEALBRIDGE_SECRETS_FILE=str(secrets), STREAMLIT_SECRETS_FILES=str(secrets), **extra)
        proc = self._spawn(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"], env, self.tmp / log)
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", proc, self.tmp / log, START_TIMEOUT)
        return proc

    def start(self) -> None:
        redirect_uri = f"{self.url}/oauth2callback"
        # the identity provider
        _nanoidp_config(self.tmp / "idp", self.idp_port, [redirect_uri, f"{self.short_url}/oauth2callback"])
        self.idp = self._spawn([sys.executable, "-m", "nanoidp", "--config", str(self.tmp / "idp"),
                                "--host", "127.0.0.1", "--port", str(self.idp_port)], self.base_env, self.tmp / "idp.log",
                               cwd=self.tmp / "idp")  # whatever it writes stays in the temporary folder
        # the stores: the demo's, then used as a configured deployment
        out = subprocess.run([sys.executable, "-m", "lib", "demo", "--patients", "100", "--seed", "3"], cwd=ROOT,
                             env=self.base_env, capture_output=True, text=True, timeout=START_TIMEOUT)
        assert out.returncode == 0, f"python -m lib demo exited {out.returncode}: {out.stderr[-2000:]}"
        demo = json.loads((self.data_dir / "demo.json").read_text())
        uris = demo["postgres"]["uris"]
        self.ops_uri = str(uris["ops"])
        self.env = dict(self.base_env)
        self.env.update(CORE_DATABASE_URL=str(uris["core"]), SUPABASE_DB_URL=str(uris["supabase"]),
                        OPS_DATABASE_URL=self.ops_uri, FIREBASE_PROJECT_ID="demo-healbridge",
                        FIREBASE_AUTH_EMULATOR_HOST=f"127.0.0.1:{demo['auth']['port']}",
                        FIRESTORE_EMULATOR_HOST=f"127.0.0.1:{demo['firestore']['port']}")
        wait_http(f"{self.idp_url}/.well-known/openid-configuration", self.idp, self.tmp / "idp.log", 60)
        self.app = self._start_app(self.port, self._secrets("secrets.toml", redirect_uri), "streamlit.log")
        # the same stores and provider, a second app whose sessions last SHORT_MAX_AGE_S (started now:
        # its port, free a moment ago, is in the provider's redirect URIs)
        self.short = self._start_app(self.short_port, self._secrets("secrets-short.toml", f"{self.short_url}/oauth2callback"),
                                     "streamlit-short.log", SESSION_MAX_AGE_HOURS=str(SHORT_MAX_AGE_S / 3600))

    def stop(self) -> None:
        _stop(self.short)
        _stop(self.app)
        _stop(self.idp)
        subprocess.run([sys.executable, "-m", "lib", "demo", "--stop"], cwd=ROOT, env=self.base_env,
                       capture_output=True, timeout=120)

    def log(self) -> str:
        path = self.tmp / "streamlit.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def audit(self, who: str) -> list[tuple[Any, ...]]:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        url = make_url(self.ops_uri)
        if url.drivername in ("postgres", "postgresql"):
            url = url.set(drivername="postgresql+psycopg")
        eng = create_engine(url)
        try:
            with eng.connect() as conn:
                return list(conn.execute(text("SELECT who, role, action FROM audit_log WHERE who = :who ORDER BY id"),
                                         {"who": who}).tuples())
        finally:
            eng.dispose()


@pytest.fixture(scope="module")
def login() -> Iterator[Login]:
    tmp = Path(tempfile.mkdtemp(prefix="hbl", dir="/tmp"))  # short: the demo's Unix sockets live there
    app = Login(tmp)
    try:
        app.start()
        yield app
    finally:
        app.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def chromium(login: Login, playwright_driver: Any) -> Iterator[Any]:
    browser = launch_chromium(playwright_driver)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport=VIEWPORT)  # its own cookies: a fresh reader per test
    context.set_default_timeout(RUN_TIMEOUT * 1000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def _main(page: Any) -> Any:
    return page.locator('[data-testid="stMain"]')


def _settle(page: Any) -> None:
    """Wait until no script run is under way (Streamlit's status widget gone for a second)."""
    deadline, quiet = time.monotonic() + RUN_TIMEOUT, 0
    while quiet < 4:
        assert time.monotonic() < deadline, "the page was still running"
        quiet = 0 if page.locator('[data-testid="stStatusWidget"]').count() else quiet + 1
        page.wait_for_timeout(250)


def _sign_in(login: Login, page: Any, user: tuple[str, str, str], url: str | None = None) -> None:
    """The sign-in page, its button, nanoidp's form, and back to the app."""
    url = url or login.url
    page.goto(url)
    button = _main(page).get_by_role("button", name="Sign in")
    button.wait_for()
    _settle(page)
    main = _main(page)
    assert main.locator("h1").first.inner_text().strip() == "HealBridge Ops"
    assert "Sign in to see HealBridge Ops." in main.inner_text()
    # nothing but the prompt: no navigation, no table, no chart, no metric
    for testid in ("stSidebarNav", "stNavSectionHeader", "stDataFrame", "stTable", "stMetric", "stPlotlyChart"):
        assert page.locator(f'[data-testid="{testid}"]').count() == 0, f"{testid} shown before sign-in"
    button.click()
    page.wait_for_url(f"{login.idp_url}/**")
    page.locator("#username").fill(user[0])
    page.locator("#password").fill(user[1])
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{url}/**")


def _health(login: Login, page: Any) -> None:
    """Wait for the Health page of a signed-in reader."""
    try:
        page.locator('[data-testid="stNavSectionHeader"]', has_text="Monitor").wait_for()
        _main(page).locator("h1", has_text="Health").first.wait_for()
    except PlaywrightTimeout as exc:
        raise AssertionError(f"no Health page after sign-in ({exc}); streamlit log: {login.log()}") from None
    _settle(page)


def _text(locator: Any) -> str:
    """What a reader sees: the inner text without the invisible word joiners lib.plain puts into
    values from outside (an email from the identity provider) so that they never become links."""
    return str(locator.inner_text()).replace("\u2060", "")


def _refused(page: Any) -> str:
    """Wait for whichever comes: the sign-in prompt or the dashboard's navigation; the prompt's text
    when it is the prompt (the test fails when the dashboard is shown)."""
    main = _main(page)
    main.get_by_role("button", name="Sign in").or_(page.locator('[data-testid="stNavSectionHeader"]')).first.wait_for()
    _settle(page)
    for testid in ("stSidebarNav", "stNavSectionHeader", "stDataFrame", "stTable", "stMetric", "stPlotlyChart"):
        assert page.locator(f'[data-testid="{testid}"]').count() == 0, f"{testid} shown to a session that has ended"
    assert main.locator("h1").first.inner_text().strip() == "HealBridge Ops"
    assert main.get_by_role("button", name="Sign in").count() == 1
    return str(main.inner_text())


def test_oncall_signs_in_and_sees_health(login: Login, page: Any) -> None:
    _sign_in(login, page, ONCALL)
    _health(login, page)
    assert _main(page).locator("h1").first.inner_text().strip() == "Health"
    sidebar = _text(page.locator('[data-testid="stSidebar"]'))
    assert f"Signed in as {ONCALL[2]} (oncall)" in sidebar
    assert "Demo role" not in sidebar and "No real patient is shown" not in _main(page).inner_text()  # not the demo
    deadline = time.monotonic() + 30
    while not (rows := login.audit(ONCALL[2])) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert (ONCALL[2], "oncall", "signin") in rows
    # signing out ends it: the sign-in prompt again, nothing else
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    _main(page).get_by_role("button", name="Sign in").wait_for()
    _settle(page)
    assert page.locator('[data-testid="stNavSectionHeader"]').count() == 0
    assert "Sign in to see HealBridge Ops." in _main(page).inner_text()


def test_a_reader_without_a_role_sees_nothing(login: Login, page: Any) -> None:
    _sign_in(login, page, NO_ROLE)
    main = _main(page)
    try:
        main.get_by_text("has no role in HealBridge Ops").wait_for()
    except PlaywrightTimeout as exc:
        raise AssertionError(f"no 'no role' page after sign-in ({exc}); streamlit log: {login.log()}") from None
    _settle(page)
    assert f"{NO_ROLE[2]} has no role in HealBridge Ops" in _text(main)
    assert [b.inner_text().split("\n")[-1].strip() for b in main.get_by_role("button").all()] == ["Sign out"]
    for testid in ("stSidebarNav", "stNavSectionHeader", "stDataFrame", "stTable", "stMetric", "stPlotlyChart"):
        assert page.locator(f'[data-testid="{testid}"]').count() == 0, f"{testid} shown to a reader without a role"
    page.goto(f"{login.url}/health")  # asking for a page by its address changes nothing
    main.get_by_text("has no role in HealBridge Ops").wait_for()
    _settle(page)
    assert page.locator('[data-testid="stNavSectionHeader"]').count() == 0
    assert login.audit(NO_ROLE[2]) == []


def test_cookies_saved_before_sign_out_do_not_sign_in_afterwards(login: Login, chromium: Any, page: Any) -> None:
    _sign_in(login, page, ONCALL)
    _health(login, page)
    saved = page.context.cookies()
    assert any(c["name"].startswith("_streamlit_user") for c in saved), [c["name"] for c in saved]
    # a replay before sign-out is let in: the saved cookies are the whole sign-in
    replay = chromium.new_context(viewport=VIEWPORT)
    replay.set_default_timeout(RUN_TIMEOUT * 1000)
    try:
        replay.add_cookies(saved)
        tab = replay.new_page()
        tab.goto(login.url)
        _health(login, tab)
        tab.close()
        page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
        _main(page).get_by_role("button", name="Sign in").wait_for()
        _settle(page)
        # the same cookies after sign-out: the sign-in page, whatever page is asked for
        replay.clear_cookies()
        replay.add_cookies(saved)
        for path in ("", "health", "audit"):
            tab = replay.new_page()
            tab.goto(f"{login.url}/{path}")
            text = _refused(tab)
            assert "signed out" in text, text
            tab.close()
    finally:
        replay.close()
    rows = login.audit(ONCALL[2])
    assert (ONCALL[2], "oncall", "signout") in rows, rows


def test_a_session_older_than_the_maximum_age_is_refused(login: Login, page: Any) -> None:
    max_age_s = SHORT_MAX_AGE_S
    _sign_in(login, page, ONCALL, login.short_url)
    back = time.time()  # the ID token (its iat) was issued before this
    _health(login, page)
    assert time.time() < back + max_age_s - 5, "the dashboard took longer than the maximum age to show"
    page.wait_for_timeout(max(0.0, back + max_age_s + 2 - time.time()) * 1000)
    page.reload()
    text = _refused(page)
    assert "expired" in text, text
