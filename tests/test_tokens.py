"""lib.tokens on the real demo Supabase: the report holds only the first rows of each state (what the
page shows) and `rows` reads a state's whole table, the CSV, in the same order."""

from __future__ import annotations

from typing import Any

import pytest

from lib import tokens


def test_the_report_holds_the_first_rows_and_rows_reads_the_whole_state(demo: Any, stores: Any) -> None:
    planted = demo.ensure()["planted"]
    keys = {c: planted[c]["keys"] for c in ("token.expired_active", "token.expiring_soon", "token.unused_expired")}
    sb = stores.supabase
    rep = tokens.report(sb, keys, shown=1)
    for s in rep["states"]:
        whole = tokens.rows(sb, s.id, keys)
        assert len(whole) == rep["listed"][s.id], s.id
        if s.check is not None:
            assert sorted(whole["id"]) == keys[s.check] and rep["counts"][s.id] == len(keys[s.check])
        else:
            assert len(whole) == min(rep["counts"][s.id], tokens.ROW_LIMIT)
        assert list(rep["rows"][s.id]["id"]) == list(whole["id"][:1]), s.id  # the first row, soonest expiry
        assert list(whole["token_expires_at"]) == sorted(whole["token_expires_at"])
    assert sum(len(tokens.rows(sb, s.id, keys)) > 1 for s in rep["states"]) >= 3, "the demo has too few tokens"
    assert len(tokens.rows(sb, "active", keys, limit=2)) == 2
    with pytest.raises(ValueError, match="not a token state"):
        tokens.rows(sb, "stolen", keys)
