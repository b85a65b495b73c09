-- id:         rotate_duplicate_tokens
-- title:      Rotate access tokens shared by several connections
-- what:       in each group of connections sharing an access_token, every row but the oldest
--             (by created_at, then id, as dup.access_tokens orders them) gets a new random token
--             and is deactivated: no token opens two connections; the patient shares again.
-- store:      supabase
-- resolves:   dup.access_tokens
-- blocked_by: none
-- verify:     dup.access_tokens
-- affects:    dup.active_connections, token.expiring_soon
-- risk:       medium: the doctors of the rotated connections lose access until the patient shares
--             a new token. The new token is 64 hex characters from two gen_random_uuid() calls
--             and is never shown (RETURNING leaves it out). Row locks only.
-- params:     none

-- step: give every surplus connection a new random token and deactivate it
UPDATE public.patient_doctor_connections c
SET access_token = replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''),
    is_active = false
FROM (
    SELECT id, row_number() OVER (PARTITION BY access_token ORDER BY created_at, id) AS rn
    FROM public.patient_doctor_connections
) d
WHERE d.id = c.id AND d.rn > 1
RETURNING c.id::text AS key, c.patient_firebase_uid, c.doctor_firebase_uid, c.created_at
