"""The Duplicates & orphans page on the real demo stores: every dup and orphan check with its keys,
trend, CSV and patient links, and its filters."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.pages.support import DUP_ORPHAN, TIMEOUT, _app, _counts, _frame, _ok, _planted, _tables

pytestmark = pytest.mark.usefixtures("fresh_caches")


def test_duplicates_page_shows_every_dup_and_orphan_check_with_its_keys(demo: Any, downloads: dict[str, bytes]) -> None:
    manifest = demo.ensure()
    at = _app("views/duplicates.py")
    _ok(at)
    assert at.title[0].value == "Duplicates & orphans"
    summary = _frame(at, "dup_summary")
    assert _counts(summary) == _planted(manifest, DUP_ORPHAN)
    assert list(summary["check"]) == DUP_ORPHAN
    # a trend line from the history: the generated weeks and today's run, ending at today's count
    for check, trend, count in zip(summary["check"], summary["trend"], summary["count"], strict=True):
        assert len(trend) >= 2 and int(trend[-1]) == int(count), check
    trend = dict(zip(summary["check"], summary["trend"], strict=True))
    assert list(trend["dup.active_connections"][-2:]) == [manifest["patients"] // 500 or 1, 0]  # resolved this week

    for check in DUP_ORPHAN:
        planted = manifest["planted"][check]
        if not planted["count"]:
            assert not _tables(at, f"keys_{check}"), check
            continue
        keys = _frame(at, f"keys_{check}")
        assert list(keys["key"]) == planted["keys"], check
        # CSV download of the whole report
        rows = list(csv.DictReader(io.StringIO(downloads[f"{check}.csv"].decode())))
        assert [r["key"] for r in rows] == planted["keys"] and {r["check"] for r in rows} == {check}
    users = _frame(at, "keys_dup.core_users_email")
    assert list(users["patient"]) == [f"patient?q={k}" for k in manifest["planted"]["dup.core_users_email"]["keys"]]
    objects = _frame(at, "keys_orphan.storage_objects")
    assert list(objects["patient"]) == [f"patient?q={k.split('/')[0]}" for k in objects["key"]]

    # filters: severity info only, then the Firebase store only
    at.pills(key="dup_severity").set_value(["info"]).run(timeout=TIMEOUT)
    _ok(at)
    assert list(_frame(at, "dup_summary")["check"]) == ["orphan.storage_objects"]
    at.pills(key="dup_severity").set_value(["error", "warn", "info"])
    at.multiselect(key="dup_stores").set_value(["firebase"]).run(timeout=TIMEOUT)
    _ok(at)
    assert list(_frame(at, "dup_summary")["check"]) == ["orphan.supabase_documents_patient", "orphan.connections_patient"]
