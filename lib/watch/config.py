"""The watcher's config file (WATCH_CONFIG, TOML): cadences per check or per area, and per-check
thresholds that make a change "worse" when crossed.

    [cadence]
    default = "5m"          # the whole run (else WATCH_INTERVAL_S)
    tokens = "1m"           # an area of lib.checks.ids
    "constraint.missing" = "1h"   # a check id (wins over its area)

    [thresholds]
    "token.expired_active" = 50

A duration is a number of seconds or a number with s, m, h or d. A mistake is one sentence naming
WATCH_CONFIG and the key, never the value.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lib.checks.ids import AREA_PAGE, BY_ID, CHECK_IDS
from lib.errors import ConfigError

if TYPE_CHECKING:
    from lib.config import Settings

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}


def duration_s(value: Any) -> float | None:
    """Seconds of "90", "30s", "5m", "1h", "1d" (or a number); None when it is not a duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value > 0 else None
    m = _DURATION.match(str(value))
    if not m:
        return None
    s = float(m.group(1)) * _UNIT[m.group(2)]
    return s if s > 0 else None


@dataclass
class WatchConfig:
    interval_s: float
    cadence: dict[str, float] = field(default_factory=dict)  # check id -> seconds, for those not on the default
    thresholds: dict[str, int] = field(default_factory=dict)
    incremental: bool = True  # each interval reads what changed (lib.checks.incremental); false: full runs

    def groups(self) -> dict[float, list[str] | None]:
        """cadence (s) -> the check ids run at it (None: every check, when none has its own)."""
        if not self.cadence:
            return {self.interval_s: None}
        out: dict[float, list[str]] = {}
        for cid in CHECK_IDS:
            out.setdefault(self.cadence.get(cid, self.interval_s), []).append(cid)
        return dict(out)


def load(settings: Settings, interval_s: float | None = None) -> WatchConfig:
    """The watch config of WATCH_CONFIG (none set: the defaults); `interval_s` overrides the default."""
    where = "WATCH_CONFIG"
    raw: dict[str, Any] = {}
    path = settings.watch_config
    if path is not None:
        try:
            with open(path, "rb") as fh:
                raw = tomllib.load(fh)
        except OSError:
            raise ConfigError(f"{where} names a file that cannot be read.") from None
        except tomllib.TOMLDecodeError:
            raise ConfigError(f"{where} is not valid TOML.") from None
    cad = raw.get("cadence", {})
    if not isinstance(cad, dict):
        raise ConfigError(f"{where}: [cadence] must be a table of durations.")
    default = settings.watch_interval_s
    if "default" in cad:
        d = duration_s(cad["default"])
        if d is None:
            raise ConfigError(f"{where}: the cadence of default is not a duration (such as 30s, 5m or 1h).")
        default = d
    if interval_s is not None:
        default = interval_s
    per: dict[str, float] = {}
    for name, value in cad.items():
        if name == "default":
            continue
        d = duration_s(value)
        if d is None:
            raise ConfigError(f"{where}: the cadence of {name} is not a duration (such as 30s, 5m or 1h).")
        if name in BY_ID:
            continue
        if name not in AREA_PAGE:
            raise ConfigError(f"{where}: {name} in [cadence] is neither a check id nor an area "
                              f"({', '.join(AREA_PAGE)}).")
        for c in BY_ID.values():
            if c.area == name:
                per[c.id] = d
    for name, value in cad.items():  # a check's own cadence wins over its area's
        if name in BY_ID:
            per[name] = duration_s(value) or default
    per = {c: s for c, s in per.items() if s != default}
    th = raw.get("thresholds", {})
    if not isinstance(th, dict):
        raise ConfigError(f"{where}: [thresholds] must be a table of counts.")
    thresholds: dict[str, int] = {}
    for name, value in th.items():
        if name not in BY_ID:
            raise ConfigError(f"{where}: {name} in [thresholds] is not a check id.")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{where}: the threshold of {name} must be a whole number of at least 1.")
        thresholds[name] = value
    incremental = raw.get("incremental", True)
    if not isinstance(incremental, bool):
        raise ConfigError(f"{where}: incremental must be true or false.")
    return WatchConfig(interval_s=default, cadence=per, thresholds=thresholds, incremental=incremental)


__all__ = ["WatchConfig", "duration_s", "load"]
