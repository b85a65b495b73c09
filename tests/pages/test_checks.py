"""The Checks page on the real demo stores: exactly what run_checks finds, sorted, kept across reruns."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from lib.checks.ids import CHECK_IDS
from lib.checks.runner import run_checks
from tests.pages.support import TIMEOUT, _app

pytestmark = pytest.mark.usefixtures("fresh_caches")


def test_checks_page_shows_what_run_checks_finds(demo: Any, stores: Any) -> None:
    manifest = demo.ensure()
    at = _app("views/checks.py")
    assert not at.exception
    assert at.title[0].value == "Checks"
    first = at.dataframe[0].value  # the latest run of the server, before any click
    assert set(first["check"]) == set(CHECK_IDS)
    at.button(key="run_checks").click().run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.status and at.status[0].state == "complete"

    df = at.dataframe[0].value
    shown = {str(c): (None if pd.isna(n) else int(n)) for c, n in zip(df["check"], df["count"], strict=True)}
    assert set(shown) == set(CHECK_IDS)
    assert shown == {cid: manifest["planted"][cid]["count"] for cid in CHECK_IDS}
    direct = run_checks(stores)
    assert shown == {r.id: r.count for r in direct.results}
    assert df["error"].isna().all()

    # sorted by severity, then count (largest first)
    order = {"error": 0, "warn": 1, "info": 2}
    keys = [(order[s], -(n if not pd.isna(n) else -1)) for s, n in zip(df["severity"], df["count"], strict=True)]
    assert keys == sorted(keys)
    # the sample column holds the first keys of each check's sample
    by_check = dict(zip(df["check"], df["sample"], strict=True))
    for cid in CHECK_IDS:
        first = manifest["planted"][cid]["keys"][:1]
        if first:
            assert by_check[cid].startswith(first[0]), cid

    # the run stays on the page across reruns of the session
    at.run(timeout=TIMEOUT)
    assert at.dataframe and len(at.dataframe[0].value) == len(CHECK_IDS)
