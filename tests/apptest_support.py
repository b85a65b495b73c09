"""What the AppTest tests share: the text of everything a run rendered."""

from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest


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
