-- what:   how many connection tokens are in each state the Tokens page shows beside the token
--         checks: active (active and unexpired), expiring within :days days, active but never
--         used by a doctor, inactive, and the total
-- store:  supabase
-- params: :days (int, default 7)
SELECT count(*)                                                     AS total,
       count(*) FILTER (WHERE is_active AND token_expires_at >= now()) AS active,
       count(*) FILTER (WHERE is_active AND token_expires_at >= now()
                          AND token_expires_at < now() + make_interval(days => :days)) AS expiring_days,
       count(*) FILTER (WHERE is_active AND token_expires_at >= now()
                          AND doctor_firebase_uid IS NULL)          AS never_used_active,
       count(*) FILTER (WHERE NOT is_active)                        AS inactive
FROM public.patient_doctor_connections
