"""What an attempt returns: the `FixResult` (cli.md's JSON shape, the exit code), its steps and
the violations an `each` fix found; `_Stop`, which ends an attempt early (refused or failed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lib.roles import Actor

MAX_REASON = 2_000  # as the access audit log keeps (lib.audit.MAX_REASON)


@dataclass
class StepResult:
    store: str
    title: str
    rows: int | None  # None: a statement that changes no rows (DDL, DO, a listing)
    sample: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Violation:
    """A NOT VALID constraint (validate_constraints) and the rows that violate it."""

    key: str
    definition: str
    count: int
    sample: list[str]


@dataclass
class FixResult:
    fix: str
    title: str
    stores: tuple[str, ...]
    action: str  # plan | apply
    actor: Actor
    reason: str | None = None
    checksum: str | None = None
    applied: bool = False
    rows: int = 0
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    verify: dict[str, dict[str, int | None]] = field(default_factory=dict)
    refused: str | None = None
    error: str | None = None
    outcome: str = "started"
    steps: list[StepResult] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    also_affects: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, int] = field(default_factory=dict)  # what the runner read fresh (FIREBASE_PARAMS): how many
    audit_id: int | None = None
    audit_error: str | None = None
    duration_ms: float = 0.0
    reason_length: int = 0  # the reason's length as given (`reason` keeps at most MAX_REASON of it)

    @property
    def nothing_to_do(self) -> bool:
        return self.outcome == "nothing to do"

    def exit_code(self) -> int:
        """The command line's: 0 planned / applied / nothing to do, 3 refused, 1 failed."""
        if self.refused:
            return 3
        return 1 if self.error else 0

    def to_json(self) -> dict[str, Any]:
        """cli.md's shape (fix, store, action, applied, rows, before, after, refused, checksum)
        and more: outcome, error, verify, steps, violations, audit_id, who, role, reason."""
        return {
            "fix": self.fix,
            "store": ", ".join(self.stores),
            "action": self.action,
            "applied": self.applied,
            "rows": self.rows,
            "before": self.before,
            "after": self.after,
            "refused": self.refused,
            "checksum": self.checksum,
            "outcome": self.outcome,
            "error": self.error,
            "verify": self.verify,
            "steps": [{"store": s.store, "step": s.title, "rows": s.rows, "sample": s.sample} for s in self.steps],
            "violations": [{"constraint": v.key, "definition": v.definition, "count": v.count, "sample": v.sample}
                           for v in self.violations],
            "also_affects": self.also_affects,
            "params": self.params,
            **({"inputs": self.inputs} if self.inputs else {}),
            "audit_id": self.audit_id,
            **({"audit_error": self.audit_error} if self.audit_error else {}),
            "who": self.actor.who,
            "role": self.actor.role,
            "reason": self.reason,
            "duration_ms": self.duration_ms,
        }


class _Stop(Exception):
    """Ends an attempt early: refused (a reason of checks.md's list) or failed (an error)."""

    def __init__(self, refused: str | None = None, error: str | None = None) -> None:
        super().__init__(refused or error or "")
        self.refused, self.error = refused, error
