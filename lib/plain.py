"""Values from a store are data, never markup.

Streamlit renders Markdown (GitHub-flavoured, with its own `:color[…]` directives, `$math$` and
autolinks of bare URLs and emails) in titles, subheaders, captions, st.markdown, st.info /
warning / error / success, tab and expander labels; plotly renders a subset of HTML (`<a href>`,
`<b>`, `<br>`, entities) in titles, legends, axis labels and hover text. A patient named
`![px](http://host/pixel.png)` would otherwise make every viewer's browser fetch that image.

- `markdown(value)`: the text, on one line, with every ASCII punctuation character backslash-escaped
  (CommonMark lets any of them be escaped, and an escaped one is always the literal character)
  except where it cannot take part in any construct, so that a sentence stays readable:
  `, ; ? ! " ' / = % @ ^ { } ( )` anywhere (they only act next to a character that is always
  escaped: `![`, `](`, `[^`, `:name{`; an email autolink needs an unescaped `.` in its domain),
  except the `.` or `)` ending a leading `1.` / `1)` (a list); `. :` before a space or at the end; `_ -` between
  two letters or digits (an intraword `_` neither opens nor closes emphasis); `# + >` after the
  first character (they only act at the start of a line, and values are put on one line). Every
  other punctuation character is escaped, and an invisible WORD JOINER goes after `http`, `https`
  and `www` and before `@` (GFM links bare URLs and emails in the parsed text, where escapes no
  longer count). Shown, the value reads exactly as its text.
  lib.web.plain is this function for the pages.
- `chart(value)`: the text with `&`, `<` and `>` as HTML entities, for plotly.

Dataframe cells (st.dataframe), st.code and st.text show text as it is: they need neither.
"""

from __future__ import annotations

import re
import string
from typing import Any

_PUNCTUATION = frozenset(string.punctuation)  # !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
_INERT = frozenset(",;?!\"'/=%@^{}()")
_BEFORE_SPACE = frozenset(".:")
_INTRAWORD = frozenset("_-")
_NOT_FIRST = frozenset("#+>")
_LIST_START = re.compile(r"\s*\d{1,9}[.)]")
# Streamlit's GFM also links bare URLs and emails found in the text after parsing (escapes are gone
# by then): a WORD JOINER (U+2060, invisible) after http / https / www and before @ breaks them.
_AUTOLINK = re.compile(r"(?i)(\bhttps?|\bwww)(?=\\[:.])|(?<=[\w.+\-])(?=@)")
JOINER = "\u2060"
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def markdown(value: Any) -> str:
    """`value` as Markdown source that renders as exactly its text, on one line (None: "")."""
    if value is None:
        return ""
    text = " ".join(str(value).splitlines())  # a line break would let the next line start a block
    text = text.replace("\x00", "\ufffd")  # Markdown shows NUL as U+FFFD (CommonMark): say so here
    marker = _LIST_START.match(text)
    marker_end = marker.end() - 1 if marker else -1
    out = []
    for i, c in enumerate(text):
        if c not in _PUNCTUATION:
            out.append(c)
            continue
        before = text[i - 1] if i > 0 else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        inert = i != marker_end and (
                 c in _INERT
                 or (c in _BEFORE_SPACE and (after == "" or after.isspace()))
                 or (c in _INTRAWORD and before.isalnum() and after.isalnum())
                 or (c in _NOT_FIRST and text[:i].strip() != ""))
        out.append(c if inert else "\\" + c)
    return _AUTOLINK.sub(lambda m: (m.group(1) or "") + JOINER, "".join(out))


def chart(value: Any) -> str:
    """`value` as plotly text that renders as exactly its text (None: the empty string)."""
    if value is None:
        return ""
    return str(value).translate(_HTML)
