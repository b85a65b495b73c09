-- what:   expired tokens no doctor ever used (token.unused_expired)
-- store:  supabase
-- params: none; key: the connection id
SELECT id::text AS key
FROM public.patient_doctor_connections
WHERE token_expires_at < now() AND doctor_firebase_uid IS NULL
