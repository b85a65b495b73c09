-- what:   the connections a token check found, by id (never the token itself), soonest expiry first,
--         at most :limit rows (NULL: all of them)
-- store:  supabase
-- params: :ids (text[]) connection ids, :limit (int or NULL)
SELECT id::text AS id, patient_firebase_uid, doctor_firebase_uid, is_active, token_expires_at,
       created_at, used_at
FROM public.patient_doctor_connections
WHERE id = ANY(CAST(:ids AS uuid[]))
ORDER BY token_expires_at, id
LIMIT CAST(:limit AS int)
