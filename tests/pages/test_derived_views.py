"""What pages derive from a check run is built once per run for the whole server (lib.web.cache.derived)
and the CSV files are built when a download is clicked (st.download_button with a callable): on the real
demo stores, the shared views never mix one role's view with another's, and a rerun builds no file."""

from __future__ import annotations

from typing import Any

import pytest

from lib.web.cache import _RunMemo
from tests.apptest_support import rendered
from tests.pages.support import _app_as, _ok

pytestmark = pytest.mark.usefixtures("fresh_caches")

def _run_caption(at: Any) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Run "))


def test_one_run_seen_by_oncall_support_and_oncall_again_keeps_each_view(demo: Any) -> None:
    manifest = demo.ensure()
    drift = manifest["planted"]["sync.field_drift"]["keys"]  # uid|field|store=value|store=value: PHI values
    values = {part.split("=", 1)[1] for k in drift for part in k.split("|")[2:] if len(part.split("=", 1)[1]) >= 6}
    assert values, "the demo plants no field drift"
    views = []
    for role in ("oncall", "support", "oncall"):
        at = _app_as("views/checks.py", role=role)
        _ok(at)
        text = rendered(at, frames=True)
        views.append((_run_caption(at), {v for v in values if v in text}))
    assert views[0][0] == views[1][0] == views[2][0]  # one run of the server, seen three times
    assert views[0][1] == views[2][1] and views[0][1], "oncall sees the values of the sample keys whole"
    assert views[1][1] == set(), "support sees none of them"


def test_csv_downloads_are_built_on_click_not_on_every_rerun(demo: Any) -> None:
    demo.ensure()
    at = _app_as("views/duplicates.py", role="oncall")
    _ok(at)
    buttons = [b.proto for b in at.get("download_button")]
    assert buttons, "the page offers no download"
    for proto in buttons:
        assert proto.deferred_file_id and not proto.url, proto.label  # built when clicked


def test_run_memo_builds_once_per_run_object_and_name() -> None:
    memo = _RunMemo()
    built: list[str] = []

    def build(v: str) -> Any:
        built.append(v)
        return [v]

    class Run:  # any object: the memo keys on the object itself
        pass

    a, b = Run(), Run()
    first = memo.get(a, "x", lambda: build("a.x"))
    assert memo.get(a, "x", lambda: build("again")) is first
    assert memo.get(a, "y", lambda: build("a.y")) == ["a.y"]
    assert memo.get(b, "x", lambda: build("b.x")) == ["b.x"]
    assert built == ["a.x", "a.y", "b.x"]
    runs = [Run() for _ in range(_RunMemo.RUNS)]
    for r in runs:
        memo.get(r, "x", lambda: build("n"))
    assert memo.get(a, "x", lambda: build("a.x again")) == ["a.x again"]  # the oldest run was let go
