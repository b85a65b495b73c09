-- what:   `demo --clean`: the Supabase constraints system.md expects (the sharing-token incident's fix applied, and
--         rag_chunks' foreign key), so that a clean demo has no finding at all.
-- store:  supabase (demo only)
-- params: none
ALTER TABLE public.patient_doctor_connections
    DROP CONSTRAINT patient_doctor_connections_patient_firebase_uid_doctor_fire_key;
ALTER TABLE public.patient_doctor_connections
    ADD CONSTRAINT patient_doctor_connections_access_token_key UNIQUE (access_token);
CREATE UNIQUE INDEX idx_patient_doctor_active_connection
    ON public.patient_doctor_connections (patient_firebase_uid, doctor_firebase_uid)
    WHERE is_active = true AND doctor_firebase_uid IS NOT NULL;
ALTER TABLE public.rag_chunks ADD CONSTRAINT rag_chunks_document_id_fkey
    FOREIGN KEY (document_id) REFERENCES public.documents (id) ON DELETE CASCADE;
