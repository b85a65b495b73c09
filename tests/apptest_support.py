"""What the AppTest tests share: the app signed in as an admin, and the text of what a run rendered."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def signed_in(email: str, **claims: Any) -> dict[str, Any]:
    """st.user after st.login: the ID token's claims, with the subject and the issue time a session
    needs (lib.auth refuses a session without them, or older than SESSION_MAX_AGE_HOURS)."""
    return {"is_logged_in": True, "email": email, "sub": f"sub-{email}", "iat": int(time.time()), **claims}


def app(page: str | None = None, *, query: dict[str, str] | None = None, timeout: float = 120) -> AppTest:
    """The app (or one page of it) run once. Outside the demo a page needs a signed-in reader with a
    role (issue 7): the reader is an admin; the demo ignores both."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    if page:
        at.switch_page(page)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.user = signed_in("ops@hospital.example")
    at.secrets = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32},
                  "roles": {"admin": ["ops@hospital.example"]}}
    return at.run(timeout=timeout)


def rendered(at: AppTest, *, frames: bool = False) -> str:
    """Everything the run sent to the browser, as text (every element's and block's message);
    with `frames`, the values of every dataframe too (they travel as Arrow bytes)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    text = "\n".join(out)
    if frames:
        for df in at.dataframe:
            value = df.value
            frame = value.data if hasattr(value, "data") else value
            text += "\n" + frame.to_csv() + "\n" + "\n".join(map(str, frame.index))
    return text
