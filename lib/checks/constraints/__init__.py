"""Constraint drift and schema advisor for the core and Supabase databases.

The constraints the backend expects are data, not code: `lib/checks/expected_constraints.toml`
lists them (and the definitions the system must not have). The engine reads the live catalog of
one store (`sql/catalog/*.sql`), compares it with that file and answers the seven check ids of the
"Constraints" area:

- constraint.missing      an expected constraint that no live one satisfies (key: expected name)
- constraint.unexpected   a forbidden definition that is present, as a constraint or a unique index
- constraint.mismatch     a live constraint under the expected name, or of the same kind on the
                          same columns (FK, PK, CHECK), that is defined otherwise (key: live name)
- constraint.not_valid    a live foreign key or check with convalidated = false
- advisor.unindexed_foreign_key  a foreign key (schema public) whose columns lead no index
- advisor.no_primary_key  a table of schema public without a primary key
- advisor.duplicate_index an index (schema public) with the same definition as another one

Everything runs in one read-only transaction of the store. The package's modules:

- `expected`  the data file read into `Expected` (`load_expected`, `DEFAULT_EXPECTED_FILE`)
- `catalog`   the live constraints, indexes and tables of a store (`read_catalog`)
- `compare`   the findings and drift notes (`analyse`, `constraint_findings`; the matching rules)
- `describe`  the Constraints page's view of a store (`describe_schema`)
- `names`     finding-key table labels and SQL identifier spelling (`table_label`, `quote_ident`)

This module re-exports the names callers outside the package use (each is defined in one of those);
anything else is imported from its own module.
"""

from lib.checks.constraints.catalog import read_catalog
from lib.checks.constraints.compare import CHECK_IDS, analyse, check_literals, constraint_findings
from lib.checks.constraints.describe import describe_schema
from lib.checks.constraints.expected import DEFAULT_EXPECTED_FILE, Expected, load_expected
from lib.checks.constraints.names import table_label

__all__ = [
    "CHECK_IDS",
    "DEFAULT_EXPECTED_FILE",
    "Expected",
    "analyse",
    "check_literals",
    "constraint_findings",
    "describe_schema",
    "load_expected",
    "read_catalog",
    "table_label",
]
