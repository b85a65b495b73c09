-- id:         deactivate_expired_tokens
-- title:      Deactivate expired tokens
-- what:       sets is_active = false on every connection whose access token has expired but that
--             is still active (the sharing-token incident's clean-up): an expired token must open nothing.
-- store:      supabase
-- resolves:   token.expired_active
-- blocked_by: none
-- verify:     token.expired_active
-- affects:    none
-- risk:       low: an UPDATE of one boolean on rows that can no longer be used; the patient
--             shares a new token when needed. Row locks only.
-- params:     none

-- step: deactivate the expired active connections
UPDATE public.patient_doctor_connections
SET is_active = false
WHERE is_active AND token_expires_at < now()
RETURNING id::text AS key, patient_firebase_uid, doctor_firebase_uid, token_expires_at
