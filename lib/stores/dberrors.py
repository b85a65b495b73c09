"""How the PostgreSQL adapters word a database error: one sentence, never the URL or its password,
naming the statement-timeout setting when that is what stopped a read."""

from __future__ import annotations

# which setting gives a read its statement timeout, and what for (named in the timeout's message)
INTERACTIVE_TIMEOUT = "STATEMENT_TIMEOUT_MS"
CHECK_TIMEOUT = "CHECK_STATEMENT_TIMEOUT_MS"
_TIMEOUT_USE = {INTERACTIVE_TIMEOUT: "the interactive reads", CHECK_TIMEOUT: "the check run's whole-table reads"}


def is_statement_timeout(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None) or exc
    return getattr(orig, "sqlstate", None) == "57014" and "statement timeout" in str(orig)


def describe_db_error(store: str, exc: BaseException, timeout: tuple[str | None, int] | None = None) -> str:
    """One sentence about a database error, without the URL or its password. `timeout`: the
    setting (None: a fixed budget) and the milliseconds of the read's statement timeout, named
    when that is what stopped it."""
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [""])[0]
    if "connection" in first.lower() and ("failed" in first.lower() or "refused" in first.lower()):
        return f"{store}: cannot connect to the database (is it running and reachable?)"
    if "canceling statement due to statement timeout" in first or is_statement_timeout(exc):
        if timeout is None:
            return f"{store}: a query ran past the statement timeout"
        setting, ms = timeout
        if setting is None:
            return f"{store}: a query ran past the statement timeout of {ms:,} ms"
        return (f"{store}: a query ran past the statement timeout of {ms:,} ms ({setting}, for "
                f"{_TIMEOUT_USE.get(setting, 'these reads')}); raise {setting} if the store is only slow")
    # psycopg messages quote the server's words; they never include the DSN's password.
    return f"{store}: {type(orig).__name__}: {first[:300]}"
