-- id:         archive_orphan_rows
-- title:      Archive orphan rows (documents, session notes, appointments, prescriptions, medications)
-- what:       moves the rows of every core orphan.* check into archive tables of schema ops_archive
--             (same columns, plus archived_at, fix_id and fix_run_id = the audit log's id), with the
--             rows that hang off them: prescriptions of an archived appointment, medications of an
--             archived document or of no patient. Each row is copied and deleted by one statement,
--             children before parents (the NOT VALID keys still guard deletes). Appointments that
--             carry a patients.id are not orphans to archive but remap_appointment_patient_ids'
--             work: run the remap first, or they stay where they are.
-- store:      core
-- resolves:   orphan.documents_patient, orphan.session_notes_patient, orphan.appointments_patient,
--             orphan.prescriptions_appointment, orphan.medications_document
-- blocked_by: none
-- verify:     orphan.documents_patient, orphan.session_notes_patient, orphan.prescriptions_appointment,
--             orphan.medications_document (and the post query below)
-- affects:    dup.medications, sync.document_missing_in_core, sync.document_missing_in_supabase,
--             sync.prescription_missing_in_supabase
-- risk:       medium: rows leave the live tables (nothing is lost: ops_archive keeps every column).
--             A core document archived here while Supabase still has it shows up in
--             sync.document_missing_in_core. Row locks only.
-- params:     :run_id (bigint) the audit log id of this run, recorded in every archived row

-- step: the archive schema (outside public: the advisor lints look at public only)
CREATE SCHEMA IF NOT EXISTS ops_archive

-- step: archive table for prescriptions
CREATE TABLE IF NOT EXISTS ops_archive.prescriptions (
    LIKE public.prescriptions, archived_at timestamptz NOT NULL, fix_id text NOT NULL, fix_run_id bigint NOT NULL)

-- step: archive table for appointments
CREATE TABLE IF NOT EXISTS ops_archive.appointments (
    LIKE public.appointments, archived_at timestamptz NOT NULL, fix_id text NOT NULL, fix_run_id bigint NOT NULL)

-- step: archive table for medications
CREATE TABLE IF NOT EXISTS ops_archive.medications (
    LIKE public.medications, archived_at timestamptz NOT NULL, fix_id text NOT NULL, fix_run_id bigint NOT NULL)

-- step: archive table for documents
CREATE TABLE IF NOT EXISTS ops_archive.documents (
    LIKE public.documents, archived_at timestamptz NOT NULL, fix_id text NOT NULL, fix_run_id bigint NOT NULL)

-- step: archive table for session notes
CREATE TABLE IF NOT EXISTS ops_archive.session_notes (
    LIKE public.session_notes, archived_at timestamptz NOT NULL, fix_id text NOT NULL, fix_run_id bigint NOT NULL)

-- step: archive prescriptions of no appointment, or of an appointment that points nowhere
WITH gone AS (
    DELETE FROM public.prescriptions r
    WHERE NOT EXISTS (SELECT 1 FROM public.appointments a WHERE a.id = r.appointment_id)
       OR EXISTS (
           SELECT 1 FROM public.appointments a
           WHERE a.id = r.appointment_id
             AND NOT EXISTS (SELECT 1 FROM public.patients p WHERE p.user_id = a.patient_id)
             AND NOT EXISTS (SELECT 1 FROM public.patients p WHERE p.id = a.patient_id))
    RETURNING r.*
)
INSERT INTO ops_archive.prescriptions
SELECT g.*, now(), 'archive_orphan_rows', CAST(:run_id AS bigint) FROM gone g
RETURNING 'prescriptions' AS "table", id::text AS key

-- step: archive appointments whose patient_id is neither a user_id nor a patients.id
WITH gone AS (
    DELETE FROM public.appointments a
    WHERE NOT EXISTS (SELECT 1 FROM public.patients p WHERE p.user_id = a.patient_id)
      AND NOT EXISTS (SELECT 1 FROM public.patients p WHERE p.id = a.patient_id)
    RETURNING a.*
)
INSERT INTO ops_archive.appointments
SELECT g.*, now(), 'archive_orphan_rows', CAST(:run_id AS bigint) FROM gone g
RETURNING 'appointments' AS "table", id::text AS key

-- step: archive medications of no document, of an orphan document, or of no patient
WITH gone AS (
    DELETE FROM public.medications m
    WHERE (m.document_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM public.documents d
                           WHERE d.id = m.document_id
                             AND EXISTS (SELECT 1 FROM public.patients p WHERE p.id = d.patient_id)))
       OR NOT EXISTS (SELECT 1 FROM public.patients p WHERE p.id = m.patient_id)
    RETURNING m.*
)
INSERT INTO ops_archive.medications
SELECT g.*, now(), 'archive_orphan_rows', CAST(:run_id AS bigint) FROM gone g
RETURNING 'medications' AS "table", id::text AS key

-- step: archive documents whose patient_id is no patients.id (the deleted-patient outage)
WITH gone AS (
    DELETE FROM public.documents d
    WHERE NOT EXISTS (SELECT 1 FROM public.patients p WHERE p.id = d.patient_id)
    RETURNING d.*
)
INSERT INTO ops_archive.documents
SELECT g.*, now(), 'archive_orphan_rows', CAST(:run_id AS bigint) FROM gone g
RETURNING 'documents' AS "table", id::text AS key

-- step: archive session notes whose patient_id is no patients.id (the deleted-patient outage)
WITH gone AS (
    DELETE FROM public.session_notes n
    WHERE NOT EXISTS (SELECT 1 FROM public.patients p WHERE p.id = n.patient_id)
    RETURNING n.*
)
INSERT INTO ops_archive.session_notes
SELECT g.*, now(), 'archive_orphan_rows', CAST(:run_id AS bigint) FROM gone g
RETURNING 'session_notes' AS "table", id::text AS key

-- post: appointments pointing nowhere, and medications of no patient, still in place
SELECT 'appointments:' || a.id::text AS key
FROM public.appointments a
WHERE NOT EXISTS (SELECT 1 FROM public.patients p WHERE p.user_id = a.patient_id)
  AND NOT EXISTS (SELECT 1 FROM public.patients p WHERE p.id = a.patient_id)
UNION ALL
SELECT 'medications:' || m.id::text
FROM public.medications m
WHERE NOT EXISTS (SELECT 1 FROM public.patients p WHERE p.id = m.patient_id)
