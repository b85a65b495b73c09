"""The configured secrets never reach a page, a log line or the command line's output: every page
rendered with AppTest, signed in, with every store configured through URLs carrying passwords (and a
service-role key, an OIDC client secret and cookie secret), plus the command line's status / check /
patient output, also with the stores unreachable: none of them appears anywhere, nor in the log."""

from __future__ import annotations

import logging
import re
import secrets as pysecrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import streamlit as st
from psycopg import sql as psql
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from lib.services import PROJECT_ID, EmbeddedServices
from tests.apptest_support import rendered, signed_in
from tests.support import EXIT_CODES, _env, _run_cli

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 120
PAGES = re.findall(r'st\.Page\(\s*"(views/[^"]+)"', (ROOT / "app.py").read_text())
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "client_id": "healbridge-ops",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
ADMIN = "ada@hospital.example"


def _secret(prefix: str) -> str:
    return prefix + pysecrets.token_hex(12)


@pytest.fixture
def secret_config(demo: Any) -> Iterator[dict[str, Any]]:
    """Every store configured (outside the demo) through URLs with passwords, pointing at the demo's
    own stores: a login role with a password made for the test on the embedded server."""
    demo.ensure()
    services = EmbeddedServices(demo.settings)
    uris = services.state.raw["postgres"]["uris"]
    role, pw_core, pw_sb, pw_ops = "hb_secret_" + pysecrets.token_hex(3), _secret("Pc"), _secret("Ps"), _secret("Po")
    admin_uri = services.pg_uri("postgres").replace("+psycopg", "")
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute(psql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(psql.Identifier(role),
                                                                                 psql.Literal(pw_core)))

    def url(db: str, pw: str) -> str:
        return make_url(uris[db]).set(username=role, password=pw).render_as_string(hide_password=False)

    values = {
        "CORE_DATABASE_URL": url("core", pw_core),
        "SUPABASE_DB_URL": url("supabase", pw_sb),
        "SUPABASE_URL": "https://secret-project.supabase.example",
        "SUPABASE_SERVICE_ROLE_KEY": _secret("sbkey_"),
        "OPS_DATABASE_URL": url("ops", pw_ops),
        "FIREBASE_PROJECT_ID": PROJECT_ID,
        "FIREBASE_AUTH_EMULATOR_HOST": services.auth_host() or "",
        "FIRESTORE_EMULATOR_HOST": services.firestore_host() or "",
        "HEALBRIDGE_ROLES": f"admin={ADMIN}",
    }
    oidc = {"client_secret": _secret("oidc_"), "cookie_secret": _secret("cookie_")}
    secrets = [pw_core, pw_sb, pw_ops, values["SUPABASE_SERVICE_ROLE_KEY"], *oidc.values(),
               *(values[n] for n in ("CORE_DATABASE_URL", "SUPABASE_DB_URL", "OPS_DATABASE_URL"))]
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        with _env(values):
            yield {"values": values, "secrets": secrets, "auth": {**AUTH, **oidc}}
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
        with psycopg.connect(admin_uri, autocommit=True) as conn:
            # end the test's sessions, then the role
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role])
            conn.execute(psql.SQL("DROP ROLE IF EXISTS {}").format(psql.Identifier(role)))


def _leaks(text_: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text_]


def test_no_page_shows_a_secret(secret_config: dict[str, Any], caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = secret_config["secrets"]
    for page in PAGES:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.secrets["auth"] = secret_config["auth"]
        at.user = signed_in(ADMIN, email_verified=True, sub="ada-1")
        at.switch_page(page)
        if page.endswith("patient.py"):
            at.query_params["q"] = "a"
        at.run(timeout=TIMEOUT)
        assert not at.exception, (page, [e.value for e in at.exception])
        shown = rendered(at)
        assert "Sign in" not in shown, page  # signed in with a role: the page itself rendered
        assert "Demo" not in shown or "demo-healbridge" in shown, page
        assert not _leaks(shown, secrets), page
        if page.endswith("stores.py"):  # the password URLs really reach the stores
            assert [str(x.value) for x in at.success] == ["Reachable"] * 3, [str(x.value) for x in at.error]
    assert not _leaks("\n".join(r.getMessage() for r in caplog.records), secrets)
    assert not _leaks(caplog.text, secrets)


def test_command_line_shows_no_secret(secret_config: dict[str, Any], caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = secret_config["secrets"]
    for argv in (["status"], ["status", "--json"], ["check", "--json", "--only", "orphan.documents_patient"],
                 ["check", "--only", "token.expired_active"], ["patient", "a"], ["patient", "--json", "nobody"]):
        code, out, err = _run_cli(argv)
        assert code in EXIT_CODES, (argv, err)
        assert not _leaks(out + err, secrets), argv
    assert not _leaks(caplog.text, secrets)


def test_errors_about_an_unreachable_store_show_no_secret(secret_config: dict[str, Any], caplog: Any) -> None:
    """The same secrets in URLs that point where nothing listens (core and Supabase; the ops database
    stays up, else no sign-in is audited and nothing is shown): the errors name the store, not the URL."""
    caplog.set_level(logging.DEBUG)
    down = {n: make_url(secret_config["values"][n]).set(host="127.0.0.1", port=9, query={})
            .render_as_string(hide_password=False) for n in ("CORE_DATABASE_URL", "SUPABASE_DB_URL")}
    secrets = [*secret_config["secrets"], *down.values()]
    with _env(down):
        for argv in (["status", "--json"], ["check", "--json", "--only", "orphan.documents_patient"], ["patient", "ab"]):
            code, out, err = _run_cli(argv)
            assert code in EXIT_CODES and "Traceback" not in err, (argv, err)
            assert not _leaks(out + err, secrets), argv
        for page in ("views/stores.py", "views/checks.py", "views/patient.py"):
            at = AppTest.from_file(APP, default_timeout=TIMEOUT)
            at.secrets["auth"] = secret_config["auth"]
            at.user = signed_in(ADMIN, email_verified=True, sub="ada-1")
            at.switch_page(page)
            at.query_params["q"] = "ab"
            at.run(timeout=TIMEOUT)
            assert not at.exception, (page, [e.value for e in at.exception])
            assert not _leaks(rendered(at), secrets), page
            if page.endswith("stores.py"):  # the errors are there, and name the store
                down = [str(e.value) for e in at.error if str(e.value).startswith("Down: ")]
                assert len(down) == 2 and "core" in down[0] and "supabase" in down[1], down
    assert not _leaks(caplog.text, secrets)
