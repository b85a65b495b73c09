-- what:   active, unexpired connections whose patient_firebase_uid is one of the given uids (the run's
--         disabled Firebase Auth users) (token.active_for_disabled_patient), pushed down to the
--         database: the count of all of them and the first :limit ids
-- store:  supabase
-- params: :uids (text[], the uids of the disabled Firebase Auth users), :limit (int)
SELECT c.id::text AS key, count(*) OVER () AS total
FROM public.patient_doctor_connections c
WHERE c.is_active
  AND (c.token_expires_at IS NULL OR c.token_expires_at >= now())
  AND c.patient_firebase_uid = ANY (CAST(:uids AS text[]))
ORDER BY c.id
LIMIT :limit
