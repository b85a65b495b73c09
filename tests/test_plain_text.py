"""Values from a store are data, never markup (issue 13, items 3, 4, 7, 15).

- the one escape (lib.plain.markdown, the pages' web.plain) renders hostile values as their text;
- the Patient page, on hostile values written for real into every store (core name and email,
  Supabase metadata name, Firestore profile name, Firebase Auth display name, a sync job's error
  and kind, a session note), shows them as text: no element renders a link, an image or emphasis;
- signed storage URLs leave lib without their query string (the CLI's JSON for support and oncall,
  the page's tables);
- the page's URL carries the matched Firebase UID, never what was typed; over-long input is one
  clear sentence;
- an unknown `?fix=` says that no such fix exists.
"""

from __future__ import annotations

import html
import json
import os
import re
import string
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lib import plain
from lib.sqlfiles import adhoc
from lib.stores.firebase import PROFILES
from tests import apptest_support

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 180

HOSTILE = [
    "**x**", "__x__", "*x*", ":red[x]", ":blue-background[x]", "[link](http://evil.example/)",
    "![px](http://127.0.0.1:9/pixel.png)", "<img src=x onerror=alert(1)>", "<a href='http://e.example'>e</a>",
    "$x^2$", "$$\\int$$", "~~gone~~", "# heading", "| a | b |\n|---|---|", "`code`", "http://bare.example/x",
    "www.example.com", "jo@example.com", ":material/home:", "&amp; &#60;", "\\*not\\*", "line one\n# line two",
    "1. item", "- item", "> quote", "<https://auto.example>", "[ref]: http://r.example", "x\n===",
]


def _unescape(md: str, *, joiner: bool = False) -> str:
    """The text `md` shows (`joiner`: as GFM's autolink pass sees it, word joiners included)."""
    if not joiner:
        md = md.replace(plain.JOINER, "")
    out, i = [], 0
    while i < len(md):
        if md[i] == "\\" and i + 1 < len(md) and md[i + 1] in string.punctuation:
            out.append(md[i + 1])
            i += 2
        else:
            out.append(md[i])
            i += 1
    return "".join(out)


def _unescaped(md: str) -> list[tuple[str, str, str]]:
    """Each punctuation character `md` leaves unescaped, with the characters before and after it."""
    out, i = [], 0
    while i < len(md):
        if md[i] == "\\" and i + 1 < len(md) and md[i + 1] in string.punctuation:
            i += 2
            continue
        if md[i] in string.punctuation:
            out.append((md[i - 1] if i else "", md[i], md[i + 1] if i + 1 < len(md) else ""))
        i += 1
    return out


def _no_gfm_construct(md: str) -> bool:
    """What CommonMark's parser below does not know: GFM autolinks (www., scheme:, emails), strikethrough,
    tables, Streamlit's :directive[...] and $math$ need one of these unescaped."""
    for before, c, after in _unescaped(md):
        if c in "~$|*`<&[]\\":
            return False
        if c in ".:" and after and not after.isspace():
            return False
        if c == "_" and not (before.isalnum() and after.isalnum()):
            return False
    seen = _unescape(md, joiner=True)  # GFM links bare URLs and emails in the parsed text itself
    if re.search(r"(?i)(https?://|www\.)", seen) or re.search(r"[-.\w+]+@[-\w]+(\.[-\w]+)+", seen):
        return False
    return "\n" not in md


def _markup(md: str) -> list[str]:
    """The CommonMark constructs (other than paragraphs and text) `md` renders as."""
    from markdown_it import MarkdownIt

    kinds = set()
    for tok in MarkdownIt("commonmark").enable("table").enable("strikethrough").parse(md):
        if tok.type not in ("paragraph_open", "paragraph_close", "inline"):
            kinds.add(tok.type)
        for child in tok.children or []:
            if child.type not in ("text", "softbreak", "text_special"):
                kinds.add(child.type)
    return sorted(kinds)


def _text(md: str) -> str:
    from markdown_it import MarkdownIt

    return "".join(c.content for t in MarkdownIt("commonmark").parse(md) for c in t.children or []).replace(
        plain.JOINER, "")


# ---------------------------------------------------------------------- the helper
@pytest.mark.parametrize("value", HOSTILE)
def test_markdown_escape_renders_hostile_values_as_their_text(value: str) -> None:
    md = plain.markdown(value)
    one_line = " ".join(value.splitlines())
    assert _no_gfm_construct(md)  # no directive, autolink, math or strikethrough can form either
    assert _unescape(md) == one_line
    pytest.importorskip("markdown_it")
    assert _markup(md) == []
    assert _text(md) == one_line


@settings(max_examples=400)
@given(st.text() | st.text(alphabet=string.printable))
@example("\x00")
def test_markdown_escape_round_trips_any_text(value: str) -> None:
    md = plain.markdown(value)
    want = " ".join(value.splitlines()).replace("\x00", "\ufffd")  # NUL shows as U+FFFD (CommonMark)
    assert _no_gfm_construct(md)
    assert _unescape(md) == want
    if value.isascii() and not re.match(r"( {0,3}\t| {4})", want):  # (an indented block is text too)
        assert _markup(md) == [], md
        assert _text(md) == want.strip(" \t")


def test_sentences_stay_readable() -> None:
    for text in ("The role support may not read the audit log: it needs admin.", "set CORE_DATABASE_URL (a URL), "
                 "then retry; or ask on-call?", "Firebase Auth + Firestore, run #12"):
        assert plain.markdown(text) == text


def test_chart_escape_leaves_no_tag() -> None:
    for value in HOSTILE:
        out = plain.chart(value)
        assert "<" not in out and ">" not in out
        assert html.unescape(out) == value
    assert plain.chart(None) == plain.markdown(None) == ""


def test_web_plain_is_the_markdown_escape() -> None:
    from lib import web

    assert web.plain("![px](http://h/p.png)") == plain.markdown("![px](http://h/p.png)")


def test_urls_lose_their_query_string_and_fragment() -> None:
    from lib.phi import without_url_secrets

    signed = "http://127.0.0.1:54321/storage/v1/object/sign/documents/u/d.pdf?token=eyJsecret&x=1#frag"
    assert without_url_secrets(signed) == "http://127.0.0.1:54321/storage/v1/object/sign/documents/u/d.pdf"
    assert without_url_secrets({"file_url": signed, "n": 3, "l": [f"see {signed}, then"]}) == {
        "file_url": "http://127.0.0.1:54321/storage/v1/object/sign/documents/u/d.pdf", "n": 3,
        "l": ["see http://127.0.0.1:54321/storage/v1/object/sign/documents/u/d.pdf, then"]}
    assert without_url_secrets("no url? no change#") == "no url? no change#"


# ---------------------------------------------------------------------- hostile values in every store
def _rows(store: Any, sql: str, **params: Any) -> list[dict[str, Any]]:
    return store.rows(adhoc(sql), params)


def _write(store: Any, sql: str, **params: Any) -> None:
    from sqlalchemy import text

    with store.engine.begin() as conn:
        conn.execute(text(sql), params)


def _plain_patient(stores: Any) -> dict[str, Any]:
    """A patient in every store (one live Supabase user, a Firebase user and profile), with a document."""
    rows = _rows(stores.core, """
        SELECT u.id::text AS user_id, p.id::text AS patient_id, u.firebase_uid AS uid, u.email
        FROM users u JOIN patients p ON p.user_id = u.id
        WHERE u.role = 'PATIENT' AND u.firebase_uid IS NOT NULL AND u.email LIKE '%@example.com'
          AND (SELECT count(*) FROM users o WHERE lower(btrim(o.email)) = lower(btrim(u.email))) = 1
        ORDER BY u.firebase_uid""")
    fb = {u["uid"] for u in stores.firebase.iter_users()}
    for r in rows:
        sb = _rows(stores.supabase, "SELECT id::text AS id FROM auth.users WHERE raw_user_meta_data ->> 'firebase_uid' = :u "
                                    "AND deleted_at IS NULL", u=r["uid"])
        if r["uid"] in fb and len(sb) == 1 and stores.firebase.get_profiles([r["uid"]]):
            return r | {"supabase_id": sb[0]["id"]}
    raise AssertionError("the demo has no plain patient")


PIXEL = "![px](http://127.0.0.1:9/pixel.png)"
VALUES = {
    "core_name": f"{PIXEL} **Core** :red[Name]",
    "core_email": "x[mail](http://evil.example/)@example.com",
    "supabase_name": "[Supa](http://evil.example/s) __Base__ <img src=x>",
    "firestore_name": "~~Fire~~ `store` $x^2$ ![fs](http://127.0.0.1:9/fs.png)",
    "auth_name": "# Auth :blue[display]",
    "job_error": f"<b>boom</b> {PIXEL} [retry](http://evil.example/r)",
    "job_kind": "<a href='http://evil.example/k'>kind</a>",
    "note": f"**note** {PIXEL}",
}


@pytest.fixture
def hostile(demo: Any, stores: Any) -> dict[str, Any]:
    demo.ensure()
    p = _plain_patient(stores)
    demo.dirty = True  # written for real: later tests rebuild the demo
    v = VALUES
    now = datetime.now(UTC)
    _write(stores.core, "UPDATE patients SET full_name = :n WHERE id = CAST(:p AS uuid)", n=v["core_name"], p=p["patient_id"])
    _write(stores.core, "UPDATE users SET email = :e WHERE id = CAST(:u AS uuid)", e=v["core_email"], u=p["user_id"])
    _write(stores.core, "INSERT INTO sync_jobs (kind, entity_id, patient_firebase_uid, source, target, status, attempts, "
                        "last_error, created_at, updated_at) VALUES (:k, 'e1', :uid, 'core', 'supabase', 'failed', 3, :err, "
                        ":c, :u)", k=v["job_kind"], uid=p["uid"], err=v["job_error"], c=now - timedelta(hours=2),
           u=now - timedelta(hours=1))
    _write(stores.core, "INSERT INTO session_notes (id, patient_id, note, created_at) VALUES (CAST(:i AS uuid), "
                        "CAST(:p AS uuid), :n, :c)", i=str(uuid.uuid4()), p=p["patient_id"], n=v["note"], c=now)
    signed = f"http://127.0.0.1:9/storage/v1/object/sign/documents/{p['uid']}/hostile.pdf?token=SECRETTOKEN123&t=1#f"
    doc = str(uuid.uuid4())
    _write(stores.supabase, "UPDATE auth.users SET raw_user_meta_data = raw_user_meta_data || jsonb_build_object('name', "
                            "CAST(:n AS text)) WHERE id = CAST(:i AS uuid)", n=v["supabase_name"], i=p["supabase_id"])
    _write(stores.supabase, "INSERT INTO public.documents (id, patient_id, type, file_url, status, created_at) VALUES "
                            "(CAST(:i AS uuid), :uid, 'lab_report', :url, 'processed', :c)", i=doc, uid=p["uid"],
           url=signed, c=now)
    _write(stores.core, "INSERT INTO documents (id, patient_id, type, file_url, created_at) VALUES "
                        "(CAST(:i AS uuid), CAST(:p AS uuid), 'lab_report', :url, :c)", i=doc, p=p["patient_id"], url=signed,
           c=now)
    stores.firebase.db.collection(PROFILES).document(p["uid"]).update({"full_name": v["firestore_name"]})
    stores.firebase.auth.update_user(p["uid"], display_name=v["auth_name"])
    return p | {"token": "SECRETTOKEN123", "document": doc}


MARKDOWN_ELEMENTS = ("title", "header", "subheader", "caption", "markdown", "info", "warning", "error", "success")


def _markdown_values(at: Any) -> list[str]:
    out = []
    for kind in MARKDOWN_ELEMENTS:
        out.extend(e.value for e in at.get(kind))
    out.extend(t.label for t in at.tabs)
    out.extend(e.label for e in at.expander)
    return out


def test_patient_page_shows_hostile_store_values_as_text(hostile: dict[str, Any], fresh_caches: None) -> None:
    from lib import web

    at = apptest_support.app("views/patient.py", query={"q": hostile["uid"]}, timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.subheader] == [web.plain(VALUES["core_name"])]
    assert any(web.plain(VALUES["job_kind"]) in c.value for c in at.caption)
    assert VALUES["job_error"] in [c.value for c in at.code]  # st.code: the whole text, as it is
    values = _markdown_values(at)
    for value in values:  # nothing a store holds forms markup anywhere
        assert not re.search(r"(?<!\\)(!\[|\]\(|<img|<a |:\w+\[)", value), value
        assert _markup(value) in ([], ["strong_close", "strong_open"], ["code_inline"],
                                  ["code_inline", "strong_close", "strong_open"]), value  # the page's own **bold**, `code`
    for name in ("core_name", "supabase_name", "firestore_name", "auth_name", "note", "core_email"):
        assert not any(VALUES[name] in v for v in values)
    # tables show the values as they are (cells are text)
    comparison = at.dataframe[0].value
    assert comparison.loc["name", "Core PostgreSQL"] == VALUES["core_name"]
    assert comparison.loc["name", "Supabase"] == VALUES["supabase_name"]
    assert comparison.loc["name", "Firestore"] == VALUES["firestore_name"]
    assert comparison.loc["name", "Firebase Auth"] == VALUES["auth_name"]
    # the chart's legend, axis and hover: no tag plotly would render
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    strings: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            strings.append(node)
        elif isinstance(node, dict):
            for k, x in node.items():
                if k != "hovertemplate":  # plotly express's own template (<b>%{hovertext}</b><br>…)
                    walk(x)
        elif isinstance(node, list):
            for x in node:
                walk(x)

    walk(spec["data"])
    walk(spec["layout"].get("title"))
    assert not any("<a " in s or "<b>" in s or "<img" in s for s in strings), [s for s in strings if "<" in s]
    assert any(plain.chart(VALUES["job_kind"]) in s for s in strings)
    # the signed URL's token is in no table of the page
    text = apptest_support.rendered(at, frames=True)
    assert hostile["token"] not in text


@pytest.mark.parametrize("role", ["support", "oncall"])
def test_cli_patient_json_shows_no_signed_url_token(hostile: dict[str, Any], role: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "lib", "patient", hostile["uid"], "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=180, env={**os.environ, "HEALBRIDGE_ROLE": role})
    assert proc.returncode == 0, proc.stderr
    assert hostile["token"] not in proc.stdout
    doc = json.loads(proc.stdout)
    docs = [d for d in doc["matches"][0]["documents"] if d["id"] == hostile["document"]]
    assert docs and docs[0]["file_url"].endswith(f"/{hostile['uid']}/hostile.pdf")
    assert all("?" not in (d["file_url"] or "") for d in doc["matches"][0]["documents"])
    assert all("?" not in (p["pdf_url"] or "") for p in doc["matches"][0]["prescriptions"])


def test_demo_signed_urls_leave_lib_without_their_token(stores: Any) -> None:
    from lib.patient import lookup

    signed = _rows(stores.supabase, "SELECT patient_id AS uid, file_url FROM public.documents "
                                    "WHERE file_url LIKE '%?token=%' ORDER BY id LIMIT 1")
    assert signed, "the demo holds signed document URLs"
    view = lookup(stores, signed[0]["uid"]).matches[0]
    assert view.documents and all("?" not in (d["file_url"] or "") for d in view.documents)
    assert signed[0]["file_url"].split("?")[0] in {d["file_url"] for d in view.documents}
    assert "token=" not in json.dumps(view.to_json(), default=str)


# ---------------------------------------------------------------------- what the URL carries
def test_patient_url_carries_the_matched_uid_never_the_typed_email(demo: Any, stores: Any, fresh_caches: None) -> None:
    demo.ensure()
    p = _plain_patient(stores)
    at = apptest_support.app("views/patient.py", timeout=TIMEOUT)
    at.text_input(key="patient_q").input(f" {p['email'].upper()} ").run(timeout=TIMEOUT)
    assert not at.exception
    assert at.query_params["q"] == [p["uid"]] or at.query_params["q"] == p["uid"]
    assert p["email"].lower() not in str(at.query_params).lower()
    # a name fragment with several patients and none picked: the URL carries nothing
    name = _rows(stores.core, "SELECT full_name FROM patients WHERE full_name IS NOT NULL ORDER BY id LIMIT 1")[0]
    at.text_input(key="patient_q").input(name["full_name"].split()[-1][:3]).run(timeout=TIMEOUT)
    assert not at.exception
    if at.get("selectbox") and any(s.key == "patient_pick" for s in at.selectbox):
        assert "q" not in at.query_params


def test_patient_over_long_input_is_one_clear_sentence(demo: Any, fresh_caches: None) -> None:
    from lib.patient import MAX_CHARS, TOO_LONG

    demo.ensure()
    at = apptest_support.app("views/patient.py", query={"q": "x" * 100_000}, timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    assert [_unescape(i.value) for i in at.info] == [TOO_LONG[0].upper() + TOO_LONG[1:] + "."]
    assert "q" not in at.query_params
    at = apptest_support.app("views/patient.py", timeout=TIMEOUT)
    at.text_input(key="patient_q").input("7" * (MAX_CHARS + 1)).run(timeout=TIMEOUT)
    assert not at.exception
    assert [_unescape(i.value) for i in at.info] == [TOO_LONG[0].upper() + TOO_LONG[1:] + "."]


# ---------------------------------------------------------------------- an unknown fix
def test_unknown_fix_says_no_such_fix_exists(demo: Any, fresh_caches: None) -> None:
    demo.ensure()
    at = apptest_support.app("views/fixes.py", query={"fix": "no_such_fix"}, timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("no_such_fix" in plain_text(e) and "no fix" in e.lower() for e in errors), errors
    assert not at.subheader  # no fix card in its place
    assert at.selectbox(key="fixes.choice").value is None  # nothing selected in its place


def plain_text(md: str) -> str:
    return _unescape(md)
