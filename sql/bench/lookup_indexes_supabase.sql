-- what:   the indexes the patient lookup needs on a large Supabase project: auth.users by email,
--         trimmed and lower-cased and by the phone tail (sql/supabase/patient_by_*.sql), storage objects
--         by folder (patient_orphan_files.sql), rag_chunks by patient (patient_orphan_chunks.sql)
-- store:  supabase (benchmark builder only)
-- params: none
CREATE INDEX IF NOT EXISTS users_email_lookup_idx ON auth.users (lower(btrim(email)));
CREATE INDEX IF NOT EXISTS users_phone_tail_idx ON auth.users (right(regexp_replace(phone, '\D', '', 'g'), 7));
CREATE INDEX IF NOT EXISTS objects_folder_idx ON storage.objects (split_part(name, '/', 1));
CREATE INDEX IF NOT EXISTS rag_chunks_patient_id_idx ON public.rag_chunks (patient_id);
