-- what:   the connections of one token state (never the token itself): 'active', 'expiring_days'
--         (active, expiring within :days days) or 'never_used_active' (active, no doctor yet),
--         soonest expiry first, at most :limit rows
-- store:  supabase
-- params: :state (text), :days (int), :limit (int)
SELECT id::text AS id, patient_firebase_uid, doctor_firebase_uid, is_active, token_expires_at,
       created_at, used_at
FROM public.patient_doctor_connections
WHERE CASE CAST(:state AS text)
        WHEN 'active' THEN is_active AND token_expires_at >= now()
        WHEN 'expiring_days' THEN is_active AND token_expires_at >= now()
                                  AND token_expires_at < now() + make_interval(days => :days)
        WHEN 'never_used_active' THEN is_active AND token_expires_at >= now() AND doctor_firebase_uid IS NULL
        ELSE false
      END
ORDER BY token_expires_at, id
LIMIT :limit
