-- what:   the recommended lookup indexes of Supabase (lib.patient.indexes lists them; the Stores
--         page names those a deployment lacks and what a lookup costs without them): auth.users by
--         email trimmed and lower-cased, by the phone tail and by metadata name fragment (a pg_trgm
--         trigram GIN index, sql/supabase/patient_by_*.sql; skipped with a notice where the server
--         has no pg_trgm), and for the patient view storage objects by folder
--         (patient_orphan_files.sql), rag_chunks by patient (patient_orphan_chunks.sql) and documents
--         by (status, created_at) (pulse.documents_unprocessed, filtered by the patient's documents)
--         and by the object name their file_url names (patient_orphan_files.sql: whether any document
--         names an object left over under the patient's folder)
-- store:  supabase (demo and benchmark builders only)
-- params: none
CREATE INDEX IF NOT EXISTS users_email_lookup_idx ON auth.users (lower(btrim(email)));
CREATE INDEX IF NOT EXISTS users_phone_tail_idx ON auth.users (right(regexp_replace(phone, '\D', '', 'g'), 7));
CREATE INDEX IF NOT EXISTS objects_folder_idx ON storage.objects (split_part(name, '/', 1));
CREATE INDEX IF NOT EXISTS rag_chunks_patient_id_idx ON public.rag_chunks (patient_id);
CREATE INDEX IF NOT EXISTS documents_status_created_idx ON public.documents (status, created_at);
CREATE INDEX IF NOT EXISTS documents_file_name_idx
    ON public.documents (((regexp_match(file_url, '/storage/v1/object/(public/)?documents/([^?#]+)'))[2]));
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
  CREATE INDEX IF NOT EXISTS users_name_trgm_idx
    ON auth.users USING gin (lower(regexp_replace(raw_user_meta_data ->> 'name', '\s+', ' ', 'g')) gin_trgm_ops);
EXCEPTION WHEN undefined_file OR feature_not_supported OR insufficient_privilege THEN
  RAISE NOTICE 'pg_trgm is not available: no trigram index on auth.users';
END
$$;
