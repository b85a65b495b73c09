"""The hypothesis strategies the property tests share: any text a person can type or pass on a command
line, environment values, patient-search queries, and the health checks those tests suppress."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck
from hypothesis import strategies as hs

SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]


# any text a person (or a fuzzer) can type or pass on a command line: every plane, control characters,
# combining marks, right-to-left text; no lone surrogates (they cannot be encoded at all)
WEIRD = hs.text(hs.characters(exclude_categories=("Cs",)), max_size=60)


ENV_TEXT = hs.text(hs.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=80)
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
