-- what:   active tokens that expire within :hours (token.expiring_soon)
-- store:  supabase
-- params: :hours (int, default 24); key: the connection id
SELECT id::text AS key
FROM public.patient_doctor_connections
WHERE is_active
  AND token_expires_at >= now()
  AND token_expires_at < now() + make_interval(hours => :hours)
