-- what:   :n active sharing tokens that had days left expire now (token.expired_active one more each)
-- store:  supabase (benchmark harness and tests only)
-- params: :n
UPDATE public.patient_doctor_connections SET token_expires_at = now() - interval '1 minute'
WHERE id IN (SELECT id FROM public.patient_doctor_connections
             WHERE is_active AND token_expires_at > now() + interval '2 days'
             ORDER BY id LIMIT :n)
