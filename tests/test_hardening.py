"""Hardening (issue 7, deliverable 5): generated bad input never gets a traceback, and the
configured secrets never reach a page, a log line or the command line's output.

Property-based (hypothesis), at least 1,000 generated inputs each, on the real demo stores:
- the patient search (lib.patient.search): every input gets a clear answer, every store answers,
  and a known patient is found however its email, phone or ids are typed;
- the command line (lib.cli.main in-process): the exit status is a documented one, standard error
  is one line without a traceback, and `--json` prints one JSON document;
- the configuration (lib.config.load_settings): a Settings, or one ConfigError sentence that names
  the setting and never repeats a secret-bearing value.

Secrets: every page rendered with AppTest, signed in, with every store configured through URLs
carrying passwords (and a service-role key, an OIDC client secret and cookie secret), plus the
command line's status / check / patient output: none of them appears anywhere, nor in the log.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import secrets as pysecrets
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import streamlit as st
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as hs
from psycopg import sql as psql
from sqlalchemy import text
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from lib import cli
from lib.checks.ids import CHECK_IDS
from lib.config import Settings, load_settings
from lib.errors import ConfigError
from lib.patient import MAX_MATCHES, Search, search
from lib.services import PROJECT_ID, EmbeddedServices
from tests.apptest_support import rendered, signed_in

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 120
PAGES = re.findall(r'st\.Page\(\s*"(pages/[^"]+)"', (ROOT / "app.py").read_text())
SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]

# any text a person (or a fuzzer) can type or pass on a command line: every plane, control characters,
# combining marks, right-to-left text; no lone surrogates (they cannot be encoded at all)
WEIRD = hs.text(hs.characters(exclude_categories=("Cs",)), max_size=60)
ENV_TEXT = hs.text(hs.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=80)


# ---------------------------------------------------------------------- configuration
SECRET_SETTINGS = {"CORE_DATABASE_URL", "SUPABASE_DB_URL", "SUPABASE_SERVICE_ROLE_KEY", "OPS_DATABASE_URL"}
SETTING_NAMES = sorted(n.upper() for n in Settings.model_fields)
_TOKEN = hs.text(string.ascii_letters + string.digits, min_size=10, max_size=24)


@hs.composite
def _db_url(draw: Any) -> tuple[str, str]:
    """A database URL (well- or ill-formed) that carries a distinctive password; returns (url, password)."""
    pw = "Pw" + draw(_TOKEN)
    scheme = draw(hs.sampled_from(["postgresql+psycopg", "postgresql", "postgres", "mysql", "postgresql+asyncpg",
                                   "sqlite", "", "http", "postgresql+psycopg2"]))
    host = draw(hs.sampled_from(["db.example", "127.0.0.1", "", "[::1]", "db example", "h:99999"]))
    port = draw(hs.sampled_from(["", ":5432", ":notaport", ":-1", ":99999"]))
    tail = draw(hs.sampled_from(["/core", "", "/x?sslmode=require", "/a b", "?host=/tmp/sock", "/%zz"]))
    sep = draw(hs.sampled_from(["://", ":/", "//", " :: ", "://:"]))
    user = draw(hs.sampled_from(["ops", "", "u@x", "ü"]))
    return f"{scheme}{sep}{user}:{pw}@{host}{port}{tail}", pw


def _value(name: str) -> Any:
    secret_ish = name in SECRET_SETTINGS
    generic = hs.one_of(ENV_TEXT, hs.integers(-10**12, 10**12).map(str), hs.sampled_from(["", " ", "0", "-1", "1e3",
                                                                                          "true", "null", "\t\n"]))
    if name.endswith("_URL") and secret_ish:
        return hs.one_of(_db_url(), generic.map(lambda v: (v, None)))
    if secret_ish:  # the service-role key
        return hs.one_of(_TOKEN.map(lambda t: ("sk_" + t, "sk_" + t)), generic.map(lambda v: (v, None)))
    if name.endswith("_HOST"):
        return hs.one_of(hs.from_regex(r"\A[a-z0-9.:\[\]-]{0,20}:[0-9]{0,7}\Z"), generic).map(lambda v: (v, None))
    return generic.map(lambda v: (v, None))


@hs.composite
def _environment(draw: Any) -> dict[str, tuple[str, str | None]]:
    names = draw(hs.lists(hs.sampled_from(SETTING_NAMES), min_size=1, max_size=5, unique=True))
    return {n: draw(_value(n)) for n in names}


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    saved = {n: os.environ.get(n) for n in values}
    try:
        os.environ.update(values)
        yield
    finally:
        for n, v in saved.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v


@settings(max_examples=1200, deadline=None, suppress_health_check=SUPPRESS)
@given(env=_environment())
def test_configuration_is_settings_or_one_sentence_without_the_secret(env: dict[str, tuple[str, str | None]]) -> None:
    values = {n: v for n, (v, _) in env.items()}
    with _env(values):
        try:
            s = load_settings()
        except ConfigError as exc:
            message = str(exc)
            assert message and "\n" not in message and "Traceback" not in message, message
            named = [n for n in SETTING_NAMES if re.search(rf"\b{n}\b", message)]  # CHECK_STATEMENT_… ≠ STATEMENT_…
            assert named and set(named) <= set(values), (message, values)
            for n, (v, pw) in env.items():
                if n in SECRET_SETTINGS:
                    if pw:
                        assert pw not in message, (n, message)
                    if len(v.strip()) >= 8:
                        assert v.strip() not in message, (n, message)
            return
        # a Settings: what the rest of the code derives from it works, and the secrets are masked in its repr
        assert isinstance(s, Settings)
        assert isinstance(s.demo, bool)
        found = s.secret_values()
        for n, (_, pw) in env.items():
            if n in SECRET_SETTINGS and pw:
                assert pw in "".join(found), n  # a configured secret is known, so it can be redacted
                assert pw not in repr(s) and pw not in str(s), n


# ---------------------------------------------------------------------- patient search
@pytest.fixture(scope="module")
def known(demo: Any) -> dict[str, Any]:
    """The demo's stores and some of its patients as core holds them (uid, email, phone, ids)."""
    demo.ensure()
    stores = demo.stores()
    with stores.core.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text(
            "SELECT u.firebase_uid, u.email, u.phone, u.id::text AS user_id, p.id::text AS patient_id "
            "FROM users u JOIN patients p ON p.user_id = u.id "
            "WHERE u.role = 'PATIENT' AND u.firebase_uid IS NOT NULL AND u.email ~ '^[^@\\s]+@[^@\\s]+$' "
            "AND u.phone ~ '^\\+1[0-9]{10}$' ORDER BY u.firebase_uid LIMIT 60"))]
    assert len(rows) >= 20
    yield {"stores": stores, "patients": rows}
    stores.dispose()


def _check_answer(s: Search) -> None:
    assert isinstance(s, Search)
    # every store answered: no input makes a store fail (a SQL error would show here as "down")
    assert s.down == {}, (s.query, s.down)
    assert len(s.candidates) <= MAX_MATCHES
    assert all(isinstance(c.uid, str) and c.uid for c in s.candidates)
    if s.candidates:
        assert s.message is None
    else:
        assert isinstance(s.message, str) and s.message and "\n" not in s.message


_SQLISH = hs.sampled_from(["%", "_", "%%", "\\", "\\%", "'", "''", "' OR '1'='1", "'; DROP TABLE users; --",
                           "a%b_c", "$1", ":uids", "%(x)s", "{}", "\x00", "\u202e", "🙂", "ǅ", "İ", "ß", "\ufeff",
                           "NULL", "null", "*", "[", "(", "@", "@@", "+", "+1", "--", "/*", "%s"])


@hs.composite
def _query(draw: Any) -> str:
    kind = draw(hs.sampled_from(["weird", "sqlish", "email", "phone", "uuid", "uid", "long", "mixed"]))
    if kind == "weird":
        return str(draw(WEIRD))
    if kind == "sqlish":
        return "".join(draw(hs.lists(hs.one_of(_SQLISH, WEIRD), min_size=1, max_size=4)))
    if kind == "email":
        return str(draw(hs.emails()))
    if kind == "phone":
        return str(draw(hs.from_regex(r"\A\+?[0-9 ().\-/]{5,24}\Z")))
    if kind == "uuid":
        u = str(draw(hs.uuids()))
        return draw(hs.sampled_from([u, u.upper(), u.replace("-", ""), f" {u} "]))
    if kind == "uid":
        return str(draw(hs.from_regex(r"\A[A-Za-z0-9_\-]{6,130}\Z")))
    if kind == "long":
        return draw(hs.sampled_from(["a", "%", "@", "1"])) * draw(hs.integers(300, 5000))
    return f"{draw(_SQLISH)}{draw(hs.emails())}{draw(_SQLISH)}"


@settings(max_examples=1000, deadline=None, suppress_health_check=SUPPRESS)
@given(q=_query())
def test_patient_search_answers_any_input(known: dict[str, Any], q: str) -> None:
    _check_answer(search(known["stores"], q))


def _phone_forms(e164: str) -> list[str]:
    d = e164[2:]
    return [e164, f"+1 ({d[:3]}) {d[3:6]}-{d[6:]}", f"1-{d[:3]}-{d[3:6]}-{d[6:]}", f"({d[:3]}) {d[3:6]} {d[6:]}",
            f"{d[:3]}.{d[3:6]}.{d[6:]}", f"  +1{d}  "]


@settings(max_examples=300, deadline=None, suppress_health_check=SUPPRESS)
@given(data=hs.data())
def test_known_patient_is_found_however_typed(known: dict[str, Any], data: Any) -> None:
    p = data.draw(hs.sampled_from(known["patients"]))
    how = data.draw(hs.sampled_from(["email", "phone", "uid", "user_id", "patient_id"]))
    if how == "email":
        e = p["email"]
        q = data.draw(hs.sampled_from([e, e.upper(), e.swapcase(), f"  {e}\t", e.title()]))
    elif how == "phone":
        q = data.draw(hs.sampled_from(_phone_forms(p["phone"])))
    elif how == "uid":
        q = data.draw(hs.sampled_from([p["firebase_uid"], f" {p['firebase_uid']} "]))
    else:
        q = data.draw(hs.sampled_from([p[how], p[how].upper(), p[how].replace("-", "")]))
    s = search(known["stores"], q)
    _check_answer(s)
    assert p["firebase_uid"] in s.uids, (how, q, s.message)


# ---------------------------------------------------------------------- the command line
EXIT_CODES = {0, 1, 2, 3, 4}
FIX_IDS = ["deactivate_expired_tokens", "retry_failed_sync_jobs", "no_such_fix"]


def _maybe(draw: Any, tokens: list[str]) -> list[str]:
    return tokens if draw(hs.booleans()) else []


@hs.composite
def _argv(draw: Any) -> list[str]:
    cmd = draw(hs.sampled_from(["status", "check", "check", "patient", "patient", "patient", "fix", "fix", "demo",
                                "junk", "junk", "none"]))
    junk_token = hs.one_of(WEIRD, hs.sampled_from(["--json", "--only", "--store", "-x", "--", "-", "=", "--json=1",
                                                    "--help=no"]))
    junk = [draw(junk_token) for _ in range(draw(hs.sampled_from([0, 0, 0, 0, 1, 2])))]
    if cmd == "none":
        return [*junk]
    if cmd == "junk":
        return [draw(WEIRD), *junk]
    out: list[str] = [cmd]
    if cmd == "status":
        out += _maybe(draw, ["--json"])
    elif cmd == "check":
        # always narrowed: a real check id sometimes, mostly a made-up one (the full run is covered elsewhere)
        ids = draw(hs.lists(hs.one_of(hs.sampled_from(CHECK_IDS), WEIRD, WEIRD), min_size=1, max_size=2))
        for i in ids:
            out += ["--only", i]
        out += _maybe(draw, ["--store", draw(hs.one_of(hs.sampled_from(["core", "supabase", "firebase"]), WEIRD))])
        out += _maybe(draw, ["--json"])
    elif cmd == "patient":
        out += draw(hs.lists(_query(), min_size=0, max_size=3))
        out += _maybe(draw, ["--json"])
    elif cmd == "fix":
        sub = draw(hs.sampled_from(["plan", "plan", "apply", "apply", "list", "junk"]))
        out.append(draw(WEIRD) if sub == "junk" else sub)
        if sub in ("plan", "apply"):
            out.append(draw(hs.one_of(hs.sampled_from(FIX_IDS), WEIRD)))
            out += _maybe(draw, ["--param", draw(WEIRD)])
        if sub == "apply":  # never --yes: an apply without it is refused before anything is opened
            out += _maybe(draw, ["--reason", draw(WEIRD)])
            out += _maybe(draw, ["--rows", draw(hs.one_of(hs.integers(-5, 10**6).map(str), WEIRD))])
        out += _maybe(draw, ["--json"])
    elif cmd == "demo":  # only refusals: a patient count out of range (never --stop, --reset, --manifest)
        bad = draw(hs.one_of(hs.integers(-10**6, 99), hs.integers(5_000_001, 10**12)).map(str))
        out += ["--patients", draw(hs.one_of(hs.just(bad), WEIRD))]
        out += _maybe(draw, ["--seed", draw(hs.one_of(hs.integers().map(str), WEIRD))])
        out += _maybe(draw, ["--clean"]) + _maybe(draw, ["--json"])
    return out + junk


def _parsed(argv: list[str]) -> Any:
    """What argparse makes of argv (None when it refuses it or prints help), output swallowed."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            return cli._parser().parse_args(argv)
        except SystemExit:
            return None


def _run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def cli_demo(demo: Any) -> Iterator[Any]:
    demo.ensure()
    yield demo
    demo.dirty = True  # the generated runs went to the history, plans to the audit log


@settings(max_examples=1000, deadline=None, suppress_health_check=SUPPRESS)
@given(argv=_argv())
def test_command_line_any_argv_is_one_clear_line(cli_demo: Any, argv: list[str]) -> None:
    args = _parsed(argv)
    if args is not None:  # whatever could change a store never runs here
        assume(not (args.command == "demo" and (args.stop or args.reset or args.manifest
                                                or 100 <= args.patients <= 5_000_000)))
        assume(not (args.command == "fix" and getattr(args, "fix_command", None) == "apply" and args.yes))
    code, out, err = _run_cli(argv)
    event(f"{args.command if args is not None else 'refused by the parser'}: exit {code}")
    assert code in EXIT_CODES, (argv, code, err)
    assert "Traceback" not in err and "Traceback" not in out, argv
    assert err.count("\n") <= 1, (argv, err)  # one line (or nothing)
    as_json = args is not None and getattr(args, "json", False)
    if code == 2 or (code in (3, 4) and not as_json):
        assert err.strip(), (argv, code)  # a refusal says why, on standard error
    if as_json and (code in (0, 1) or out.strip()):
        doc = json.loads(out)  # one JSON document, nothing else on standard output
        if code == 4:
            assert doc["matches"] == [] and doc["message"], (argv, doc)
    elif as_json and code in (3, 4):
        assert err.startswith("error: "), (argv, err)  # a refusal before any JSON: the sentence alone


# ---------------------------------------------------------------------- secrets
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
        for page in ("pages/stores.py", "pages/checks.py", "pages/patient.py"):
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
