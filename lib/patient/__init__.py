"""Patient lookup: one search box, one patient, every store.

A query (Firebase UID, email in any case, phone in any format, core user / patient id, a Supabase
id, or a name fragment) is classified (`classify`, lib.patient.query), then resolved to Firebase
UIDs by indexed lookups in every store at once (`search`, lib.patient.resolve). `load`
(lib.patient.read) then reads each patient as every store holds them, side by side, their data
across the sync points, and the findings of the checks that involve them (lib.patient.findings,
derived from the check definitions where it can be; the side by side and drift: lib.patient.drift).
`lookup` is search then load. The page's frames and figure are in lib.patient.tables.

A store that is down (or not configured) is reported as such in `down` while the others answer.
Bad input is never an error: it gets NOT_FOUND, TOO_SHORT or TOO_LONG.

This module is the package's API (what pages, the CLI, the bench and the tests import).
"""

from lib.patient.flag import AccessFlag, access_flag
from lib.patient.query import (
    MAX_CHARS,
    MAX_MATCHES,
    NOT_FOUND,
    PART_LABELS,
    PARTS,
    TOO_LONG,
    TOO_SHORT,
    Query,
    classify,
)
from lib.patient.read import Lookup, load, lookup
from lib.patient.resolve import Candidate, Search, search
from lib.patient.tables import (
    candidates_frame,
    comparison_styler,
    findings_frame,
    job_errors_frame,
    jobs_figure,
    section_frame,
)
from lib.patient.view import Finding, PatientView

__all__ = [
    "AccessFlag", "MAX_CHARS", "MAX_MATCHES", "NOT_FOUND", "PARTS", "PART_LABELS", "TOO_LONG", "TOO_SHORT", "Candidate", "Finding",
    "Lookup", "PatientView", "Query", "Search", "access_flag", "candidates_frame", "classify", "comparison_styler",
    "findings_frame", "job_errors_frame", "jobs_figure", "load", "lookup", "search", "section_frame",
]
