"""How the constraint drift engine names and spells things: the table part of every finding key
(`table`, or `schema.table` outside schema public) and identifiers as SQL needs them written."""

from __future__ import annotations

import re
from collections.abc import Iterable

_PLAIN_IDENT = re.compile(r"^[a-z_][a-z0-9_$]*$")


def table_label(schema: str, table: str) -> str:
    """`table` in schema public, else `schema.table` (the table part of every key)."""
    return table if schema == "public" else f"{schema}.{table}"


def quote_ident(name: str) -> str:
    """An identifier as SQL needs it written (camelCase gets double quotes)."""
    return name if _PLAIN_IDENT.match(name) else '"' + name.replace('"', '""') + '"'


def column_list(columns: Iterable[str]) -> str:
    return ", ".join(quote_ident(c) for c in columns)

