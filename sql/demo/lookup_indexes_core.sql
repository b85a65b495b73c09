-- what:   the recommended lookup indexes of core (lib.patient.indexes lists them; the Stores page
--         names those a deployment lacks and what a lookup costs without them): users by email
--         trimmed and lower-cased, users by the phone's last 7 digits whatever its format, and
--         patients by name fragment (a pg_trgm trigram GIN index on the name as
--         sql/core/patient_by_name.sql compares it; skipped with a notice where the server has no
--         pg_trgm), and sync_jobs by (status, updated_at) for the patient view's pulse.sync_lag (the
--         check's own statement filtered by the patient's jobs). The dashboard never creates them
--         (it only reads); the demo and the benchmark's deployment have them. IF NOT EXISTS: a
--         reused data set gets them too
-- store:  core (demo and benchmark builders only)
-- params: none
CREATE INDEX IF NOT EXISTS users_email_lookup_idx ON users (lower(btrim(email)));
CREATE INDEX IF NOT EXISTS users_phone_tail_idx ON users (right(regexp_replace(phone, '\D', '', 'g'), 7));
CREATE INDEX IF NOT EXISTS sync_jobs_status_updated_idx ON sync_jobs (status, updated_at);
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
  CREATE INDEX IF NOT EXISTS patients_name_trgm_idx
    ON patients USING gin (lower(regexp_replace(full_name, '\s+', ' ', 'g')) gin_trgm_ops);
EXCEPTION WHEN undefined_file OR feature_not_supported OR insufficient_privilege THEN
  RAISE NOTICE 'pg_trgm is not available: no trigram index on patients';
END
$$;
