-- id:         revoke_disabled_patients_connections
-- title:      Revoke the doctor connections of patients disabled in Firebase Auth
-- what:       sets is_active = false on every active connection whose patient's Firebase Auth user
--             is disabled (token.active_for_disabled_patient): a closed or blocked account must open
--             nothing. The disabled patients are read fresh from Firebase Auth at plan and at apply
--             (never a cached listing) and passed as :disabled_uids; each changed row's previous
--             is_active is kept in ops_archive.revoked_connections first.
-- store:      supabase
-- resolves:   token.active_for_disabled_patient
-- blocked_by: none
-- verify:     none
-- affects:    token.expired_active, token.expiring_soon, dup.active_connections
-- risk:       low: an UPDATE of one boolean; the doctors lose access to a patient whose account is
--             switched off, which is the point. The token itself is never copied or shown.
--             Row locks only.
-- params:     :run_id (bigint) the audit log id of this run, recorded in every archived row;
--             :disabled_uids (text[]) the uids of the disabled Firebase Auth users, read by the runner

-- step: the archive schema (outside public: the advisor lints look at public only)
CREATE SCHEMA IF NOT EXISTS ops_archive

-- step: archive table for the revoked connections (what changes: is_active)
CREATE TABLE IF NOT EXISTS ops_archive.revoked_connections (
    id uuid NOT NULL, patient_firebase_uid text, is_active boolean, archived_at timestamptz NOT NULL,
    fix_id text NOT NULL, fix_run_id bigint NOT NULL)

-- step: archive, then deactivate, the active connections of the disabled patients
WITH target AS (
    SELECT c.id, c.patient_firebase_uid, c.is_active
    FROM public.patient_doctor_connections c
    WHERE c.is_active AND c.patient_firebase_uid = ANY (CAST(:disabled_uids AS text[]))
), archived AS (
    INSERT INTO ops_archive.revoked_connections
    SELECT t.id, t.patient_firebase_uid, t.is_active, now(), 'revoke_disabled_patients_connections',
           CAST(:run_id AS bigint)
    FROM target t
)
UPDATE public.patient_doctor_connections c
SET is_active = false
FROM target t
WHERE c.id = t.id
RETURNING c.id::text AS key, c.patient_firebase_uid, c.doctor_firebase_uid, c.token_expires_at

-- post: active connections of disabled patients left
SELECT c.id::text AS key
FROM public.patient_doctor_connections c
WHERE c.is_active AND c.patient_firebase_uid = ANY (CAST(:disabled_uids AS text[]))
