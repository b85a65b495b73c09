"""Stores: is each store configured and reachable, how fast, which version, how many rows, and
which recommended lookup indexes a SQL store lacks (lib.patient.indexes) with what that costs."""

import pandas as pd
import streamlit as st

from lib import web

web.page_header("Stores", "Each store the dashboard reads: reachable or not, latency, version and row counts.")
stores = web.get_stores()

if st.button("Refresh", key="refresh_stores", icon=":material/refresh:"):
    web.clear("stores")

status = web.ping(stores).or_stop()
up = tuple(n for n, p in status.items() if p["ok"])
counts = web.row_counts(stores, up).or_stop()
indexes = web.lookup_indexes(stores, up).or_stop()
checked = min(p["checked_at"] for p in status.values())
st.caption(f"As of {checked:%H:%M:%S} UTC (cached for 30 s; Refresh asks again).")

for col, (name, p) in zip(st.columns(len(status)), status.items(), strict=True):
    with col, st.container(border=True):
        st.subheader(web.STORE_LABELS[name])
        if not p["configured"]:
            st.info("Not configured", icon=":material/block:")
            continue
        if p["ok"]:
            st.success("Reachable", icon=":material/check_circle:")
        else:
            st.error(f"Down: {web.plain(p['error'])}", icon=":material/cancel:")
        latency = p["latency_ms"]
        st.metric("Latency", "—" if latency is None else f"{latency:,.0f} ms")
        st.caption(web.plain(p["version"]) or "version unknown")  # the store's own words
        for part, info in p.get("parts", {}).items():
            st.caption(
                f"{part}: {'up' if info['ok'] else 'down'}"
                + (f" ({info['latency_ms']:,.0f} ms)" if info["latency_ms"] is not None else "")
            )
        if name in counts:
            c = counts[name]
            if c["error"]:
                st.warning(f"Row counts unavailable: {web.plain(c['error'])}")
            rows = pd.DataFrame(
                {"table": list(c["counts"]), "rows": pd.array(list(c["counts"].values()), dtype="Int64"),
                 "counted": [web.count_note(c["how"].get(t)) for t in c["counts"]]}
            )
            st.dataframe(rows, hide_index=True, width="stretch")
            if c["how"]:
                st.caption(web.count_legend(name))
        if name in indexes:
            ix = indexes[name]
            if ix["error"]:
                st.warning(f"Recommended lookup indexes unknown: {web.plain(ix['error'])}")
            for m in ix["missing"] or []:
                needs = f" It needs {m['needs']}." if m["needs"] else ""
                st.warning(f"Missing recommended lookup index on {m['table']}: {m['cost']}.{needs}",
                           icon=":material/speed:")
                st.code(m["statement"], language="sql")
