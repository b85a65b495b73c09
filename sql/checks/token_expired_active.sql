-- what:   connections still active whose token has expired (token.expired_active, the sharing-token incident)
-- store:  supabase
-- params: none; key: the connection id
SELECT id::text AS key
FROM public.patient_doctor_connections
WHERE is_active AND token_expires_at < now()
