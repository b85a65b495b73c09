"""Alert channels: the apprise URLs of ALERT_URLS, ALERT_URLS_ERROR / _WARN / _INFO / _DIGEST.

A URL carries tokens, so it is never shown, logged or stored: a channel is named by `label`
(scheme://host, the host only where it is a host name and not a token) and found again by `key`
(a digest of the URL) when the sender delivers an outbox message. `route` says which channels get
a severity (checks.md, "Watch and alerts"): error → ALERT_URLS + ALERT_URLS_ERROR, warn →
ALERT_URLS + ALERT_URLS_WARN, info → ALERT_URLS_INFO only; the digest → ALERT_URLS_DIGEST.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from lib.config import Settings, alert_url_secrets, is_host_name
from lib.config import split_urls as split

# the alert log of the dashboard itself: where alerts go when no channel is configured
LOG_CHANNEL = "dashboard://alert-log"
LOG_KEY = "log"
ROUTES: dict[str, tuple[str, ...]] = {
    "error": ("alert_urls", "alert_urls_error"),
    "warn": ("alert_urls", "alert_urls_warn"),
    "info": ("alert_urls_info",),
    "digest": ("alert_urls_digest",),
}
SETTINGS = ("alert_urls", "alert_urls_error", "alert_urls_warn", "alert_urls_info", "alert_urls_digest")


def quiet_apprise() -> None:
    """apprise logs what it tried, URLs included: nothing of it reaches our logs."""
    logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)


def label(url: str) -> str:
    """scheme://host of an apprise URL; the host only where it is a host name (slack:// and
    pagerduty:// put tokens there)."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.hostname if is_host_name(parts.hostname) else ''}"


def key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:32]


def kind(url: str) -> str:
    return urlsplit(url).scheme.lower()


def url_secrets(url: str) -> list[str]:
    return alert_url_secrets(url)


@dataclass(frozen=True)
class Channel:
    url: str  # never shown
    setting: str  # which setting named it (upper case)

    @property
    def label(self) -> str:
        return label(self.url)

    @property
    def key(self) -> str:
        return key(self.url)

    @property
    def kind(self) -> str:
        return kind(self.url)

    def __repr__(self) -> str:  # never the URL
        return f"Channel({self.label}, {self.setting})"


def configured(settings: Settings) -> list[Channel]:
    """Every configured channel once, in the order of the settings."""
    seen: dict[str, Channel] = {}
    for name in SETTINGS:
        val = getattr(settings, name)
        for url in split(val.get_secret_value()) if val is not None else []:
            seen.setdefault(url, Channel(url, name.upper()))
    return list(seen.values())


def route(settings: Settings, severity: str) -> list[Channel]:
    """The channels that get a message of `severity` (error, warn, info) or of the digest."""
    out: dict[str, Channel] = {}
    for name in ROUTES.get(severity, ()):
        val = getattr(settings, name)
        for url in split(val.get_secret_value()) if val is not None else []:
            out.setdefault(url, Channel(url, name.upper()))
    return list(out.values())


def by_key(settings: Settings) -> dict[str, Channel]:
    return {c.key: c for c in configured(settings)}


__all__ = ["LOG_CHANNEL", "LOG_KEY", "Channel", "by_key", "configured", "label", "route", "split", "url_secrets"]
