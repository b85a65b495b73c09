"""HealBridge Ops: the library behind the dashboard and `python -m lib`."""
