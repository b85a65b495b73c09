-- id:         deactivate_duplicate_connections
-- title:      Deactivate duplicate active connections
-- what:       keeps the newest active, unexpired connection per (patient, doctor) where the doctor
--             is set, and deactivates the others (the sharing-token incident, once the pair UNIQUE is gone); the
--             order is dup.active_connections' own (created_at, then id, newest first).
-- store:      supabase
-- resolves:   dup.active_connections
-- blocked_by: none
-- verify:     dup.active_connections
-- affects:    token.expiring_soon
-- risk:       low: the doctor keeps the newest connection to the same patient. Row locks only.
-- params:     none

-- step: deactivate every active connection but the newest per (patient, doctor)
UPDATE public.patient_doctor_connections c
SET is_active = false
FROM (
    SELECT id, row_number() OVER (
        PARTITION BY patient_firebase_uid, doctor_firebase_uid ORDER BY created_at DESC, id DESC) AS rn
    FROM public.patient_doctor_connections
    WHERE is_active AND token_expires_at > now() AND doctor_firebase_uid IS NOT NULL
) d
WHERE d.id = c.id AND d.rn > 1
RETURNING c.id::text AS key, c.patient_firebase_uid, c.doctor_firebase_uid, c.created_at
