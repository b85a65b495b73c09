-- what:   the patients' patient-doctor connections with the state of each token, computed as the
--         token checks and duplicate checks count them: expired_active (token.expired_active),
--         expiring_soon within :hours (token.expiring_soon), unused_expired (token.unused_expired),
--         token_duplicate (dup.access_tokens: an older connection has the same token),
--         duplicate_active (dup.active_connections: a newer active connection to the same doctor),
--         active_unexpired (token.active_for_disabled_patient, when the patient is disabled in Firebase).
--         Only the token's last 4 characters leave the database
-- store:  supabase
-- params: :uids (text[]), :hours (int); the (patient_firebase_uid, doctor_firebase_uid) index and
--         the access_token index
SELECT c.id::text AS id, c.patient_firebase_uid, c.doctor_firebase_uid, right(c.access_token, 4) AS token_tail,
       c.token_expires_at, c.is_active, c.created_at, c.used_at,
       (c.is_active AND c.token_expires_at < now()) AS expired_active,
       (c.is_active AND c.token_expires_at >= now()
            AND c.token_expires_at < now() + make_interval(hours => :hours)) AS expiring_soon,
       (c.token_expires_at < now() AND c.doctor_firebase_uid IS NULL) AS unused_expired,
       (c.is_active AND (c.token_expires_at IS NULL OR c.token_expires_at >= now())) AS active_unexpired,
       (SELECT count(*) FROM public.patient_doctor_connections o WHERE o.access_token = c.access_token)
           AS token_shared_by,
       EXISTS (
           SELECT 1 FROM public.patient_doctor_connections o
           WHERE o.access_token = c.access_token AND (o.created_at, o.id) < (c.created_at, c.id)
       ) AS token_duplicate,
       (c.is_active AND c.token_expires_at > now() AND c.doctor_firebase_uid IS NOT NULL AND EXISTS (
           SELECT 1 FROM public.patient_doctor_connections o
           WHERE o.patient_firebase_uid = c.patient_firebase_uid
             AND o.doctor_firebase_uid = c.doctor_firebase_uid
             AND o.is_active AND o.token_expires_at > now()
             AND (o.created_at, o.id) > (c.created_at, c.id)
       )) AS duplicate_active
FROM public.patient_doctor_connections c
WHERE c.patient_firebase_uid = ANY(CAST(:uids AS text[]))
ORDER BY c.created_at DESC, c.id
