"""The errors HealBridge Ops reports to people: each carries one clear sentence."""

from __future__ import annotations


class OpsError(Exception):
    """An error whose message is fit to show a user as it is (no secrets, no traceback)."""

    exit_code = 2


class ConfigError(OpsError):
    """The configuration is malformed or incomplete."""


class StoreUnavailable(OpsError):
    """A store could not be reached or answered with an error."""


class DemoNotRunning(OpsError):
    """Nothing is configured and the demo stores are not running."""


class NotFound(OpsError):
    exit_code = 4


def safe_message(exc: BaseException, secrets: list[str] | None = None) -> str:
    """One line about `exc` with every known secret removed."""
    if isinstance(exc, OpsError):
        text = str(exc)
    elif "canceling statement due to statement timeout" in str(exc):
        # the adapters name the setting that applied (lib.stores.postgres); a timeout that reaches
        # here came from elsewhere, so both are named
        text = ("a query ran past the statement timeout (STATEMENT_TIMEOUT_MS for the interactive reads, "
                "CHECK_STATEMENT_TIMEOUT_MS for the check run's whole-table reads)")
    else:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    for s in secrets or []:
        if s:
            text = text.replace(s, "•••")
    return text[:500]
