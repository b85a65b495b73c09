"""The vetted fixes: the one runner behind the Fixes page and `python -m lib fix`.

A fix is a reviewed SQL file in `sql/fixes/` (checks.md, "The vetted fixes"). Its header says what
it is (`id`, `title`, `what`, `store`, `resolves`, `blocked_by`, `verify`, `affects`, `risk`,
`params`, `option`); its body is a list of sections, each one statement, introduced by a marker line:

- `-- step: <title>`  a statement the fix runs, in order. The rows an INSERT / UPDATE / DELETE (or a
  `WITH … DELETE … INSERT`) touches count toward the fix's rows; its RETURNING rows are shown.
- `-- post: <title>`  a query whose rows are what the fix leaves wrong: it must return no row once the
  fix ran (its own post-condition, beside the `verify` checks).
- `-- each: <title>`  (validate_constraints) a query listing objects to handle one at a time, each
  with `violations_sql` (the rows that stand in the way) and `validate_sql` (the statement to run).

`verify` lists the check counts that must be 0 afterwards: `check.id` or `check.id[key glob]` (only
the keys matching the glob count, e.g. `constraint.missing[supabase.rag_chunks.*]`). `blocked_by`
lists the checks that must count 0 before the fix may run. Both are computed INSIDE the fix's own
transaction on its own store (the check's SQL file, or the catalog analysis of lib.checks.constraints
on the transaction's connection), so "after" sees the uncommitted change. Cross-store checks cannot
see it; a fix names those it may move under `affects` and they are shown, not counted.

The rules of checks.md, all enforced here, whoever calls:

- plan runs the statements in a transaction that is always rolled back; apply runs the same ones in
  one transaction with `lock_timeout` and `statement_timeout` set (SET LOCAL);
- both take `pg_try_advisory_xact_lock` for the fix first: a second one at the same time is refused
  "locked";
- the precondition (`blocked_by` counts 0; for `each`, no violating row) is checked inside that
  transaction: otherwise refused "blocked: <check id> = <count>" (for `each`, the constraint's key);
- verification afterwards, inside the transaction: every `verify` term and `post` query is 0, and
  the rows equal the count the person confirmed (when given); any failure rolls everything back;
- idempotence: when every `verify` term and `post` query is already 0, nothing runs: the outcome is
  "nothing to do", `applied` false, rows 0 (exit 0 on the command line);
- only the roles oncall and admin may apply (refused "role"); anybody may plan;
- the file that runs is the file whose sha256 is in `sql/fixes/REVIEWED`, read once: any other
  content is refused "checksum";
- every attempt, refusals included, is written to the ops database's `fix_audit` and to the access
  audit log (lib.audit) before anything runs (outcome "started"), in one transaction that also takes
  the attempt's session advisory lock on that connection; its end is another row of each (both are
  append-only). An attempt started with no end whose lock nobody holds (its process died) is marked
  "abandoned" by the next attempt or listing. The audit id (the start row's) is the run id that
  archive tables record;
- a reason is at most 2,000 characters (as the access audit log keeps): a longer one is refused
  with that sentence (its first 2,000 characters are recorded); an unknown fix id is echoed cut to
  80 characters;
- a multi-store fix (validate_constraints) runs one transaction per store and commits them one
  after the other once every store verified.

The package, one module a seam: `files` (the fix files, REVIEWED, listing, the constraint↔fix link),
`results` (what an attempt returns), `counting` (the probes inside the transaction), `audit_trail`
(fix_audit and the access audit log), `runner` (plan and apply), `overview` (the status of every fix).
"""

from lib.fixes.audit_trail import audit_log
from lib.fixes.files import (
    FIXES_DIR,
    REVIEWED_NAME,
    SEQUENCE,
    checksum_problems,
    constraint_fixes,
    list_fixes,
    load_fix,
    read_reviewed,
    shown,
)
from lib.fixes.overview import status
from lib.fixes.results import FixResult
from lib.fixes.runner import LOCK_NAMESPACE, apply, plan

__all__ = [
    "FIXES_DIR", "LOCK_NAMESPACE", "REVIEWED_NAME", "SEQUENCE", "FixResult", "apply", "audit_log",
    "checksum_problems", "constraint_fixes", "list_fixes", "load_fix", "plan", "read_reviewed", "shown", "status",
]
