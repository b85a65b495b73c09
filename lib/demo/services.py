"""Moved to lib.services (the embedded services supervisor); only lib/web.py still imports it here."""

from lib.services import EmbeddedServices as DemoServices  # moved to lib.services; re-export until lib/web is rewired

__all__ = ["DemoServices"]
