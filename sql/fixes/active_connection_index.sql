-- id:         active_connection_index
-- title:      Partial unique index: one active connection per (patient, doctor)
-- what:       creates idx_patient_doctor_active_connection, UNIQUE (patient_firebase_uid,
--             doctor_firebase_uid) WHERE is_active AND doctor_firebase_uid IS NOT NULL (the sharing-token incident's
--             alternative design): the database, not the code, then prevents duplicate active
--             connections while a pair may still connect again with a new token.
-- store:      supabase
-- resolves:   dup.active_connections
-- blocked_by: dup.active_connections
-- verify:     none (the post query below: the index exists and is valid)
-- affects:    none
-- risk:       low: CREATE INDEX takes a SHARE lock (writes wait while it builds; lock_timeout
--             bounds the wait). An active but expired duplicate pair (token.expired_active) makes
--             the build fail and everything roll back: run deactivate_expired_tokens first.
-- params:     none

-- step: create the partial unique index
CREATE UNIQUE INDEX IF NOT EXISTS idx_patient_doctor_active_connection
    ON public.patient_doctor_connections (patient_firebase_uid, doctor_firebase_uid)
    WHERE is_active = true AND doctor_firebase_uid IS NOT NULL

-- post: the partial unique index is absent or invalid
SELECT 'supabase.patient_doctor_connections.idx_patient_doctor_active_connection' AS key
WHERE NOT EXISTS (
    SELECT 1
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relname = 'idx_patient_doctor_active_connection'
      AND i.indisunique AND i.indisvalid AND i.indpred IS NOT NULL
)
