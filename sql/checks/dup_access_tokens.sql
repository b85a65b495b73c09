-- what:   connections sharing an access_token, every one but the oldest (dup.access_tokens)
-- store:  supabase
-- params: none; key: the surplus connection's id
SELECT id::text AS key
FROM (
    SELECT id, row_number() OVER (PARTITION BY access_token ORDER BY created_at, id) AS rn
    FROM public.patient_doctor_connections
) c
WHERE rn > 1
