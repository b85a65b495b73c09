-- what:   active tokens by day of expiry, from :past_days days ago to :future_days days ahead,
--         split into already expired (still active: the sharing-token incident) and valid: the Tokens page's timeline
-- store:  supabase
-- params: :past_days (int), :future_days (int)
SELECT date_trunc('day', token_expires_at) AS day,
       (token_expires_at < now())          AS expired,
       count(*)                            AS tokens
FROM public.patient_doctor_connections
WHERE is_active
  AND token_expires_at >= now() - make_interval(days => :past_days)
  AND token_expires_at < now() + make_interval(days => :future_days)
GROUP BY 1, 2
ORDER BY 1, 2
