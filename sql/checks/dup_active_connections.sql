-- what:   active, unexpired connections beyond the newest per (patient, doctor) where the doctor is
--         set (dup.active_connections, the sharing-token incident)
-- store:  supabase
-- params: none; key: the surplus connection's id
SELECT id::text AS key
FROM (
    SELECT id, row_number() OVER (
        PARTITION BY patient_firebase_uid, doctor_firebase_uid ORDER BY created_at DESC, id DESC) AS rn
    FROM public.patient_doctor_connections
    WHERE is_active AND token_expires_at > now() AND doctor_firebase_uid IS NOT NULL
) c
WHERE rn > 1
